"""Verdicts of 06_beyond_gan's hidden tests: the grader side (see grading/verdicts.py).
`probe_inputs` draws each class run's inputs from its seed (random images, pyramids, logits,
features, block positions and weight seeds, beside fixed cases with known answers); each verdict
redoes the visible checks of its cell on those inputs and adds stricter ones. Expected values are
computed here, in float64 NumPy from the inputs (the exact formulas live only on this side),
never from data the kernel sent back.

Task 2's probe lends Task 1 as data (the solution's outputs for the calls the solution made), so
its pyramids are drawn apart from Task 1's inputs; the traced (tf.function) cases of Tasks 4 and 6
stay traced."""

import contextlib
import io

import numpy as np

from common import checks, datasets, design
from grading.verdicts import named_mistake, trial_outcome

from .probes import (AD_GRADIENT, AD_TRACED, PD_BLOCK, PD_CONDITION, PD_FAR, PD_MIN, PD_NEAR,
                     PD_ORDER, PD_SHAPES, PD_TRAINABLE, PL_TRACED)


DEPENDS = {"test_reconstruct_from_pyramid": ("test_laplacian_pyramid",)}


def _f32(value):
    return np.asarray(value, np.float32)


# Demo mode trains with a traced step, test mode (grading) eagerly: Tasks 4 and 6 also run inside
# a tf.function, where NumPy calls on tensors and .numpy() fail.
TRACED_HINT = ("it must also run inside a tf.function, as demo mode's traced training step calls "
               "it: use TensorFlow or keras.ops operations on tensors (no NumPy, no .numpy()).")


def _check_traced(got, name, expected, rtol, atol):
    if got.error(name):
        raise AssertionError(f"{name}: your code raised an error. Hint: {TRACED_HINT}")
    checks.check_cases(got, [(name, expected, rtol, atol, TRACED_HINT)])


# ------------------------------------------------------------------ exact formulas (float64)


def _down(images):
    a = np.asarray(images, np.float64)
    n, h, w, c = a.shape
    return a.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _up(images):
    return np.asarray(images, np.float64).repeat(2, axis=1).repeat(2, axis=2)


def _pyramid(images, levels):
    current, out = np.asarray(images, np.float64), []
    for _ in range(levels - 1):
        coarser = _down(current)
        out.append(current - _up(coarser))
        current = coarser
    return out + [current]


def _reconstruct(pyramid):
    image = np.asarray(pyramid[-1], np.float64)
    for residual in reversed(pyramid[:-1]):
        image = _up(image) + np.asarray(residual, np.float64)
    return image


def _softplus(u):
    return np.logaddexp(0.0, np.asarray(u, np.float64))


def _pix2pix(fake_logits, generated, target, l1_weight=100.0):
    return (_softplus(-np.asarray(fake_logits, np.float64)).mean()
            + l1_weight * np.abs(np.asarray(target, np.float64) - generated).mean())


def _adain(features, scale, bias, epsilon=1e-5):
    x = np.asarray(features, np.float64)
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    scale, bias = np.asarray(scale, np.float64), np.asarray(bias, np.float64)
    return scale[:, None, None, :] * (x - mean) / np.sqrt(var + epsilon) + bias[:, None, None, :]


def _adain_gradient(features, scale, bias, weights, epsilon=1e-5):
    """d sum(adain(features, scale, bias) * weights) / d features (mean and variance included)."""
    x = np.asarray(features, np.float64)
    g = np.asarray(weights, np.float64) * np.asarray(scale, np.float64)[:, None, None, :]
    centred = x - x.mean(axis=(1, 2), keepdims=True)
    sigma = np.sqrt(x.var(axis=(1, 2), keepdims=True) + epsilon)
    return ((g - g.mean(axis=(1, 2), keepdims=True)) / sigma
            - centred * (g * centred).mean(axis=(1, 2), keepdims=True) / sigma**3)


# ------------------------------------------------------------------ Task 1: laplacian_pyramid

