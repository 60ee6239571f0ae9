"""Verdicts of 04_gan's hidden tests: the grader side (see grading/verdicts.py). `probe_inputs`
draws each class run's probe inputs from its seed (logits, latent codes, images, the tiny probe
networks' weights and seeds); each verdict checks at least what the visible checks of its cell
check, against the solution's record on the same inputs (`ref`) or values computed here from the
inputs. Every test has cases drawn from the seed, so a record made for one class run fails
another's. Only NumPy, common.checks and common.design's rules are used here; the design task's
samples come from the grader's own training of the design (trials.py)."""

import numpy as np

from common import checks, design
from grading.verdicts import trial_outcome

from .probes import (ATTRIBUTES, CD, CD_BIG, CD_FLOW, CD_ONE, CD_ORDER, CD_ZERO, CG, CG3, CG_FLOW,
                     CG_LARGE, CG_ONE, CG_ORDER, CG_ZERO, COMPLETED, DAMAGED, DIS, DIS_FLOW,
                     DIS_INPUT_GRAD, DIS_LOGITS, DIS_ORDER, EXACT, FILLED, FIT, FROZEN, FROZEN_D,
                     FROZEN_G, GEN, GEN5, GEN5_IMAGES, GEN_FLOW, GEN_IMAGES, GEN_LARGE,
                     GEN_ORDER, LOG_KEYS, OTHER, STEP2)


# Task 4's train_step calls the losses of Tasks 1 and 2a (its probe lends correct ones:
# answers.earlier).
# Task 9's check trains the design with the GAN class of Task 4 (and so the losses of Tasks 1 and
# 2a, whose checks it runs too) and counts modes with Task 5's modes_covered (its verdict uses
# none of them: the grader trains and measures the design itself).
DEPENDS = {"test_gan_train_step": ("test_discriminator_loss", "test_generator_loss"),
           "test_design_gan": ("test_discriminator_loss", "test_generator_loss",
                               "test_gan_train_step", "test_modes_covered")}

# --------------------------------------------------------------------------- helpers


def _value(got, name, hint=None):
    """got[name]; when computing it (or the entry it belongs to, name's prefix up to a '/')
    raised, the record's own message (it names only the kind of error) plus `hint`, except
    for NotImplementedError (an unsolved task needs no hint)."""
    parts = name.split("/")
    for end in range(len(parts), 0, -1):
        entry = "/".join(parts[:end])
        error = got.error(entry)
        if error:
            try:
                got[entry]
            except AssertionError as failure:
                message = str(failure)
            else:
                message = f"{entry}: your code raised an exception"
            if hint and not error.startswith("NotImplementedError"):
                message = f"{message}. Hint: {hint}"
            raise AssertionError(message)
    return got[name]


def _check_scalar_losses(got, ref, expectations):
    """expectations: [(name, rtol, atol, hint)]; each a scalar close to the reference."""
    for name, rtol, atol, hint in expectations:
        value = _value(got, name)
        checks.check_shape(value, (), name=name,
                           hint="return one scalar: the mean over the batch, not per-example "
                                "losses.")
        checks.check_finite(value, name=name, hint=hint)
        checks.check_close(value, ref[name], rtol=rtol, atol=atol, name=name, hint=hint)


def _check_gradients(got, ref, prefix, labels, hint):
    for label in labels:
        name = f"{prefix}/{label}"
        reaches = _value(got, f"{name}/reaches the logits",
                         "compute the loss with TensorFlow ops so gradients can flow")
        if not bool(reaches):
            raise AssertionError(
                f"{name}: expected a gradient with respect to the {label}; got none. Hint: stay "
                "in TensorFlow ops (no NumPy, .numpy() or float()) so the gradient reaches the "
                "logits.")
        checks.check_close(got[f"{name}/value"], ref[f"{name}/value"], rtol=0.0, atol=1e-5,
                           name=name, hint=hint)


def _check_io(got, ref, name, hint):
    shape, expected = _value(got, name, hint), ref[name]
    shown = "(" + ", ".join("None" if d < 0 else str(d) for d in expected) + ")"
    if (shape.ndim != 1 or len(shape) != len(expected)
            or any(e >= 0 and a != e for a, e in zip(shape.tolist(), expected.tolist()))):
        got_shown = "(" + ", ".join("None" if d < 0 else str(d)
                                    for d in np.ravel(shape).tolist()) + ")"
        raise AssertionError(f"{name}: expected {shown}; got {got_shown}. Hint: {hint}")


def _check_flow(got, name, hint=None):
    """common.checks.check_trainable on recorded gradients."""
    paths = _value(got, f"{name}/variables")
    has = got[f"{name}/has a gradient"].astype(bool)
    largest = got[f"{name}/largest |gradient|"]
    if paths.size == 0:
        raise AssertionError(f"{name}: expected trainable variables; got none. Hint: "
                             + (hint or "is every layer frozen?"))
    if not has.all():
        raise AssertionError(
            f"{name}: expected a gradient for every trainable variable; got no gradient for "
            f"{', '.join(paths[~has].tolist())}. Hint: "
            + (hint or "is that layer connected to the output, or is a value cut off with "
                       "numpy() or stop_gradient?"))
    zero = ~(largest > 0)
    if zero.any():
        raise AssertionError(
            f"{name}: expected nonzero gradients for every trainable variable; got all-zero "
            f"gradients for {', '.join(paths[zero].tolist())}. Hint: "
            + (hint or "a saturated activation, a constant output, or an argmax/round in the "
                       "graph stops learning."))


def _check_order(got, name, outputs, order, hint):
    """got[name], the outputs for the inputs taken in `order`, is outputs[order]."""
    checks.check_close(_value(got, name, hint), np.asarray(outputs)[order], rtol=1e-4, atol=1e-5,
                       name=name, hint=hint)


def _rng(seed, k):
    return np.random.default_rng([seed, k])


def _seed(rng):
    return int(rng.integers(0, 2**31 - 1))


def _logits(rng, *sizes):
    return [rng.normal(0, 3, size=(n, 1)).astype(np.float32) for n in sizes]


