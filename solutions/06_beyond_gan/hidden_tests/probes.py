"""Probes of 06_beyond_gan's hidden tests: the kernel side (see grading/probe_runtime.py). Each
calls the student's functions on the inputs the grader drew for this class run (images, pyramids,
logits, features, block positions, seeds) and returns what they gave; nothing here knows the
right answers (verdicts.py, in the grader, decides).

One mistake costs one task: Task 2's probe (reconstruct_from_pyramid, which may call Task 1's
upsample, downsample or laplacian_pyramid) lends Task 1 as data (answers.earlier): the calls
the solution's reconstruct_from_pyramid made on these inputs return the solution's outputs, so a
wrong Task 1 fails only its own verdict."""

import importlib.util
from functools import partial

import numpy as np

# Probes run in the student's kernel after the student's code, which may have patched the
# imported common.checks (to make a check pass): this module uses its own copy, loaded afresh
# from the read-only file.
_checks_spec = importlib.util.find_spec("common.checks")
checks = importlib.util.module_from_spec(_checks_spec)
_checks_spec.loader.exec_module(checks)


def _traced(function, *args):
    """function(*args) inside a tf.function, as demo mode's traced training step calls it:
    traced even when the kernel's code asked TensorFlow to run functions eagerly."""
    import tensorflow as tf

    eager = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(False)
    try:
        return tf.function(function)(*args)
    finally:
        tf.config.run_functions_eagerly(eager)


# ------------------------------------------------------------------ Task 1: laplacian_pyramid


def probe_test_laplacian_pyramid(answers, inputs):
    downsample, upsample = answers["downsample"], answers["upsample"]
    laplacian_pyramid = answers["laplacian_pyramid"]
    entries = {name: partial(downsample, images) for name, images in inputs["downsample"].items()}
    entries.update({name: partial(upsample, images)
                    for name, images in inputs["upsample"].items()})

    def pyramid(images, levels):
        levels_out = laplacian_pyramid(images, levels)
        return {"length": len(levels_out), **{str(k): v for k, v in enumerate(levels_out)}}

    for name, (images, levels) in inputs["laplacian_pyramid"].items():
        entries[name] = partial(pyramid, images, levels)
    return entries


# -------------------------------------------------------------- Task 2: reconstruct_from_pyramid


def probe_test_reconstruct_from_pyramid(answers, inputs):
    reconstruct_from_pyramid = answers["reconstruct_from_pyramid"]

    def entry(pyramid):
        def compute():
            with answers.earlier("upsample", "downsample", "laplacian_pyramid"):
                return reconstruct_from_pyramid(list(pyramid))
        return compute

    return {name: entry(pyramid) for name, pyramid in inputs.items()}


# --------------------------------------------------------------- Task 3: build_patch_discriminator

PD_SHAPES = "input and output shapes of build_patch_discriminator()"
PD_MIN = "smallest patch logit over 16 random draws of the weights"
PD_FAR = "change of the bottom-right logit [6, 6] when only the top-left 8 x 8 pixels change"
PD_NEAR = "change of the top-left logit [0, 0] when the top-left 8 x 8 candidate pixels change"
PD_CONDITION = "change of the top-left logit [0, 0] when the top-left 8 x 8 condition pixels change"
PD_TRAINABLE = "number of trainable weights"
PD_BLOCK = "change of every patch logit when one 8 x 8 block of one {} image changes"
PD_ORDER = "patch logits of the same pairs given in another order"


def probe_test_build_patch_discriminator(answers, inputs):
    model = answers["build_patch_discriminator"]()
    condition, candidate = inputs["condition"], inputs["candidate"]

    def shapes():
        given = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
        as_row = lambda shape: [-1 if d is None else int(d) for d in shape]  # noqa: E731
        return {"inputs": np.array([as_row(s) for s in given]),
                "output": np.array(as_row(model.output_shape))}

    def logits(c, x):
        return checks.to_numpy(model([c, x])).astype(np.float64)

    def flipped(which, image, row, column):
        """|logits after negating an 8 x 8 block of `which` - logits before|."""
        c, x = condition.copy(), candidate.copy()
        target = c if which == "condition" else x
        target[image, row:row + 8, column:column + 8] = -target[image, row:row + 8,
                                                              column:column + 8]
        return np.abs(logits(c, x) - logits(condition, candidate))

    def change(which, where):
        out = flipped(which, slice(None), 0, 0)
        if out.ndim != 4:
            return out.max()
        return out.reshape(out.shape[0], -1, out.shape[-1])[:, where].max()

    return {
        PD_SHAPES: shapes,
        PD_MIN: lambda: checks.redrawn_outputs(model, [condition, candidate],
                                               seed=inputs["redraw seed"]).min(),
        PD_FAR: {"candidate": partial(change, "candidate", 48),
                 "condition": partial(change, "condition", 48)},
        PD_NEAR: partial(change, "candidate", 0),
        PD_CONDITION: partial(change, "condition", 0),
        PD_TRAINABLE: lambda: len(model.trainable_variables),
        **{PD_BLOCK.format(which): partial(flipped, which, *inputs[f"{which} block"])
           for which in ("candidate", "condition")},
        PD_ORDER: lambda: {"given": logits(condition, candidate),
                           "reordered": logits(condition[inputs["order"]],
                                               candidate[inputs["order"]])},
    }


# --------------------------------------------------------------- Task 4: pix2pix_generator_loss

PL_TRACED = "pix2pix_generator_loss inside a tf.function, with l1_weight=2.5"


def probe_test_pix2pix_generator_loss(answers, inputs):
    loss = answers["pix2pix_generator_loss"]
    entries = {name: partial(loss, *args) for name, args in inputs["eager"].items()}
    entries[PL_TRACED] = partial(_traced, loss, *inputs["traced"])
    return entries


# --------------------------------------------------------------- Task 5: cycle_consistency_loss


def probe_test_cycle_consistency_loss(answers, inputs):
    loss = answers["cycle_consistency_loss"]
    return {name: partial(loss, *args) for name, args in inputs.items()}


# ------------------------------------------------------------------------------ Task 6: adain

AD_GRADIENT = "gradient of sum(adain(features) * weights) with respect to the features"
AD_TRACED = "adain inside a tf.function, of (3, 5, 4, 6) features"


def probe_test_adain(answers, inputs):
    adain = answers["adain"]
    entries = {name: partial(adain, *args) for name, args in inputs["eager"].items()}

    def gradient():
        import tensorflow as tf

        (features, scale, bias), weights = inputs["gradient"], inputs["gradient weights"]
        variable = tf.Variable(features)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.cast(adain(variable, scale, bias), tf.float32) * weights)
        grad = tape.gradient(total, variable)
        return np.full(features.shape, np.nan, np.float32) if grad is None else grad

    entries[AD_GRADIENT] = gradient
    entries[AD_TRACED] = partial(_traced, adain, *inputs["traced"])
    return entries


# ------------------------------------------------------------------ Task 7: design_translator


def probe_test_design_translator(answers, inputs):
    """The design as data (the generator's configuration and its learning rate), never a number
    it reached: the grader trains it itself (trials.py)."""
    generator, learning_rate = answers["design_translator"]()
    return {"generator": generator.to_json(), "learning_rate": float(learning_rate)}