DOWN_BLOCK = "downsample of the 4 x 4 image 0, 1, ..., 15"
DOWN_RANDOM = "downsample of (3, 10, 6, 2) random images"
UP_BLOCK = "upsample of [[1, 2], [3, 4]]"
UP_RANDOM = "upsample of (2, 3, 5, 3) random images"
PYR_THREE = "laplacian_pyramid of (2, 8, 8, 3) random images, levels=3"
PYR_DIGITS = "laplacian_pyramid of (2, 28, 28, 1) images, levels=3"
PYR_FOUR = "laplacian_pyramid of (1, 16, 8, 2) random images, levels=4"
PYR_ONE = "laplacian_pyramid of (2, 6, 6, 1) random images, levels=1"
PYR_TWO_INT = "laplacian_pyramid of a float64 NumPy image, levels=2"


def _laplacian_inputs(seed):
    rng = np.random.default_rng([seed, 1])
    digits = np.zeros((2, 28, 28, 1), np.float32) - 1.0
    digits[0, 6:22, 12:16] = 1.0  # a "1"
    digits[1, 5:9, 8:20], digits[1, 5:23, 16:20] = 1.0, 1.0  # a "7"
    return {
        "downsample": {DOWN_BLOCK: np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1),
                       DOWN_RANDOM: _f32(rng.normal(size=(3, 10, 6, 2)))},
        "upsample": {UP_BLOCK: _f32([[[[1.0], [2.0]], [[3.0], [4.0]]]]),
                     UP_RANDOM: _f32(rng.normal(size=(2, 3, 5, 3)))},
        "laplacian_pyramid": {
            PYR_THREE: (_f32(rng.uniform(-1, 1, (2, 8, 8, 3))), 3),
            PYR_DIGITS: (digits, 3),
            PYR_FOUR: (_f32(rng.normal(size=(1, 16, 8, 2))), 4),
            PYR_ONE: (_f32(rng.normal(size=(2, 6, 6, 1))), 1),
            PYR_TWO_INT: (rng.integers(0, 5, (1, 4, 6, 1)).astype(np.float64), 2),
        },
    }


def verdict_test_laplacian_pyramid(got, ref, inputs):
    down, up = inputs["downsample"], inputs["upsample"]
    checks.check_cases(got, [
        (DOWN_BLOCK, _down(down[DOWN_BLOCK]), 0.0, 1e-5,
         "each output pixel is the MEAN of a 2 x 2 block; taking every second pixel, or a sum, "
         "is not the 2 x 2 average."),
        (DOWN_RANDOM, _down(down[DOWN_RANDOM]), 0.0, 1e-5,
         "downsample: (N, H, W, C) -> (N, H/2, W/2, C), the mean of each 2 x 2 block, per "
         "image and channel."),
        (UP_BLOCK, _up(up[UP_BLOCK]), 0.0, 1e-5,
         "nearest neighbour: output [i, j] = input [i // 2, j // 2]; bilinear interpolation or "
         "zeros between the pixels are other up-samplings."),
        (UP_RANDOM, _up(up[UP_RANDOM]), 0.0, 1e-5,
         "upsample: (N, H, W, C) -> (N, 2H, 2W, C), each pixel copied into a 2 x 2 block."),
    ])
    for name, (images, levels) in inputs["laplacian_pyramid"].items():
        length = int(np.asarray(got[f"{name}/length"]))
        if length != levels:
            raise AssertionError(
                f"{name}: expected a list of {levels} entries; got {length}. Hint: levels is the "
                "length of the list: levels - 1 residuals, finest first, then the coarsest image.")
        expected = _pyramid(images, levels)
        for k, level in enumerate(expected):
            last = k == levels - 1
            hint = ("the last entry is the coarsest image I_K itself (the image down-sampled "
                    "levels - 1 times), not a residual." if last else
                    f"h_{k} = I_{k} - u(I_{k + 1}): the image at level {k} (the input down-sampled "
                    f"{k} times) minus the up-sampled image of the next level, in that order; "
                    "residuals finest first.")
            checks.check_cases(got, [(f"{name}/{k}", level, 0.0, 1e-5, hint)])


# -------------------------------------------------------------- Task 2: reconstruct_from_pyramid

REC_TWO = "reconstruct_from_pyramid([h_0 (4 x 4), I_1 (2 x 2)])"
REC_THREE = "reconstruct_from_pyramid of three random levels (8 x 8, 4 x 4, 2 x 2), 3 channels"
REC_FOUR = "reconstruct_from_pyramid of four random levels (16 x 8 down to 2 x 1)"
REC_ONE = "reconstruct_from_pyramid of a one-entry pyramid"
REC_ROUND = "reconstruct_from_pyramid(laplacian_pyramid(28 x 28 images, 3)) (reference pyramid)"