def _order(rng, n):
    """A permutation of range(n) that moves something."""
    while True:
        order = rng.permutation(n)
        if (order != np.arange(n)).any():
            return order


def _column(*values):
    return np.array(values, np.float32).reshape(-1, 1)


def _decode(kernel, codes):
    """The probe generator's images tanh(codes @ kernel) as (N, 28, 28, 1)."""
    return np.tanh(np.asarray(codes, np.float64) @ np.asarray(kernel, np.float64)).reshape(
        -1, 28, 28, 1)


# --------------------------------------------------------------------------- Task 1

_D_CONFIDENT = "discriminator_loss when D is sure and right (real logits +20, +15; fake -20, -15)"
_D_HALF = "discriminator_loss at logits 0 (D = 1/2 everywhere), batches of 4 and 4"
_D_BATCHES = "discriminator_loss at logits 0 with batches of 16 and 2"
_D_MIXED = "discriminator_loss on mixed logits (3 real, 4 fake)"
_D_RANDOM = "discriminator_loss on 7 real and 5 fake random logits of shape (N, 1)"
_D_FLAT = "discriminator_loss on the same random logits shaped (N,)"
_D_EXTREME = "discriminator_loss for real logit -100 and fake logit +100"
_D_GRADIENT = "gradient of discriminator_loss on the random logits"


def _discriminator_loss_inputs(rng):
    real, fake = _logits(rng, 7, 5)
    return {
        "losses": {
            _D_CONFIDENT: (_column(20.0, 15.0), _column(-20.0, -15.0)),
            _D_HALF: (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32)),
            _D_BATCHES: (np.zeros((16, 1), np.float32), np.zeros((2, 1), np.float32)),
            _D_MIXED: (_column(2.0, -1.0, 0.5), _column(-3.0, 1.0, 0.0, 4.0)),
            _D_RANDOM: (real, fake),
            _D_FLAT: (real[:, 0], fake[:, 0]),
            _D_EXTREME: (_column(-100.0), _column(100.0)),
        },
        "gradients": {_D_GRADIENT: {"real logits": real, "fake logits": fake}},
    }


def verdict_test_discriminator_loss(got, ref, inputs):
    each = "CE(l, 1) = softplus(-l) for a real logit and CE(l, 0) = softplus(l) for a fake one, "
    _check_scalar_losses(got, ref, [
        (_D_CONFIDENT, 0.0, 1e-3,
         "real images have label 1 and fakes label 0; a large loss here means the labels are "
         "swapped."),
        (_D_HALF, 1e-4, 0.0,
         "at D = 1/2 each term is log 2, so the loss is 2 log 2 = 1.386. A much larger value "
         "means the logits were read as probabilities (use from_logits=True); log 2 = 0.693 "
         "means one mean over both batches, or half the sum (the average of the two terms, as "
         "in d2l), instead of the sum of two means; a sigmoid applied before a from_logits loss "
         "also changes it."),
        (_D_BATCHES, 1e-4, 0.0, "take the mean over each batch, not the sum."),
        (_D_MIXED, 1e-4, 0.0, each + "each averaged over its batch."),
        (_D_RANDOM, 1e-4, 0.0, each + "each averaged over its batch."),
        (_D_FLAT, 1e-4, 0.0,
         "logits shaped (N,) must give the same loss as (N, 1): average over every logit of "
         "each batch."),
        (_D_EXTREME, 0.0, 0.01,
         "for real logit -100 and fake logit +100 the loss is 100 + 100 = 200 (finite): compute "
         "it stably from the logits (from_logits=True or softplus), not as log(sigmoid(l))."),
    ])
    _check_gradients(got, ref, _D_GRADIENT, ("real logits", "fake logits"),
                     "d loss / d real logit is -(1 - sigmoid(l)) / N_real and d loss / d fake "
                     "logit is sigmoid(l) / N_fake: the sum of the two batch means.")


# --------------------------------------------------------------------------- Task 2a

_G_FOOLED = "generator_loss when D is fooled (fake logits +20 and +12)"
_G_HALF = "generator_loss at logit 0 (D(G(z)) = 1/2), batch of 8"
_G_MIXED = "generator_loss on mixed logits (-3, 1, 0.5)"
_G_RANDOM = "generator_loss on 9 random logits of shape (N, 1)"
_G_FLAT = "generator_loss on the same random logits shaped (N,)"
_G_EXTREME = "generator_loss at logit -100"
_G_GRADIENT = "gradient of generator_loss on the random logits"


def _generator_loss_inputs(rng):
    (fake,) = _logits(rng, 9)
    return {
        "losses": {
            _G_FOOLED: (_column(20.0, 12.0),),
            _G_HALF: (np.zeros((8, 1), np.float32),),
            _G_MIXED: (_column(-3.0, 1.0, 0.5),),
            _G_RANDOM: (fake,),
            _G_FLAT: (fake[:, 0],),
            _G_EXTREME: (_column(-100.0),),
        },
        "gradients": {_G_GRADIENT: {"fake logits": fake}},
    }


def verdict_test_generator_loss(got, ref, inputs):
    one = "the loss of one fake with logit l is softplus(-l) = -log sigmoid(l), averaged."
    _check_scalar_losses(got, ref, [
        (_G_FOOLED, 0.0, 1e-3,
         "the generator wants its fakes labelled 1 (real), so a fooled discriminator must give "
         "a loss near 0; a large value means the target is 0."),
        (_G_HALF, 1e-4, 0.0,
         "-log(1/2) = 0.693. A much larger value means the logits were read as probabilities "
         "(use from_logits=True); a multiple of 0.693 means a sum instead of a mean."),
        (_G_MIXED, 1e-4, 0.0, one),
        (_G_RANDOM, 1e-4, 0.0, one),
        (_G_FLAT, 1e-4, 0.0, "logits shaped (N,) must work too: " + one),
        (_G_EXTREME, 0.0, 0.01,
         "generator_loss at logit -100 is softplus(100) = 100 (finite): compute it stably from "
         "the logits, not as -log(sigmoid(l))."),
    ])
    _check_gradients(got, ref, _G_GRADIENT, ("fake logits",),
                     "d loss / d logit is -(1 - sigmoid(l)) / N: the batch mean of "
                     "softplus(-l).")


# --------------------------------------------------------------------------- Task 2b

_M_HALF = "minimax_generator_loss at logit 0 (D(G(z)) = 1/2), batch of 6"
_M_REJECTED = "minimax_generator_loss when D rejects the fakes (logits -20, -15)"
_M_LARGE = "minimax_generator_loss at logits 50 and 10"
_M_RANDOM = "minimax_generator_loss on 9 random logits"
_M_GRADIENT = "gradient of minimax_generator_loss on the random logits"


def _minimax_inputs(rng):
    (fake,) = _logits(rng, 9)
    return {
        "losses": {
            _M_HALF: (np.zeros((6, 1), np.float32),),
            _M_REJECTED: (_column(-20.0, -15.0),),
            _M_LARGE: (_column(50.0, 10.0),),
            _M_RANDOM: (fake,),
        },
        "gradients": {_M_GRADIENT: {"fake logits": fake}},
    }


def verdict_test_minimax_generator_loss(got, ref, inputs):
    _check_scalar_losses(got, ref, [
        (_M_HALF, 1e-4, 0.0,
         "log(1 - 1/2) = -0.693: the value is negative; +0.693 is a sign error (the minimax "
         "loss is log(1 - D), not -log(1 - D))."),
        (_M_REJECTED, 0.0, 1e-4,
         "log(1 - D(G(z))) tends to 0 when D(G(z)) tends to 0; a large negative value means "
         "log D(G(z)) was used instead of log(1 - D(G(z)))."),
        (_M_LARGE, 1e-4, 0.0,
         "1 - sigmoid(50) is 0 in float32 and its log is -inf; use the identity "
         "log(1 - sigmoid(l)) = -softplus(l), and take the batch mean."),
        (_M_RANDOM, 1e-4, 0.0, "the batch mean of -softplus(l)."),
    ])
    _check_gradients(got, ref, _M_GRADIENT, ("fake logits",),
                     "d loss / d logit is -sigmoid(l) / N: the batch mean of -softplus(l).")


# --------------------------------------------------------------------------- Task 3

_ORDER_HINT = ("each output must depend on its own input only, whatever else is in the batch "
               "(no batch statistics at inference: training=False).")


def _build_networks_inputs(rng):
    return {"weights seed": _seed(rng), "projection seed": _seed(rng),
            "z": rng.normal(size=(8, 16)).astype(np.float32),
            "z5": rng.normal(size=(3, 5)).astype(np.float32),
            "x": rng.uniform(-1, 1, size=(8, 28, 28, 1)).astype(np.float32),
            "order": _order(rng, 8)}


def verdict_test_build_networks(got, ref, inputs):
    up = ("start from keras.Input(shape=(latent_dim,)) and up-sample 7 -> 14 -> 28 with two "
          "Conv2DTranspose(strides=2, padding='same'), one channel at the end.")
    _check_io(got, ref, f"{GEN} input shape", up)
    _check_io(got, ref, f"{GEN} output shape", up)
    images = _value(got, GEN_IMAGES, up)
    checks.check_shape(images, ref[GEN_IMAGES].shape, name=GEN_IMAGES, hint=up)
    checks.check_range(images, -1.0, 1.0, name=GEN_IMAGES,
                       hint="images live in [-1, 1]: end the generator with a tanh activation.")
    checks.check_range(_value(got, GEN_LARGE), -1.0, 1.0, name=GEN_LARGE,
                       hint="a linear last layer is unbounded; end the generator with tanh.")
    if not float(np.min(images)) < 0.0:
        raise AssertionError(
            f"{GEN_IMAGES}: expected values on both sides of 0 (tanh covers [-1, 1]); got none "
            "below 0. Hint: a sigmoid or ReLU at the end only gives [0, 1]; the data are scaled "
            "to [-1, 1], so use tanh.")
    _check_order(got, GEN_ORDER, images, inputs["order"], _ORDER_HINT)
    _check_flow(got, GEN_FLOW)
    _check_io(got, ref, f"{GEN5} input shape",
              "build the input from the latent_dim argument: keras.Input(shape=(latent_dim,)).")
    images5 = _value(got, GEN5_IMAGES)
    checks.check_shape(images5, (3, 28, 28, 1), name=GEN5_IMAGES,
                       hint="the generator must work for any latent_dim.")
    checks.check_range(images5, -1.0, 1.0, name=GEN5_IMAGES,
                       hint="end the generator with tanh.")

    head = "one logit per image: end with Flatten() and Dense(1)."
    _check_io(got, ref, f"{DIS} input shape", "take images keras.Input(shape=(28, 28, 1)).")
    _check_io(got, ref, f"{DIS} output shape", head)
    logits = _value(got, DIS_LOGITS, head)
    checks.check_shape(logits, (28, 1), name=DIS_LOGITS, hint=head)
    checks.check_finite(logits, name=DIS_LOGITS)
    if not (logits.min() < 0.0 or logits.max() > 1.0):
        raise AssertionError(
            f"{DIS_LOGITS}: expected logits (any real number, some outside [0, 1]); got all "
            f"{len(logits)} in [{logits.min():.3f}, {logits.max():.3f}]. Hint: remove the "
            "sigmoid from the last layer; the losses apply it themselves (from_logits=True).")
    _check_order(got, DIS_ORDER, logits[:8], inputs["order"], _ORDER_HINT)
    _check_flow(got, DIS_FLOW)
    if not float(_value(got, DIS_INPUT_GRAD)) > 0.0:
        raise AssertionError(
            f"{DIS_INPUT_GRAD}: expected a nonzero gradient from the logit back to the input "
            "image; got none. Hint: keep the discriminator differentiable in its input (no "
            "numpy(), argmax or stop_gradient): the generator learns through it.")


# --------------------------------------------------------------------------- Task 4

_STEP_HINT = ("apply each network's gradients with its own optimiser (d_optimizer for the "
              "discriminator, g_optimizer for the generator) and only to that network's "
              "trainable_variables.")