def _reconstruct_inputs(seed):
    # Its own stream, apart from Task 1's inputs: the probe lends Task 1's outputs on these.
    rng = np.random.default_rng([seed, 2])
    digits = _f32(rng.uniform(-1, 1, (2, 28, 28, 1)))
    return {
        REC_TWO: [np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1) / 10,
                  _f32([[[[1.0], [2.0]], [[3.0], [4.0]]]])],
        REC_THREE: [_f32(rng.normal(size=(2, s, s, 3))) for s in (8, 4, 2)],
        REC_FOUR: [_f32(rng.normal(size=(1, 16 // 2**k, 8 // 2**k, 2))) for k in range(4)],
        REC_ONE: [_f32(rng.normal(size=(2, 3, 3, 1)))],
        REC_ROUND: [_f32(level) for level in _pyramid(digits, 3)],
    }


def verdict_test_reconstruct_from_pyramid(got, ref, inputs):
    hint = ("start from the last entry (the coarsest image) and go up, I_k = u(I_{k+1}) + h_k, "
            "with the nearest-neighbour u of Task 1: every residual added once, at its own size.")
    for name in inputs:
        if got.error(name):
            raise AssertionError(
                f"{name}: your code raised an error. Hint: start from the LAST entry (the coarsest "
                "image) and go up (reversed(pyramid[:-1])); starting from the first, finest entry "
                "up-samples it to twice its size, which no residual matches ('Incompatible "
                "shapes').")
    cases = [(name, _reconstruct(pyramid), 0.0, 1e-4, hint) for name, pyramid in inputs.items()]
    cases[3] = (REC_ONE, inputs[REC_ONE][0], 0.0, 1e-6,
                "a pyramid of one level is the image itself.")
    checks.check_cases(got, cases)


# --------------------------------------------------------------- Task 3: build_patch_discriminator

BLOCK = 8  # side of the changed block of pixels
FAR = 16  # pixels between a block and a patch (of 4 x 4 pixels) that may not see it


def _discriminator_inputs(seed):
    rng = np.random.default_rng([seed, 3])
    batch = int(rng.integers(3, 7))
    found = {"condition": _f32(rng.uniform(-1, 1, (batch, 28, 28, 1))),
             "candidate": _f32(rng.uniform(-1, 1, (batch, 28, 28, 1))),
             "redraw seed": int(rng.integers(1, 2**31))}
    for which in ("candidate", "condition"):
        # A block on the top or the left edge: the patches of the last row or column lie FAR
        # pixels below or right of it (as the bottom-right patch lies from the top-left block).
        image, offset = int(rng.integers(batch)), int(rng.integers(0, 28 - BLOCK + 1))
        found[f"{which} block"] = (image, 0, offset) if rng.integers(2) else (image, offset, 0)
    order = rng.permutation(batch)
    while np.array_equal(order, np.arange(batch)):
        order = rng.permutation(batch)
    found["order"] = order
    return found


def _check_block(got, which, block, batch):
    name = PD_BLOCK.format(which)
    image, row, column = block
    change = np.asarray(got[name], np.float64)
    if change.shape != (batch, 7, 7, 1):
        raise AssertionError(
            f"{name}: expected changes of shape ({batch}, 7, 7, 1), one per patch logit of the "
            f"{batch} images; got shape {change.shape}. Hint: the output is (None, 7, 7, 1).")
    near = ((row + BLOCK // 2) // 4, (column + BLOCK // 2) // 4)
    where = (f"image {image}, rows {row}-{row + BLOCK - 1} and columns "
             f"{column}-{column + BLOCK - 1}")
    if change[(image, *near)].max() <= 1e-6:
        raise AssertionError(
            f"{name} ({where}): expected the logit {list(near)} of that image, whose patch lies "
            "inside the block, to change; got no change. " + (
                "Hint: the candidate must reach the logits." if which == "candidate" else
                "Hint: the discriminator judges the pair D(x, y): concatenate the condition and "
                "the candidate as channels."))
    rows, columns = np.arange(7)[:, None], np.arange(7)[None, :]
    far = (4 * rows - (row + BLOCK) >= FAR) | (4 * columns - (column + BLOCK) >= FAR)
    if change[image, far].max(initial=0.0) > 1e-6:
        raise AssertionError(
            f"{name} ({where}): expected no change of the logits of the patches at least {FAR} "
            "pixels below or right of the block, a patch logit sees only its own region. Hint: "
            "convolutions only (kernel size 3 to 5); Flatten or Dense or a global pooling let "
            "every logit see the whole image.")
    others = np.delete(change, image, axis=0)
    if others.size and others.max() > 1e-6:
        raise AssertionError(
            f"{name} ({where}): expected no change of the logits of the other images; got a "
            "change. Hint: each pair (condition, candidate) is judged on its own: no layer may "
            "mix the images of a batch.")


def verdict_test_build_patch_discriminator(got, ref, inputs):
    shapes = np.asarray(got[f"{PD_SHAPES}/inputs"])
    output = np.asarray(got[f"{PD_SHAPES}/output"])
    if shapes.shape != (2, 4) or not np.array_equal(shapes[:, 1:], [[28, 28, 1], [28, 28, 1]]):
        raise AssertionError(
            f"{PD_SHAPES}: expected two inputs of shape (None, 28, 28, 1) (condition, candidate); "
            f"got {shapes.tolist()}. Hint: keras.Model([condition, candidate], logits) with two "
            "keras.Input((28, 28, 1)).")
    if output.tolist() != [-1, 7, 7, 1]:
        raise AssertionError(
            f"{PD_SHAPES}: expected the output (None, 7, 7, 1); got {output.tolist()} (-1 = None). "
            "Hint: two stride-2 convolutions take 28 -> 14 -> 7 (one gives 14 x 14); end with "
            "Conv2D(1, ...), not Flatten + Dense (one logit per image).")
    if float(got[PD_MIN]) >= 0:
        raise AssertionError(
            f"{PD_MIN}: expected some negative logits; got none. Hint: no sigmoid (or relu) on the "
            "last layer: the losses take logits (from_logits=True).")
    for key in ("candidate", "condition"):
        if float(got[f"{PD_FAR}/{key}"]) > 1e-6:
            raise AssertionError(
                f"{PD_FAR} ({key}): expected no change, a patch logit sees only its own region. "
                "Hint: convolutions only (kernel size 3 to 5); Flatten or Dense or a global "
                "pooling let every logit see the whole image.")
    if float(got[PD_NEAR]) <= 1e-6:
        raise AssertionError(f"{PD_NEAR}: expected a change. Hint: the candidate must reach the "
                             "logits.")
    if float(got[PD_CONDITION]) <= 1e-6:
        raise AssertionError(
            f"{PD_CONDITION}: expected a change. Hint: the discriminator judges the pair D(x, y): "
            "concatenate the condition and the candidate as channels.")
    if int(got[PD_TRAINABLE]) < 2:
        raise AssertionError(f"{PD_TRAINABLE}: expected trainable convolutions; got "
                             f"{int(got[PD_TRAINABLE])}.")
    for which in ("candidate", "condition"):
        _check_block(got, which, inputs[f"{which} block"], len(inputs["candidate"]))
    order = np.asarray(inputs["order"])
    given = np.asarray(got[f"{PD_ORDER}/given"], np.float64)
    checks.check_shape(given, (len(order), 7, 7, 1), name=f"{PD_ORDER} (in the given order)",
                       hint="the output is (None, 7, 7, 1), one map of logits per image.")
    checks.check_close(got[f"{PD_ORDER}/reordered"], given[order], rtol=1e-5, atol=1e-5,
                       name=f"{PD_ORDER} (pairs {order.tolist()})",
                       hint="each pair (condition, candidate) is judged on its own: its logits "
                            "may not depend on the other images of the batch or their order.")


# --------------------------------------------------------------- Task 4: pix2pix_generator_loss

PL_ZERO = "pix2pix_generator_loss with logits 0 and generated == target"
PL_ADV = "pix2pix_generator_loss with l1_weight=0 (adversarial term only)"
PL_ONE = "pix2pix_generator_loss with l1_weight=1"
PL_DEFAULT = "pix2pix_generator_loss with the default l1_weight=100"
PL_SEVEN = "pix2pix_generator_loss with l1_weight=2.5"
PL_LARGE = "pix2pix_generator_loss with large logits (+-40) and l1_weight=10"
PL_OTHER = "pix2pix_generator_loss of a batch of 5 with 4 x 4 patches and 2-channel images"


def _pix2pix_inputs(seed):
    rng = np.random.default_rng([seed, 4])
    logits = _f32(rng.normal(0.0, 3.0, (3, 7, 7, 1)))
    generated, target = (_f32(rng.uniform(-1, 1, (3, 28, 28, 1))) for _ in range(2))
    large = _f32(np.where(rng.uniform(size=(2, 7, 7, 1)) < 0.5, -40.0, 40.0))
    eager = {
        PL_ZERO: (np.zeros((2, 7, 7, 1), np.float32), np.zeros((2, 28, 28, 1), np.float32),
                  np.zeros((2, 28, 28, 1), np.float32)),
        PL_ADV: (logits, generated, target, 0.0),
        PL_ONE: (logits, generated, target, 1.0),
        PL_DEFAULT: (logits, generated, target),
        PL_SEVEN: (logits, generated, target, 2.5),
        PL_LARGE: (large, generated[:2], target[:2], 10.0),
        PL_OTHER: (_f32(rng.normal(size=(5, 4, 4, 1))), _f32(rng.normal(size=(5, 8, 8, 2))),
                   _f32(rng.normal(size=(5, 8, 8, 2))), 3.0),
    }
    return {"eager": eager, "traced": eager[PL_SEVEN]}


def verdict_test_pix2pix_generator_loss(got, ref, inputs):
    checks.check_shape(got[PL_ZERO], (), name=PL_ZERO,
                       hint="return one scalar: the mean over all patches plus the weighted "
                            "mean L1.")
    hints = {
        PL_ZERO: "CE(0, 1) = log 2 averaged over the patches: a mean over the patches, on logits.",
        PL_ADV: "the adversarial term is mean softplus(-l) = mean -log sigmoid(l) over all patch "
                "logits, label 1; no sigmoid before a loss for logits.",
        PL_ONE: "the L1 term is the MEAN absolute error over all pixels (not a sum, not squared).",
        PL_DEFAULT: "the default l1_weight is 100: multiply the mean absolute error by l1_weight.",
        PL_SEVEN: "multiply the mean absolute error by l1_weight, whatever its value.",
        PL_LARGE: "large logits: compute the cross-entropy from logits (softplus(-l)), which stays "
                  "exact where sigmoid rounds to 0 or 1.",
        PL_OTHER: "means over all entries, whatever the shapes of the patches and images.",
    }
    for name, args in inputs["eager"].items():
        logits, generated, target, *weight = args
        weight = weight[0] if weight else 100.0
        adversarial = _pix2pix(logits, target, target, 0.0)
        l1 = np.abs(np.asarray(target, np.float64) - generated).mean()
        hint = named_mistake(got[name], hints[name], [
            ("l1_weight multiplies the adversarial term: it weighs only the L1 term, "
             "adversarial + l1_weight · mean |y - G(x)|.", weight * adversarial + l1),
            ("the adversarial term is summed over the patches: take the mean over all patch "
             "logits.", adversarial * np.size(logits) / len(logits) + weight * l1),
            ("the L1 term is summed over the pixels: take the mean absolute error.",
             adversarial + weight * np.abs(np.asarray(target, np.float64) - generated).sum()),
            ("squared errors: the pix2pix term is L1, the mean ABSOLUTE error.",
             adversarial + weight * np.square(np.asarray(target, np.float64) - generated).mean()),
        ], 1e-4, 1e-5)
        checks.check_cases(got, [(name, _pix2pix(*args), 1e-4, 1e-5, hint)])
    _check_traced(got, PL_TRACED, _pix2pix(*inputs["traced"]), 1e-4, 1e-5)


# --------------------------------------------------------------- Task 5: cycle_consistency_loss

CC_HALF = "cycle_consistency_loss with cycled_a = real_a + 2, cycled_b = real_b"
CC_B = "cycle_consistency_loss with cycled_a = real_a, cycled_b = real_b - 2"
CC_RANDOM = "cycle_consistency_loss of random images"
CC_SIZES = "cycle_consistency_loss with A of shape (1, 10, 10, 1) and B of shape (6, 2, 2, 3)"
CC_SAME = "cycle_consistency_loss when both cycles are exact"


def _cycle_inputs(seed):
    rng = np.random.default_rng([seed, 5])
    a, b = np.zeros((2, 4, 4, 1), np.float32), np.zeros((3, 6, 6, 1), np.float32)
    ra, ca, rb, cb = (_f32(rng.normal(size=s)) for s in [(2, 5, 5, 3)] * 2 + [(4, 3, 3, 1)] * 2)
    sa = _f32(rng.normal(size=(1, 10, 10, 1)))
    sb = _f32(rng.normal(size=(6, 2, 2, 3)))
    return {
        CC_HALF: (a, a + 2.0, b, b),
        CC_B: (a, a, b, b - 2.0),
        CC_RANDOM: (ra, ca, rb, cb),
        CC_SIZES: (sa, sa + _f32(rng.normal(size=sa.shape)), sb, 0.3 * sb),
        CC_SAME: (ra, ra, rb, rb),
    }


def verdict_test_cycle_consistency_loss(got, ref, inputs):
    checks.check_shape(got[CC_HALF], (), name=CC_HALF,
                       hint="return one scalar: the two mean absolute errors added.")
    hint = ("mean |real_a - cycled_a| + mean |real_b - cycled_b|: both directions, each a MEAN "
            "of absolute values over its own entries, added (not averaged).")
    for name, (ra, ca, rb, cb) in inputs.items():
        error_a = np.asarray(ra, np.float64) - ca
        error_b = np.asarray(rb, np.float64) - cb
        both = np.concatenate([np.abs(error_a).ravel(), np.abs(error_b).ravel()])
        named = named_mistake(got[name], hint, [
            ("one direction only: add mean |real_b - cycled_b|, the B -> A -> B cycle.",
             np.abs(error_a).mean()),
            ("squared errors: the cycle loss is L1, a mean of ABSOLUTE differences.",
             np.square(error_a).mean() + np.square(error_b).mean()),
            ("the two directions are averaged: add them.",
             (np.abs(error_a).mean() + np.abs(error_b).mean()) / 2),
            ("a sum over the entries: take the mean of each direction.",
             np.abs(error_a).sum() + np.abs(error_b).sum()),
            ("one mean over the entries of both directions: each direction is a mean over its "
             "own entries, and the two means are added.", 2 * both.mean()),
        ], 1e-5, 1e-6)
        checks.check_cases(got, [(name, np.abs(error_a).mean() + np.abs(error_b).mean(), 1e-5,
                                  1e-6, named)])


# ------------------------------------------------------------------------------ Task 6: adain

AD_RANDOM = "adain of (3, 5, 4, 6) features with very different statistics"
AD_UNIT = "adain of (2, 6, 6, 4) features with scale 1 and bias 0"
AD_CONSTANT = "adain of constant feature maps (variance 0)"
AD_SMALL = "adain of a 2 x 2 map of variance 1e-4 (epsilon = 1e-5)"
AD_EPSILON = "adain(..., epsilon=0.5) of features of variance about 1"
AD_ONE = "adain of a batch of one image, 7 x 7 x 3"


def _adain_inputs(seed):
    rng = np.random.default_rng([seed, 6])
    features = _f32(rng.normal(2.0, 3.0, (3, 5, 4, 6)))
    features[1] = 10.0 * features[1] - 7.0
    features[..., 2] *= 0.1
    unit = _f32(rng.normal(size=(2, 6, 6, 4)) * np.array([0.2, 1.0, 4.0, 9.0]) + 3.0)
    small = _f32([[0.01, -0.01], [-0.01, 0.01]]).reshape(1, 2, 2, 1)
    eager = {
        AD_RANDOM: (features, _f32(rng.uniform(0.5, 2.0, (3, 6))), _f32(rng.normal(size=(3, 6)))),
        AD_UNIT: (unit, np.ones((2, 4), np.float32), np.zeros((2, 4), np.float32)),
        AD_CONSTANT: (np.full((2, 3, 3, 2), 4.0, np.float32), np.full((2, 2), 3.0, np.float32),
                      _f32([[1.0, -1.0], [0.5, 2.0]])),
        AD_SMALL: (small, np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)),
        AD_EPSILON: (_f32(rng.normal(size=(2, 3, 3, 2))), _f32(rng.uniform(0.5, 2.0, (2, 2))),
                     _f32(rng.normal(size=(2, 2))), 0.5),
        AD_ONE: (_f32(rng.normal(1.0, 2.0, (1, 7, 7, 3))), _f32([[2.0, -1.0, 0.5]]),
                 _f32([[0.0, 1.0, -3.0]])),
    }
    return {"eager": eager, "traced": eager[AD_RANDOM], "gradient": eager[AD_RANDOM],
            "gradient weights": _f32(rng.normal(size=features.shape))}


def _adain_mistakes(features, scale, bias, epsilon=1e-5):
    """[(hint, result)] of AdaIN's typical mistakes on these arguments."""
    x = np.asarray(features, np.float64)
    s, b = (np.asarray(v, np.float64)[:, None, None, :] for v in (scale, bias))
    hw = x.shape[1] * x.shape[2]

    def norm(axes=(1, 2), unbiased=False, outside=False, eps=epsilon):
        centred = x - x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True) * (hw / (hw - 1) if unbiased else 1.0)
        return centred / (np.sqrt(var) + eps if outside else np.sqrt(var + eps))

    with np.errstate(all="ignore"):
        return [
            ("style_scale and style_bias are swapped: y_s = style_scale multiplies the "
             "normalised features, y_b = style_bias is added.", b * norm() + s),
            ("epsilon is outside the square root: sigma = sqrt(variance + epsilon), not "
             "sqrt(variance) + epsilon.", s * norm(outside=True) + b),
            ("the variance is the unbiased one (divided by H·W - 1): use the population "
             "variance, divided by H·W, as the paper and tf.nn.moments do.",
             s * norm(unbiased=True) + b),
            ("the statistics include the batch axis (batch norm): mean and variance over H and "
             "W only, per image and channel.", s * norm(axes=(0, 1, 2)) + b),
            ("the statistics include the channel axis (layer norm): mean and variance over H "
             "and W only, per image and channel.", s * norm(axes=(1, 2, 3)) + b),
            ("the output is scaled by 1 + style_scale: multiply by style_scale itself.",
             (1.0 + s) * norm() + b),
            ("epsilon is missing: sigma = sqrt(variance + epsilon).", s * norm(eps=0.0) + b),
            ("the epsilon argument is ignored: use it, inside the square root.",
             s * norm(eps=1e-5) + b),
        ]


def verdict_test_adain(got, ref, inputs):
    eager = inputs["eager"]
    checks.check_shape(got[AD_RANDOM], (3, 5, 4, 6), name=AD_RANDOM,
                       hint="same shape as the features: broadcast the (N, C) scale and bias.")
    for name, args in eager.items():  # a typical mistake is told first, by name
        hint = named_mistake(got[name], "", [(h, r) for h, r in _adain_mistakes(*args)
                                             if not np.allclose(r, _adain(*args), rtol=1e-4,
                                                                atol=1e-4)], 1e-4, 1e-4)
        if hint:
            checks.check_cases(got, [(name, _adain(*args), 1e-4, 1e-4, hint)])
    unit = np.asarray(got[AD_UNIT], np.float64)
    checks.check_close(unit.mean(axis=(1, 2)), np.zeros((2, 4)), atol=1e-4,
                       name=f"mean over H and W of {AD_UNIT}",
                       hint="subtract each image's channel mean over H and W (axes 1 and 2), not a "
                            "mean over the batch or over the channels.")
    checks.check_close(unit.std(axis=(1, 2)), np.ones((2, 4)), atol=1e-3,
                       name=f"standard deviation over H and W of {AD_UNIT}",
                       hint="divide by sqrt(variance + epsilon) of each image's channel over H "
                            "and W, with the population variance (divided by H·W).")
    hints = {
        AD_RANDOM: "y_s (x - mean) / sqrt(var + epsilon) + y_b per image and channel, mean and "
                   "variance over H and W only; scale multiplies, bias adds.",
        AD_UNIT: "normalise per image and channel over H and W, with the population variance "
                 "and epsilon inside the square root.",
        AD_CONSTANT: "a constant map has variance 0: with epsilon inside the square root the "
                     "output is the bias; without it 0 / 0 = nan.",
        AD_SMALL: "sigma = sqrt(population variance + epsilon): epsilon inside the root, variance "
                  "divided by H·W (not H·W - 1).",
        AD_EPSILON: "use the epsilon argument, inside the square root.",
        AD_ONE: "a batch of one image works the same way: statistics over H and W, not the batch.",
    }
    checks.check_cases(got, [(name, _adain(*args), 1e-4, 1e-4, hints[name])
                             for name, args in eager.items()])
    _check_traced(got, AD_TRACED, _adain(*inputs["traced"]), 1e-4, 1e-4)
    gradient = np.asarray(got[AD_GRADIENT], np.float64)
    if not np.all(np.isfinite(gradient)) or np.abs(gradient).max() == 0:
        raise AssertionError(
            f"{AD_GRADIENT}: expected a finite, nonzero gradient; got none. Hint: use "
            "TensorFlow or keras.ops operations, not NumPy, so that the generator trains "
            "through AdaIN.")
    expected = _adain_gradient(*inputs["gradient"], inputs["gradient weights"])
    checks.check_cases(got, [(AD_GRADIENT, expected, 1e-3, 1e-4 * np.abs(expected).max(),
                              "the gradient flows through the mean and the variance too: compute "
                              "both from the features with TensorFlow operations (no NumPy, no "
                              ".numpy(), no stop_gradient).")])


# ------------------------------------------------------------------ Task 7: design_translator


def _mnist():
    with contextlib.redirect_stdout(io.StringIO()):
        return datasets.load_mnist(source="bundled")


def _translator_inputs(seed):
    (x_train, _), (x_test, _) = _mnist()
    rng = np.random.default_rng([seed, 67])
    return {"grader_only": {
        "seed": int(rng.integers(2**31)),
        "train_index": rng.permutation(len(x_train))[:design.TRANSLATOR.train_images],
        "heldout_index": rng.permutation(len(x_test))[:design.TRANSLATOR_HELD_OUT]}}


def design_outcome(got, inputs):
    """{"design", "edges", "measure"}: the held-out mean L1 error (pixels in [0, 1]) of the
    outputs the grader's trial got from the trained generator (got.trial), against the true
    digits, and that of answering with the edge map itself."""
    grader = inputs["grader_only"]
    (_, _), (x_test, _) = _mnist()
    digits = x_test[np.asarray(grader["heldout_index"])] * 2.0 - 1.0
    outputs = np.asarray(got.trial["outputs"], np.float64)
    if outputs.shape != digits.shape or not np.all(np.isfinite(outputs)):
        raise AssertionError(f"the trained generator's outputs for {len(digits)} held-out edge "
                             f"maps were not finite images of shape {digits.shape}")
    ours = design.translator_l1(outputs, digits)
    return {"design": ours, "edges": design.translator_l1(datasets.edge_map(digits), digits),
            "measure": ours}


def verdict_test_design_translator(got, ref, inputs):
    budget, target = design.TRANSLATOR, design.TRANSLATOR_TARGET
    trial_outcome(got, "design_translator()",
                  f"{budget.epochs} epochs of {budget.train_images:,} pairs")
    outcome = design_outcome(got, inputs)
    assert outcome["measure"] <= target, (
        f"the grader trained your generator with its own seed on {budget.train_images:,} pairs: "
        f"its mean L1 error on {design.TRANSLATOR_HELD_OUT} held-out pairs is "
        f"{outcome['design']:.4f} (pixels in [0, 1]); the target is {target:.3f} or less "
        f"(answering with the edge map itself: {outcome['edges']:.4f}). Hint: see where the "
        "design stands in its check cell, and try its hints.")


def probe_inputs(seed):
    return {
        "test_laplacian_pyramid": _laplacian_inputs(seed),
        "test_reconstruct_from_pyramid": _reconstruct_inputs(seed),
        "test_build_patch_discriminator": _discriminator_inputs(seed),
        "test_pix2pix_generator_loss": _pix2pix_inputs(seed),
        "test_cycle_consistency_loss": _cycle_inputs(seed),
        "test_adain": _adain_inputs(seed),
        "test_design_translator": _translator_inputs(seed),
    }