_GRADED_ALONE = (" (These checks run your train_step with correct discriminator_loss and "
                 "generator_loss, so a mistake in Task 1 or 2a does not show here: look at "
                 "train_step itself.)")


def _gan_inputs(rng):
    return {"seed": _seed(rng),
            "generator bias": rng.normal(0, 0.5, size=4).astype(np.float32),
            "discriminator kernel": rng.normal(0, 0.5, size=(4, 1)).astype(np.float32),
            "discriminator bias": rng.normal(0, 0.1, size=1).astype(np.float32),
            "real batch": rng.normal(size=(4, 2, 2, 1)).astype(np.float32),
            "fit images": rng.normal(size=(10, 2, 2, 1)).astype(np.float32)}


def _step_value(got, name):
    """got[name]; an error of train_step is reported with the test cell's hint."""
    return _value(got, name, _STEP_HINT)


def verdict_test_gan_train_step(got, ref, inputs):
    for attribute, expected in [("latent_dim", 3), ("d_steps", 2)]:
        value = _step_value(got, f"{ATTRIBUTES}/{attribute}")
        if value.dtype.kind not in "iuf" or value.shape != () or float(value) != expected:
            raise AssertionError(
                f"GAN.{attribute}: expected {expected}; got {value.item()}. Hint: keep the "
                "constructor's arguments as attributes of the same names.")
    for attribute in ("generator", "discriminator", "d_optimizer", "g_optimizer"):
        if not bool(_step_value(got, f"{ATTRIBUTES}/{attribute} is set")):
            raise AssertionError(f"GAN.{attribute}: expected it set; got None or missing. Hint: "
                                 "keep the arguments of __init__ and compile as attributes.")

    keys = set(_step_value(got, f"{STEP2}/log keys").tolist())
    missing = set(LOG_KEYS) - keys
    if missing:
        raise AssertionError(
            f"train_step's logs: expected keys d_loss, g_loss, D(x), D(G(z)); got logs without "
            f"{', '.join(sorted(missing))}. Hint: create keras.metrics.Mean trackers with "
            "those names and return {m.name: m.result() for m in self.metrics}.")
    steps = (int(_step_value(got, f"{STEP2}/d_optimizer.iterations")),
             int(_step_value(got, f"{STEP2}/g_optimizer.iterations")))
    if steps != (2, 1):
        raise AssertionError(
            f"optimiser steps after one batch with d_steps=2: expected d_optimizer 2 and "
            f"g_optimizer 1; got {steps[0]} and {steps[1]}. Hint: loop `for _ in "
            "range(self.d_steps)` around the discriminator step, then make one generator step, "
            "each optimiser applied once per step.")

    generator_change = "largest change of the generator's weights"
    discriminator_change = "largest change of the discriminator's weights"
    if float(_step_value(got, f"{FROZEN_G}/{generator_change}")) != 0.0:
        raise AssertionError(
            "with g_optimizer's learning rate 0 the generator's weights changed. Hint: the "
            "discriminator step must update only the discriminator, and only g_optimizer may "
            "update the generator.")
    if not float(_step_value(got, f"{FROZEN_G}/{discriminator_change}")) > 0.0:
        raise AssertionError(
            "with d_optimizer's learning rate 0.1 the discriminator's weights did not move. "
            "Hint: apply the gradients of discriminator_loss to "
            "self.discriminator.trainable_variables with self.d_optimizer.")
    if float(_step_value(got, f"{FROZEN_D}/{discriminator_change}")) != 0.0:
        raise AssertionError(
            "with d_optimizer's learning rate 0 the discriminator's weights changed. Hint: in "
            "the generator step take gradients only with respect to "
            "self.generator.trainable_variables and apply them with self.g_optimizer; the "
            "discriminator stays frozen.")
    if not float(_step_value(got, f"{FROZEN_D}/{generator_change}")) > 0.0:
        raise AssertionError(
            "with g_optimizer's learning rate 0.1 the generator's weights did not move. Hint: "
            "apply the gradients of generator_loss to self.generator.trainable_variables with "
            "self.g_optimizer.")

    given = {"discriminator weights before": np.concatenate(
                 [inputs["discriminator kernel"].ravel(), inputs["discriminator bias"]]),
             "generator bias before": inputs["generator bias"]}
    for part, expected in given.items():
        checks.check_close(_step_value(got, f"{EXACT}/{part}"), expected,
                           rtol=0.0, atol=1e-6, name=f"{EXACT}: {part}",
                           hint="GAN(...) and compile(...) must keep the networks they are "
                                "given, weights unchanged.")
    checks.check_close(
        _step_value(got, f"{EXACT}/discriminator weights after"),
        ref[f"{EXACT}/discriminator weights after"], rtol=1e-4, atol=1e-5,
        name="discriminator weights after one step (SGD, learning rate 0.1)",
        hint="the discriminator step descends the gradient of "
             "discriminator_loss(D(real_images), D(G(z))), not of the generator's loss."
             + _GRADED_ALONE)
    checks.check_close(
        _step_value(got, f"{EXACT}/generator bias after"), ref[f"{EXACT}/generator bias after"],
        rtol=1e-4, atol=1e-5, name="generator bias after one step (SGD, learning rate 0.2)",
        hint="the generator step descends generator_loss(D(G(z))) computed with the "
             "discriminator as updated by this batch's discriminator step(s), not from the "
             "TensorFlow tutorial's single forward pass for both networks." + _GRADED_ALONE)

    for key in LOG_KEYS:
        name = f"{EXACT}/logs/{key}"
        if name not in got.values:
            raise AssertionError(f"{EXACT}: expected a logged value for {key}; got none. Hint: "
                                 "return {m.name: m.result() for m in self.metrics}.")
        checks.check_close(_step_value(got, name), ref[name], rtol=0.0, atol=1e-4,
                           name=f"logged {key} after {EXACT}",
                           hint="d_loss and g_loss are this batch's losses; D(x) and D(G(z)) "
                                "are mean probabilities, the sigmoid of the logits, averaged.")

    fit_hint = ("batches may have any size (here 4, 4 and 2): use tf.shape(real_images)[0], "
                "not a fixed batch size, and only TensorFlow ops in train_step.")
    missing = set(LOG_KEYS) - set(_value(got, f"{FIT}/history keys", fit_hint).tolist())
    if missing:
        raise AssertionError(f"{FIT}: expected d_loss, g_loss, D(x) and D(G(z)) in the "
                             f"history; got a history without {', '.join(sorted(missing))}. "
                             "Hint: return their trackers from the metrics property.")
    steps = (int(got[f"{FIT}/d_optimizer.iterations"]), int(got[f"{FIT}/g_optimizer.iterations"]))
    if steps != (6, 3):
        raise AssertionError(
            f"{FIT}: expected 6 discriminator and 3 generator optimiser steps; got {steps[0]} "
            f"and {steps[1]}. Hint: d_steps discriminator steps and one generator step per "
            "batch, whatever the batch size.")


# --------------------------------------------------------------------------- Task 4b

_LA_MIXED = "latent_arithmetic on 3, 2 and 4 random codes of size 5"
_LA_ONE = "latent_arithmetic on one code in each set"
_LA_WIDE = "latent_arithmetic on 10, 7 and 1 random codes of size 64"
_LA_CANCEL = "latent_arithmetic(a, a, c) (must be mean(c))"
_LA_HINTS = {
    _LA_MIXED: "mean(codes_a) - mean(codes_b) + mean(codes_c), each mean over its own rows "
               "(axis 0): sums instead of means grow with the number of rows; subtract b and "
               "add c.",
    _LA_ONE: "with one row in each set the result is a - b + c: check the signs.",
    _LA_WIDE: "the sets may have different numbers of rows (here 10, 7 and 1): average each "
              "over axis 0 before combining them.",
    _LA_CANCEL: "a - a cancels, leaving mean(codes_c).",
}


def _latent_arithmetic_inputs(rng):
    a, b, c = (rng.normal(size=(n, 5)).astype(np.float32) for n in (3, 2, 4))
    wide = tuple(rng.normal(size=(n, 64)).astype(np.float32) for n in (10, 7, 1))
    return {_LA_MIXED: (a, b, c), _LA_ONE: (a[:1], b[1:], c[2:3]), _LA_WIDE: wide,
            _LA_CANCEL: (a, a, c)}


def verdict_test_latent_arithmetic(got, ref, inputs):
    for name, hint in _LA_HINTS.items():
        value = _value(got, name, hint)
        codes_a, codes_b, codes_c = (np.asarray(c, np.float64) for c in inputs[name])
        expected = codes_a.mean(axis=0) - codes_b.mean(axis=0) + codes_c.mean(axis=0)
        checks.check_shape(value, expected.shape, name=name,
                           hint="return one code with no batch axis, shape (latent_dim,): take "
                                "each mean over axis 0 without keepdims, not over the latent axis.")
        checks.check_close(value, expected, rtol=1e-5, atol=1e-5, name=name, hint=hint)


# --------------------------------------------------------------------------- Task 5


def _ring_centers(modes=8, radius=2.0):
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def _toy_ring(n, rng, modes=8, radius=2.0, std=0.05):
    component = rng.integers(modes, size=n)
    return (_ring_centers(modes, radius)[component]
            + rng.normal(0.0, std, size=(n, 2))).astype(np.float32)


_MODES_CASES = {
    "modes_covered(samples, centers, radius=0.3) for 100 samples: 50% near mode 0, 30% near "
    "mode 3, 1% near mode 5, 19% far away": (
        "count centres, not samples; a mode needs at least min_fraction of ALL samples within "
        "the radius (1% counts when min_fraction is 0.01), and far-away samples belong to no "
        "mode."),
    "modes_covered of those samples with radius=0.3, min_fraction=0.05": (
        "only modes 0 and 3 (50% and 30%) count; the 1% mode does not. Compare each centre's "
        "share of all samples with min_fraction."),
    "modes_covered of those samples with radius=0.05 (each sample 0.1 from its centre)": (
        "no sample is close enough: compare the Euclidean distance (not its square) with the "
        "radius."),
    "modes_covered of 4,000 samples of the real ring, radius=0.5": (
        "samples of the real ring cover all 8 modes."),
    "modes_covered of 2 points 0.6 from mode 0 and one at the origin, radius=0.5": (
        "points 0.6 away are outside radius 0.5; compare the Euclidean distance, not the "
        "squared distance, with the radius."),
    "modes_covered of those 3 points, radius=0.7, min_fraction=0.5": (
        "2 of 3 samples within 0.7 of mode 0 is 67% >= 50%, so one mode."),
    "modes_covered of 200 ring samples as a float64 array, arguments by position": (
        "modes_covered(samples, centers, radius, min_fraction) takes NumPy arrays of any float "
        "dtype; samples of the real ring cover all 8 modes."),
    "modes_covered of 1 sample near mode 2 and 99 far away, radius=0.5, min_fraction=0.05": (
        "1 sample of 100 near a mode is 1% of ALL samples, below min_fraction 0.05: divide by "
        "the number of samples N, not by the number of samples near some mode."),
}
_MODES_SCATTERED_HINT = (
    "for each centre, the share of ALL samples whose Euclidean distance to it is at most the "
    "radius; count the centres whose share is at least min_fraction.")


def _scattered_case(rng, index):
    """(name, (args, kwargs)): samples around 20 centres on a grid of spacing 1, some holding
    at least min_fraction of all samples within the radius and the others fewer, plus samples
    far from every centre."""
    cells = rng.permutation(36)
    grid = np.stack([cells % 6, cells // 6], axis=1).astype(np.float64) + rng.uniform(-5, 5, 2)
    centers, empty = grid[:20], grid[20:]
    radius = float(np.round(rng.uniform(0.25, 0.4), 2))
    threshold = int(rng.integers(2, 6))
    covered = int(rng.integers(0, 21))
    counts = np.concatenate([rng.integers(threshold, threshold + 5, size=covered),
                             rng.integers(0, threshold, size=20 - covered)])[rng.permutation(20)]

    def around(points, counts, reach):
        at = np.repeat(points, counts, axis=0)
        angle = rng.uniform(0, 2 * np.pi, len(at))
        distance = reach * np.sqrt(rng.uniform(0, 1, len(at)))
        return at + distance[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    far = around(empty, rng.integers(1, 4, size=len(empty)), 0.3)  # >= 0.7 from every centre
    samples = np.concatenate([around(centers, counts, 0.8 * radius), far])[
        rng.permutation(int(counts.sum()) + len(far))]
    min_fraction = float((threshold - 0.5) / len(samples))
    dtype = np.float32 if index % 2 else np.float64
    samples, centers = samples.astype(dtype), centers.astype(dtype)
    name = (f"modes_covered of {len(samples)} samples around 20 scattered centres, "
            f"radius={radius:g}, min_fraction={min_fraction:.5f} (scattered case {index})")
    if index % 2:
        return name, ((samples, centers, radius, min_fraction), {})
    return name, ((samples, centers), {"radius": radius, "min_fraction": min_fraction})


def _modes_covered_inputs(rng):
    centers = _ring_centers(8, 2.0)
    offset = np.array([0.1, 0.0], np.float32)
    samples = np.concatenate([
        np.repeat(centers[[0]] + offset, 50, axis=0), np.repeat(centers[[3]] - offset, 30, axis=0),
        centers[[5]] + offset, np.repeat([[6.0, 6.0]], 19, axis=0)]).astype(np.float32)
    ring = _toy_ring(4000, rng)
    near = np.array([[2.0, 0.6], [2.0, 0.6], [0.0, 0.0]], np.float32)
    lonely = np.concatenate([centers[[2]], np.repeat([[7.0, -7.0]], 99, axis=0)]).astype(
        np.float32)
    calls = [((samples, centers), {"radius": 0.3}),
             ((samples, centers), {"radius": 0.3, "min_fraction": 0.05}),
             ((samples, centers), {"radius": 0.05}),
             ((ring, centers), {"radius": 0.5}),
             ((near, centers), {"radius": 0.5}),
             ((near, centers), {"radius": 0.7, "min_fraction": 0.5}),
             ((ring[:200].astype(np.float64), centers, 0.5, 0.01), {}),
             ((lonely, centers), {"radius": 0.5, "min_fraction": 0.05})]
    cases = dict(zip(_MODES_CASES, calls))
    cases.update(_scattered_case(rng, index) for index in range(1, 5))
    return cases


def verdict_test_modes_covered(got, ref, inputs):
    for name in inputs:
        hint = _MODES_CASES.get(name, _MODES_SCATTERED_HINT)
        value = _value(got, f"{name}/value", hint)
        if not bool(got[f"{name}/is an int"]):
            raise AssertionError(
                f"{name}: expected an int (a count of modes); got {got[f'{name}/type'].item()} "
                f"{np.array2string(value, threshold=10)}. Hint: count the centres, e.g. "
                "int(np.sum(...)).")
        expected = int(ref[f"{name}/value"])
        if value.shape != () or int(value) != expected:
            raise AssertionError(f"{name}: expected {expected}; got {value.item()}. Hint: {hint}")


# --------------------------------------------------------------------------- Task 6


def _conditional_inputs(rng):
    return {"weights seed": _seed(rng), "projection seed": _seed(rng),
            "z": rng.normal(size=(4, 8)).astype(np.float32),
            "x": rng.uniform(-1, 1, size=(4, 28, 28, 1)).astype(np.float32),
            "z3": rng.normal(size=(3, 5)).astype(np.float32),
            "order": _order(rng, 4)}


def verdict_test_conditional_networks(got, ref, inputs):
    as_zero = _value(got, CG_ZERO, "inputs [z, labels], output images (N, 28, 28, 1).")
    checks.check_shape(as_zero, (4, 28, 28, 1), name=CG_ZERO,
                       hint="inputs [z, labels], output images (N, 28, 28, 1).")
    checks.check_range(as_zero, -1.0, 1.0, name=CG_ZERO,
                       hint="end with tanh, as the DCGAN generator.")
    if not as_zero.min() < 0.0:
        raise AssertionError(
            f"{CG_ZERO}: expected values on both sides of 0; got none below 0. Hint: images "
            "live in [-1, 1]; end with tanh, not sigmoid or ReLU.")
    as_one = _value(got, CG_ONE)
    checks.check_shape(as_one, as_zero.shape, name=CG_ONE)
    if not np.abs(as_zero - as_one).max() > 1e-6:
        raise AssertionError(
            f"{CG}: expected different images for labels 0 and 1 with the same z; got "
            "identical ones. Hint: the label must enter the network, e.g. concatenate "
            "Embedding(num_classes, ...)(labels) with z.")
    checks.check_range(_value(got, CG_LARGE), -1.0, 1.0, name=CG_LARGE,
                       hint="a linear last layer is unbounded; end with tanh.")
    _check_order(got, CG_ORDER, as_zero, inputs["order"], _ORDER_HINT)
    _check_flow(got, CG_FLOW)
    images3 = _value(got, CG3, "the generator must work for any latent_dim and num_classes.")
    checks.check_shape(images3, (3, 28, 28, 1), name=CG3,
                       hint="the generator must work for any latent_dim and num_classes.")
    checks.check_range(images3, -1.0, 1.0, name=CG3, hint="end with tanh.")

    logit_zero = _value(got, CD_ZERO, "one logit per image: end with Dense(1).")
    checks.check_shape(logit_zero, (4, 1), name=CD_ZERO,
                       hint="one logit per image: end with Dense(1).")
    logit_one = _value(got, CD_ONE)
    checks.check_shape(logit_one, (4, 1), name=CD_ONE, hint="one logit per image.")
    if not np.abs(logit_zero - logit_one).max() > 1e-6:
        raise AssertionError(
            f"{CD}: expected different logits for labels 0 and 1 with the same images; got "
            "identical ones. Hint: feed the label in, e.g. as an embedded 28 x 28 plane "
            "concatenated with the image.")
    _check_order(got, CD_ORDER, logit_zero, inputs["order"], _ORDER_HINT)
    _check_flow(got, CD_FLOW)
    outputs = _value(got, CD_BIG)
    checks.check_finite(outputs, name=CD_BIG)
    if not (outputs.min() < 0.0 or outputs.max() > 1.0):
        raise AssertionError(
            f"{CD_BIG}: expected logits (any real number, some outside [0, 1]); got all in "
            f"[{outputs.min():.3f}, {outputs.max():.3f}]. Hint: output logits, not "
            "probabilities: no sigmoid on the last layer.")


# --------------------------------------------------------------------------- Task 7


def _inpaint_inputs(rng):
    """A generator tanh(z @ kernel) and 3 images it gives exactly, rows 10-27 missing. Their
    codes z are drawn around the start inpaint(seed=...) takes (within 1.6 in each coordinate,
    so that 30 steps reach them: the solution's fill error stays below about 0.09 of the 0.15
    allowed) and far enough from it that not optimising fails (a fill error of at least 0.3).
    The codes are not among the inputs: the verdict recovers them from the known pixels."""
    kernel = rng.normal(0, 0.5, size=(4, 784)).astype(np.float32)
    seed = _seed(rng)
    start = np.random.default_rng(seed).normal(size=(3, 4))
    mask = np.ones((3, 28, 28, 1), np.float32)
    mask[:, 10:] = 0.0
    hole = mask == 0
    while True:
        step = rng.normal(0, 0.8, size=(3, 4))
        truth = _decode(kernel, start + step).astype(np.float32)
        if np.abs(step).max() <= 1.6 and np.abs(_decode(kernel, start) - truth)[hole].mean() >= 0.3:
            break
    return {"kernel": kernel, "seed": seed, "mask": mask,
            "damaged": np.where(hole, -1.0, truth).astype(np.float32),
            "other damaged": np.where(hole, rng.uniform(-1, 1, size=truth.shape),
                                      truth).astype(np.float32),
            "constant bias": rng.uniform(-0.9, 0.9, size=784).astype(np.float32)}


def _recovered_truth(kernel, damaged, mask):
    """The images the generator tanh(z @ kernel) gives for the codes whose images agree with
    `damaged` on its known pixels: z from least squares on atanh of the known pixels."""
    kernel = np.asarray(kernel, np.float64)
    codes = []
    for image, known in zip(damaged.reshape(len(damaged), -1), mask.reshape(len(mask), -1) == 1):
        use = known & (np.abs(image) < 0.999)
        code, *_ = np.linalg.lstsq(kernel[:, use].T, np.arctanh(image[use].astype(np.float64)),
                                   rcond=None)
        codes.append(code)
    truth = _decode(kernel, np.stack(codes))
    known = mask == 1
    if not np.abs(truth - damaged)[known].max() < 1e-4:
        raise RuntimeError("the inpainting probe's images are not the generator's")
    return truth


def verdict_test_inpaint(got, ref, inputs):
    damaged, mask = inputs["damaged"], inputs["mask"]
    truth = _recovered_truth(inputs["kernel"], damaged, mask)
    hole = mask == 0
    completed = _value(got, COMPLETED)
    checks.check_shape(completed, (3, 28, 28, 1), name=COMPLETED,
                       hint="return one completed image per damaged image.")
    checks.check_close(got[DAMAGED], damaged, rtol=0.0, atol=1e-5, name=DAMAGED,
                       hint="the grader's inputs changed in your kernel: do not modify numpy, "
                            "keras or the inputs of inpaint.")
    checks.check_close(completed[~hole], got[DAMAGED][~hole], rtol=0.0, atol=1e-6,
                       name="known pixels after inpainting",
                       hint="known pixels (mask 1) must be returned unchanged: blend "
                            "mask * damaged + (1 - mask) * G(z), not G(z) everywhere.")
    filled = _value(got, FILLED)
    checks.check_shape(filled, (3, 28, 28, 1), name=FILLED,
                       hint="return one completed image per damaged image.")
    constant = np.tanh(inputs["constant bias"].astype(np.float64)).reshape(28, 28, 1)
    checks.check_close(filled[hole], np.broadcast_to(constant, filled.shape)[hole],
                       rtol=0.0, atol=1e-5,
                       name="missing pixels when G(z) is the same image for every z",
                       hint="missing pixels (mask 0) must come from the generator: "
                            "(1 - mask) * G(z). Is the blend the wrong way round, or the mask "
                            "read as 1 = missing?")
    fill_error = float(np.abs(completed.astype(np.float64) - truth)[hole].mean())
    if not fill_error < 0.15:
        raise AssertionError(
            "inpaint: expected the missing pixels within 0.15 on average of the image the "
            "generator can reproduce exactly (a random z gives about 0.55); got off by "
            f"{fill_error:.3f}. Hint: optimise z "
            "with Adam(learning_rate) for `steps` steps on the error over the known pixels, and "
            "use the optimised z for the output.")
    other = _value(got, OTHER)
    checks.check_shape(other, completed.shape, name=OTHER)
    if not np.allclose(other, completed, atol=1e-4):
        raise AssertionError(
            f"{OTHER}: expected the same result as with -1 in the missing pixels (within "
            f"1e-4); got a difference of up to {np.abs(other - completed).max():.3g}. Hint: the "
            "data loss "
            "must use the known pixels only (multiply the error by the mask), and z must start "
            "from np.random.default_rng(seed).")
    change = float(_value(got, FROZEN))
    if change != 0.0:
        raise AssertionError(
            f"{FROZEN}: expected 0 (the generator stays frozen); got {change:.3g}. Hint: "
            "optimise z only: pass [z] to the optimiser, not generator.trainable_variables.")
    checks.check_dtype(completed, "float32", name=COMPLETED,
                       hint="return float32 images, e.g. the .numpy() of a float32 tensor.")


# --------------------------------------------------------------------------- Task 8

_NL_EXACT = ("nearest_latent for 3 images whose known pixels are G(z) of three pool codes and "
             "whose missing pixels come from three other codes, pool of 40 codes")
_NL_NOISY = ("nearest_latent for 2 images: G(z) of two pool codes plus noise of 0.01 on the "
             "known pixels, the bottom half missing and set to 1, pool of 150 codes")
_NL_ONE = "nearest_latent for 1 image with a single known pixel row, pool of 20 codes"
_NL_HINT = ("compare each image's known pixels (mask 1) only, with every decoded pool code, and "
            "keep the code with the smallest loss (argmin); return the codes, pool[index]. Decode "
            "the pool with generator(pool, training=False): the probe's generator has batch "
            "normalisation, which with training=True uses the pool's own statistics and draws "
            "other images.")


def _nearest_latent_inputs(rng):
    kernel = rng.normal(0, 0.5, size=(4, 784)).astype(np.float32)

    pool = rng.normal(size=(40, 4)).astype(np.float32)
    images = _decode(kernel, pool)
    picked = rng.permutation(40)[:6]
    mask = np.ones((3, 28, 28, 1), np.float32)
    mask[0, 12:] = 0.0
    mask[1, 5:23, 3:25] = 0.0
    mask[2, :, 9:] = 0.0
    damaged = np.where(mask == 1, images[picked[:3]], images[picked[3:]]).astype(np.float32)

    big_pool = rng.normal(size=(150, 4)).astype(np.float32)
    half = np.ones((2, 28, 28, 1), np.float32)
    half[:, 14:] = 0.0
    noisy = (_decode(kernel, big_pool[rng.permutation(150)[:2]])
             + rng.normal(0, 0.01, size=(2, 28, 28, 1)))
    noisy = np.where(half == 1, noisy, 1.0).astype(np.float32)

    small_pool = rng.normal(size=(20, 4)).astype(np.float32)
    row = np.zeros((1, 28, 28, 1), np.float32)
    row[:, int(rng.integers(28))] = 1.0
    single = np.where(row == 1, _decode(kernel, small_pool[[int(rng.integers(20))]]),
                      -1.0).astype(np.float32)
    offset = rng.normal(0, 3.0, size=784).astype(np.float32)  # the probe generator's batch norm
    return {"kernel": kernel, "offset": offset,
            "cases": {_NL_EXACT: (damaged, mask, pool), _NL_NOISY: (noisy, half, big_pool),
                      _NL_ONE: (single, row, small_pool)}}


def verdict_test_nearest_latent(got, ref, inputs):
    for name, (damaged, _, pool) in inputs["cases"].items():
        chosen = _value(got, name, _NL_HINT)
        checks.check_shape(chosen, (len(damaged), pool.shape[1]), name=name,
                           hint="return the chosen codes themselves, one row of the pool per "
                                "damaged image (pool[index], not the index).")
        checks.check_close(chosen, ref[name], rtol=0.0, atol=1e-6, name=name, hint=_NL_HINT)


# --------------------------------------------------------------------------- inputs


# --------------------------------------------------------------------------- Task 9


def _design_inputs(rng):
    return {"latent_dim": design.GAN_LATENT_DIM,
            "grader_only": {"seed": np.asarray(rng.integers(2**31), np.int64)}}


def design_outcome(got, inputs) -> dict:
    """{"shares", "covered", "on_mode", "measure"}: each of the 8 modes' share of the samples of
    the grader's training of the design (got.trial) within design.GAN_RADIUS of its centre, the
    modes holding at least 1% of them, the share of samples on some mode, and the coverage (the
    target is on it): the share on a mode counting at most design.GAN_MODE_CAP per mode."""
    samples = np.asarray(got.trial["samples"], np.float64)
    if samples.shape != (design.GAN_SAMPLES, 2) or not np.all(np.isfinite(samples)):
        raise AssertionError(f"the trained generator's {design.GAN_SAMPLES} samples were not "
                             f"finite points of shape ({design.GAN_SAMPLES}, 2)")
    distances = np.linalg.norm(samples[:, None, :] - _ring_centers()[None], axis=-1)
    near = distances <= design.GAN_RADIUS
    shares = near.mean(axis=0)
    return {"shares": shares, "covered": int(np.sum(shares >= 0.01)),
            "on_mode": float(near.any(axis=1).mean()),
            "measure": float(np.minimum(shares, design.GAN_MODE_CAP).sum())}


def verdict_test_design_gan(got, ref, inputs):
    budget = design.GAN_BUDGET
    steps = budget.epochs * (budget.train_images // budget.batch_size)
    trial_outcome(got, f"design_gan({design.GAN_LATENT_DIM})",
                  f"{steps} steps of batches of {budget.batch_size}")
    outcome = design_outcome(got, inputs)
    target = design.GAN_TARGET
    assert outcome["measure"] >= target, (
        f"the grader trained your design with its own seed for {steps} steps: of "
        f"{design.GAN_SAMPLES} samples, {outcome['on_mode']:.0%} lie within "
        f"{design.GAN_RADIUS} of a mode, {outcome['covered']} of the 8 modes hold at least 1%, "
        f"the least-held mode {min(outcome['shares']):.1%}, and the coverage (at most 1/8 of "
        f"the samples counted per mode) is {outcome['measure']:.0%}; the target is "
        f"{target:.0%} or more. Hint: see where the design stands in its check cell, and try "
        "its hints.")


def probe_inputs(seed):
    return {
        "test_discriminator_loss": _discriminator_loss_inputs(_rng(seed, 1)),
        "test_generator_loss": _generator_loss_inputs(_rng(seed, 2)),
        "test_minimax_generator_loss": _minimax_inputs(_rng(seed, 3)),
        "test_build_networks": _build_networks_inputs(_rng(seed, 4)),
        "test_gan_train_step": _gan_inputs(_rng(seed, 5)),
        "test_latent_arithmetic": _latent_arithmetic_inputs(_rng(seed, 6)),
        "test_modes_covered": _modes_covered_inputs(_rng(seed, 7)),
        "test_conditional_networks": _conditional_inputs(_rng(seed, 8)),
        "test_inpaint": _inpaint_inputs(_rng(seed, 9)),
        "test_nearest_latent": _nearest_latent_inputs(_rng(seed, 10)),
        "test_design_gan": _design_inputs(_rng(seed, 11)),
    }
