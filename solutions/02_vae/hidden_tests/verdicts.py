"""Verdicts of 02_vae's hidden tests: the grader side (see grading/verdicts.py).

`probe_inputs` draws each class run's inputs from its seed: the visible checks' inputs and other
fixed cases with known answers, plus cases drawn from the seed (means and standard deviations of
the samples, random arrays, latent sizes and batch sizes of the networks, and the weights, seeds
and beta of Task 5's tiny VAEs), so that answers recorded for one class run fail another's. Each
verdict checks at least what the visible checks of its cell check, on the probe's records;
expected values are computed here in float64 NumPy from the inputs (the closed forms below, and
the tiny VAE's dense encoder and decoder, never reach the kernel).

One mistake costs one task: Task 5's probe lends the solution's sample_latent, kl_divergence and
reconstruction_loss for the calls the solution's VAE made on Task 5's own inputs (see probes.py),
which are drawn apart from those of Tasks 1-3 (another random stream)."""

import contextlib
import io

import numpy as np

from common import checks, datasets, design
from grading.verdicts import trial_outcome

from .probes import (
    CVAE_CODES,
    CVAE_CODES_OTHER,
    CVAE_OTHER,
    CVAE_PROBABILITIES,
    HEADS,
    KL_GRADIENTS,
    KL_KNOWN,
    KL_ONE_DIM,
    KL_RANDOM,
    KL_ZEROS,
    NET_RANGE,
    RECON_EXACT,
    RECON_GRADIENT,
    RECON_GREY,
    RECON_HALF,
    RECON_TOP,
    RECON_WRONG,
    VAE_CALL,
    VAE_ENCODE,
    VAE_EPOCH,
    VAE_FRESH,
    VAE_METRICS,
    VAE_SETUP,
    VAE_SURE,
    VAE_TEST,
    VAE_TRAIN,
    cvae_decoder_name,
    cvae_redrawn_name,
    cvae_second_image_name,
    cvae_small_name,
    decoder_outputs_name,
    drawn_sample_name,
    encoder_outputs_name,
    kl_step_name,
    redrawn_name,
    seeded_sample_name,
)


# Task 5's VAE calls the functions of Tasks 1-3 (its probe lends correct ones: answers.earlier).
DEPENDS = {"test_vae_model": ("test_sample_latent", "test_kl_divergence",
                             "test_reconstruction_loss"),
           # the design's visible check trains it with the student's VAE (and so Tasks 1-3)
           "test_design_vae": ("test_sample_latent", "test_kl_divergence",
                               "test_reconstruction_loss", "test_vae_model")}


def _f32(value):
    return np.asarray(value, np.float32)


def _binary_images(rng, count):
    return (rng.uniform(size=(count, 28, 28, 1)) > 0.5).astype(np.float32)


def probe_inputs(seed):
    def rng(k):
        return np.random.default_rng([seed, k])

    return {
        "test_sample_latent": _sample_inputs(rng(1)),
        "test_kl_divergence": _kl_inputs(rng(2)),
        "test_reconstruction_loss": _reconstruction_inputs(rng(3)),
        "test_build_vae_networks": _network_inputs(rng(4)),
        "test_vae_model": _vae_inputs(rng(5)),
        "test_build_cvae": _cvae_inputs(rng(6)),
        "test_design_vae": _design_inputs(rng(7)),
    }


# ---------------------------------------------------------------- exact formulas (float64)


def _kl(mean, log_var):
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    return 0.5 * (np.exp(log_var) + mean ** 2 - 1 - log_var).sum(axis=-1)


def _bernoulli_nll(x, p):
    x = np.asarray(x, np.float64)
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3))


# ---------------------------------------------------------------------------------------------
# Verdict helpers


def _raise_if_failed(got, name):
    """A group of entries recorded as a dict: the student's error if computing it raised."""
    if got.error(name):
        got[name]  # raises AssertionError("<name>: your code raised ...")


def _sub_keys(got, name):
    prefix = name + "/"
    return {n[len(prefix):] for n in got.values if n.startswith(prefix)}


def _shape_text(dims):
    dims = ["None" if d is None or d < 0 else str(int(d)) for d in dims]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


def _check_io(got, name, inputs, outputs, hint):
    """check_model_io on a recorded _model_io."""
    if got.error(name):
        raise AssertionError(
            f"{name}: expected a built Keras model with defined inputs (use keras.Input); got "
            f"an error: {got.error(name)}. Hint: {hint}")
    for kind, expected in (("input", inputs), ("output", outputs)):
        count = int(got[f"{name}/{kind}s/count"])
        actual = [tuple(int(d) for d in got[f"{name}/{kind}s/{i}"]) for i in range(count)]
        fits = len(actual) == len(expected) and all(
            len(a) == len(e) and all(ed is None or ad == ed for ad, ed in zip(a, e))
            for a, e in zip(actual, expected))
        if not fits:
            raise AssertionError(
                f"{name} {kind}: expected {kind} shape "
                f"[{', '.join(_shape_text(e) for e in expected)}]; got "
                f"[{', '.join(_shape_text(a) for a in actual)}]. Hint: {hint}")


def _check_trainable(got, name, label, hint=None):
    """check_trainable on a recorded _gradients."""
    _raise_if_failed(got, name)
    paths = [str(p) for p in got[f"{name}/variables"]]
    reached, nonzero = got[f"{name}/reached"], got[f"{name}/nonzero"]
    if not paths:
        raise AssertionError(f"{label}: expected trainable variables; got none. Hint: "
                             f"{hint or 'is every layer frozen?'}")
    missing = [p for p, r in zip(paths, reached) if not r]
    if missing:
        hint = hint or ("is that layer connected to the output, or is a value cut off with "
                        "numpy() or stop_gradient?")
        raise AssertionError(
            f"{label}: expected a gradient for every trainable variable; got no gradient for "
            f"{', '.join(missing)}. Hint: {hint}")
    zero = [p for p, r, n in zip(paths, reached, nonzero) if r and not n]
    if zero:
        hint = hint or ("a saturated activation, a constant output, or an argmax/round in the "
                        "graph stops learning.")
        raise AssertionError(
            f"{label}: expected nonzero gradients for every trainable variable; got all-zero "
            f"gradients for {', '.join(zero)}. Hint: {hint}")


def _model_outputs(got, name, count, shape, what):
    """The `count` recorded outputs of a model call, each of shape `shape`."""
    _raise_if_failed(got, name)
    found = int(got[f"{name}/count"])
    if found != count:
        raise AssertionError(f"{name}: expected {count} output(s) ({what}); got {found}.")
    values = [got[f"{name}/{i}"] for i in range(count)]
    for value in values:
        checks.check_shape(value, shape, name=name, hint=f"the outputs are {what}.")
    return values


def _check_log_var_can_be_negative(got, name, label):
    """The verdict on z_log_var for 8 random draws of the encoder's weights (probed with
    checks.redrawn_outputs). A head without activation gives a negative value with probability
    at least 1/2 per unit and draw (8 draws of at least 3 units: a false alarm below 1 in 16
    million), whatever its initialiser; relu, softplus or exp on the head never does."""
    log_vars = got[name]
    assert (np.asarray(log_vars, dtype=np.float64) < 0).any(), (
        f"{label}: z_log_var is never negative, not even with the weights drawn at random. "
        "Hint: the log-variance head must have no activation (relu, softplus or exp would force "
        "sigma >= 1, so the encoder could never be sure of a code).")


# ---------------------------------------------------------------------------------------------
# Task 1: sample_latent


def _sample_inputs(rng):
    visible_mean = _f32([0.0, 1.0, -2.0])
    visible_sigma = _f32([1.0, 2.0, 0.5])
    drawn_mean = _f32(rng.uniform(-3.0, 3.0, size=3))
    drawn_sigma = rng.uniform(0.5, 2.0, size=3)
    return {
        "visible": (20000, visible_mean, _f32(np.log(visible_sigma ** 2))),
        "drawn": (20000, drawn_mean, _f32(np.log(drawn_sigma ** 2))),
        "small": np.zeros((4, 2), np.float32),
        "seed": int(rng.integers(1, 2**16)),
        "gradients": tuple(_f32(rng.normal(size=(5, 3))) for _ in range(3)),
        "traced": (_f32(rng.normal(size=(8, 3))), _f32(rng.normal(scale=0.5, size=(8, 3)))),
        "narrow": (30000, _f32([3.0]), _f32([-6.0])),
    }


def _check_draws(got, name, case, label, first=False):
    """The checks of many draws of sample_latent for one mean and log-variance row."""
    count, mean, log_var = case
    mean, sigma = np.asarray(mean, np.float64), np.exp(0.5 * np.asarray(log_var, np.float64))
    z = got[name]
    checks.check_shape(z, (count, len(mean)), name=name,
                       hint="z has the shape of z_mean: draw epsilon with keras.ops.shape(z_mean).")
    if first:
        checks.check_dtype(z, "float32", name="sample_latent(z_mean, z_log_var)",
                           hint="keras.random.normal draws float32 noise.")
    assert not np.allclose(z, np.tile(mean, (count, 1))), (
        "sample_latent: expected random codes around z_mean; got z equal to z_mean. "
        "Hint: epsilon must be drawn from N(0, I), not set to zero.")
    checks.check_close(z.mean(axis=0), mean, atol=0.08,
                       name=f"mean of z over {count:,} draws{label}",
                       hint="z = z_mean + sigma * epsilon with epsilon of mean 0.")
    sigmas = ", ".join(f"{s:g}" for s in np.round(sigma, 2))
    checks.check_close(z.std(axis=0), sigma, rtol=0.05,
                       name=f"standard deviation of z over {count:,} draws (sigma = {sigmas})",
                       hint="scale epsilon ~ N(0, 1) by the standard deviation "
                            "exp(0.5 * z_log_var), not by the variance exp(z_log_var).")


def verdict_test_sample_latent(got, ref, inputs):
    _check_draws(got, "sample_latent(z_mean, z_log_var) for inputs of shape (20000, 3)",
                 inputs["visible"], "", first=True)
    drawn = inputs["drawn"]
    _check_draws(got, drawn_sample_name(*drawn), drawn,
                 " (mu = " + ", ".join(f"{m:.2f}" for m in drawn[1]) + ")")

    name = "two calls of sample_latent with seed=None"
    _raise_if_failed(got, name)
    first, second = got[f"{name}/first"], got[f"{name}/second"]
    assert first.shape != second.shape or not np.allclose(first, second), (
        "sample_latent: two calls with seed=None returned the same z; expected fresh noise on "
        "every call. Hint: do not fix epsilon or a seed; draw epsilon inside the function with "
        "keras.random.normal(..., seed=seed).")
    name = seeded_sample_name(inputs["seed"])
    _raise_if_failed(got, name)
    checks.check_close(got[f"{name}/first"], got[f"{name}/second"], name=name,
                       hint="an integer seed must repeat the noise: keras.random.normal(shape, "
                            "seed=seed) does (tf.random.normal(seed=...) does not).")

    name = "gradients of sum(weights * z) for z = sample_latent(z_mean, z_log_var)"
    _raise_if_failed(got, name)
    assert got[f"{name}/reached z_mean"] and got[f"{name}/reached z_log_var"], (
        "sample_latent: no gradient reached z_mean or z_log_var, so the encoder could not learn. "
        "Hint: build z with Keras/TensorFlow operations; NumPy, .numpy() or stop_gradient cut "
        "the graph.")
    means, _, weights = (np.asarray(a, np.float64) for a in inputs["gradients"])
    checks.check_close(got[f"{name}/with respect to z_mean"], weights, rtol=1e-5, atol=1e-5,
                       name="d z / d z_mean",
                       hint="z = z_mean + sigma * epsilon has derivative 1 in z_mean.")
    checks.check_close(got[f"{name}/with respect to z_log_var"],
                       weights * 0.5 * (got[f"{name}/z"] - means), rtol=1e-4, atol=1e-5,
                       name="d z / d z_log_var (expected 0.5 * sigma * epsilon)",
                       hint="with sigma = exp(0.5 * z_log_var) the derivative is 0.5 * sigma * "
                            "epsilon; exp(z_log_var) would give sigma^2 * epsilon.")

    name = "sample_latent inside a tf.function with an unknown batch size"
    if got.error(name):
        raise AssertionError(
            f"sample_latent failed inside a tf.function with an unknown batch size, as in "
            f"train_step: {got.error(name)}. Hint: while train_step is traced, z_mean.shape[0] is "
            "None: take the shape with keras.ops.shape(z_mean) (or tf.shape), not z_mean.shape or "
            "np.shape, and draw epsilon with keras.random.normal, not NumPy.")
    first, second = got[f"{name}/first"], got[f"{name}/second"]
    shape = inputs["traced"][0].shape
    checks.check_shape(first, shape,
                       name=f"sample_latent in a tf.function for inputs {_shape_text(shape)}",
                       hint="z has the shape of z_mean.")
    assert first.shape != second.shape or not np.allclose(first, second), (
        "sample_latent inside a tf.function (as in train_step) gave the same z twice: the noise "
        "was drawn once, when the function was traced (NumPy noise becomes a constant). Draw it "
        "with keras.random.normal.")

    name = "sample_latent for 30,000 codes with z_mean = 3 and z_log_var = -6"
    z = got[name]
    checks.check_shape(z, (30000, 1), name=name, hint="z has the shape of z_mean.")
    assert abs(z.std() - np.exp(-3.0)) < 0.05 * np.exp(-3.0), (
        f"{name}: expected a standard deviation of exp(-3) = 0.0498; got {z.std():.4f}. Hint: "
        "sigma = exp(0.5 * z_log_var).")
    assert abs(z.mean() - 3.0) < 0.01, (
        f"{name}: expected a mean of 3; got {z.mean():.4f}. Hint: z = z_mean + sigma * epsilon.")


# ---------------------------------------------------------------------------------------------
# Task 2: kl_divergence


def _kl_inputs(rng):
    zeros = np.zeros((3, 4), np.float32)
    return {
        KL_ZEROS: (zeros, zeros),
        KL_KNOWN: (_f32([[1.0, 2.0], [0.0, 0.0]]), _f32([[0.0, 0.0], [np.log(4.0), 0.0]])),
        KL_RANDOM: (_f32(rng.normal(size=(7, 5))), _f32(rng.normal(size=(7, 5)))),
        KL_ONE_DIM: (_f32([[3.0]]), _f32([[-2.0]])),
    }


def verdict_test_kl_divergence(got, ref, inputs):
    kl = got[KL_ZEROS]
    checks.check_shape(kl, (3,), name=KL_ZEROS,
                       hint="one value per example: sum over the latent axis (axis=-1) only, "
                            "never over the batch.")
    checks.check_close(kl, [0.0, 0.0, 0.0], atol=1e-6, name="KL(N(0, I) || N(0, I))",
                       hint="q equals the prior, so the KL must be 0: check the signs of the -1 "
                            "and -log(sigma^2) terms (lecture 02's slide has them wrong).")
    expected = [0.5 * (1.0 + 4.0), 0.5 * (4.0 - 1.0 - np.log(4.0))]
    checks.check_close(got[KL_KNOWN], expected, rtol=1e-5, atol=1e-5, name=KL_KNOWN,
                       hint="per dimension 0.5 * (exp(z_log_var) + z_mean^2 - 1 - z_log_var), "
                            "summed (not averaged) over the latent dimensions; z_log_var is "
                            "log(sigma^2), not sigma^2.")

    means, log_vars = (np.asarray(a, np.float64) for a in inputs[KL_RANDOM])
    kl = got[KL_RANDOM]
    checks.check_shape(kl, (7,), name=KL_RANDOM, hint="one value per example.")
    checks.check_close(kl, _kl(means, log_vars), rtol=1e-4, atol=1e-8, name=KL_RANDOM,
                       hint="0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over the latent axis: "
                            "check the sign of every term.")
    checks.check_range(kl, 0.0, None, name=KL_RANDOM, hint="a KL divergence is never negative.")

    _raise_if_failed(got, KL_GRADIENTS)
    assert got[f"{KL_GRADIENTS}/reached z_mean"] and got[f"{KL_GRADIENTS}/reached z_log_var"], (
        "kl_divergence: no gradient reached z_mean or z_log_var, so the KL term could not "
        "train the encoder. Hint: use Keras/TensorFlow operations (keras.ops), not NumPy.")
    checks.check_close(got[f"{KL_GRADIENTS}/with respect to z_mean"], means, rtol=1e-5,
                       atol=1e-4, name="d KL / d mu", hint="d KL / d mu must equal mu.")
    checks.check_close(got[f"{KL_GRADIENTS}/with respect to z_log_var"],
                       0.5 * (np.exp(log_vars) - 1.0), rtol=1e-5, atol=1e-4,
                       name="d KL / d log(sigma^2)",
                       hint="d KL / d log(sigma^2) must equal 0.5 * (sigma^2 - 1).")
    checks.check_close(np.reshape(got[KL_ONE_DIM], -1), [0.5 * (np.exp(-2.0) + 9.0 - 1.0 + 2.0)],
                       rtol=1e-5, name=f"{KL_ONE_DIM} [5.0677]",
                       hint="sum over the last axis, even when it has a single entry.")


# ---------------------------------------------------------------------------------------------
# Task 3: reconstruction_loss


def _reconstruction_inputs(rng):
    x = np.ones((2, 28, 28, 1), np.float32)
    x[1] = 0.0
    top_half = np.zeros((1, 28, 28, 1), np.float32)
    top_half[0, :14] = 1.0
    grey = _f32(rng.uniform(size=(3, 28, 28, 1)))
    predicted = _f32(rng.uniform(0.01, 0.99, size=(3, 28, 28, 1)))
    return {
        RECON_HALF: (x, np.full((2, 28, 28, 1), 0.5, np.float32)),
        RECON_TOP: (top_half, _f32(np.where(top_half == 1.0, 0.9, 0.2))),
        RECON_EXACT: (x, x),
        RECON_WRONG: (x, 1.0 - x),
        RECON_GREY: (grey, predicted),
    }


def verdict_test_reconstruction_loss(got, ref, inputs):
    loss = got[RECON_HALF]
    checks.check_shape(loss, (2,),
                       name="reconstruction_loss(x, x_reconstructed) for images of shape "
                            "(2, 28, 28, 1)",
                       hint="one value per image: sum over the pixel axes (1, 2, 3) and keep the "
                            "batch axis.")
    checks.check_close(loss, [784 * np.log(2.0)] * 2, rtol=1e-4, name=RECON_HALF,
                       hint="sum (do not average) the per-pixel cross-entropy over all 784 "
                            "pixels: a mean gives 0.69, 784 times too small. x_reconstructed "
                            "are probabilities: no from_logits=True.")
    checks.check_close(got[RECON_TOP], [392 * -np.log(0.9) + 392 * -np.log(0.8)], rtol=1e-4,
                       name=RECON_TOP,
                       hint="-[x log p + (1 - x) log(1 - p)] per pixel, summed: white pixels "
                            "cost -log p, black ones -log(1 - p).")
    wrong = got[RECON_WRONG]
    checks.check_finite(wrong, name=RECON_WRONG,
                        hint="clip the probabilities to [epsilon, 1 - epsilon] before taking logs.")
    checks.check_range(got[RECON_EXACT], -0.01, 0.1, name=RECON_EXACT,
                       hint="a perfect reconstruction costs (almost) nothing: clip with a small "
                            "epsilon such as 1e-7, and check the signs.")
    checks.check_range(wrong.astype(np.float64) / 784, 9.0, None,
                       name="cost per confidently wrong pixel (p = 0 where x = 1), in nats",
                       hint="clip with a small epsilon (at most 1e-4; Keras uses 1e-7), so a "
                            "certain mistake costs -log(epsilon) nats.")

    grey, predicted = (np.asarray(a, np.float64) for a in inputs[RECON_GREY])
    loss = got[RECON_GREY]
    checks.check_shape(loss, (3,), name=RECON_GREY, hint="one value per image.")
    checks.check_close(loss, _bernoulli_nll(grey, predicted), rtol=1e-4, name=RECON_GREY,
                       hint="-[x log p + (1 - x) log(1 - p)] summed over the pixels also holds "
                            "for grey x between 0 and 1.")
    _raise_if_failed(got, RECON_GRADIENT)
    assert got[f"{RECON_GRADIENT}/reached x_reconstructed"], (
        "reconstruction_loss: no gradient reached x_reconstructed, so the decoder could not "
        "learn. Hint: use Keras/TensorFlow operations (keras.ops), not NumPy.")
    checks.check_close(got[f"{RECON_GRADIENT}/with respect to x_reconstructed"],
                       (predicted - grey) / (predicted * (1 - predicted)), rtol=1e-3, atol=1e-3,
                       name="d loss / d p on the grey images (expected (p - x) / (p (1 - p)))",
                       hint="write the cross-entropy on probabilities (no logits), with clipping "
                            "that leaves p in [0.01, 0.99] untouched.")


# ---------------------------------------------------------------------------------------------
# Task 4: build_vae_encoder and build_vae_decoder


def _network_inputs(rng):
    latent_dim = int(rng.integers(3, 9))
    return {
        "latent_dim": latent_dim,
        "seeds": tuple(int(s) for s in rng.integers(0, 2**31, size=4)),
        "decoder range codes": _f32(rng.normal(scale=3.0, size=(16, 2))),
        "images": _binary_images(rng, 4),
        "decoder inputs": _f32(rng.normal(size=(4, 2))),
        "many images": _binary_images(rng, int(rng.integers(12, 41))),
        "codes": _f32(rng.normal(size=(int(rng.integers(2, 9)), latent_dim))),
        "projection seed": int(rng.integers(0, 2**31)),
        "redraw seed": int(rng.integers(0, 2**31)),
    }


def verdict_test_build_vae_networks(got, ref, inputs):
    latent_dim = inputs["latent_dim"]
    count, codes = len(inputs["many images"]), len(inputs["codes"])
    _check_io(got, "build_vae_encoder(2)", [(None, 28, 28, 1)], [(None, 2), (None, 2)],
              hint="keras.Model(keras.Input((28, 28, 1)), [z_mean, z_log_var]) with two "
                   "Dense(latent_dim) heads (a list of two outputs, not one concatenated tensor).")
    _check_io(got, "build_vae_decoder(2)", [(None, 2)], [(None, 28, 28, 1)],
              hint="start from keras.Input((latent_dim,)) and end with 28 x 28 x 1 pixels "
                   "(e.g. Conv2DTranspose(1, 3, strides=2, padding='same')).")
    range_codes = len(inputs["decoder range codes"])
    checks.check_shape(got[NET_RANGE], (range_codes, 28, 28, 1), name=NET_RANGE,
                       hint="the decoder maps (None, 2) codes to (None, 28, 28, 1) images.")
    checks.check_range(got[NET_RANGE], 0.0, 1.0, name=NET_RANGE,
                       hint="end the decoder with a sigmoid: it outputs pixel probabilities, and "
                            "reconstruction_loss treats them as probabilities, not logits.")
    _check_trainable(got, "encoder gradients", "encoder",
                     hint="both heads and every layer before them must receive gradients.")
    _check_trainable(got, "decoder gradients", "decoder")

    name = encoder_outputs_name(latent_dim, count)
    z_mean, z_log_var = _model_outputs(got, name, 2, (count, latent_dim), "[z_mean, z_log_var]")
    assert not np.allclose(z_mean, z_log_var), (
        f"{name}: z_mean and z_log_var are equal. Hint: they must come from two different "
        "Dense(latent_dim) heads.")
    _check_log_var_can_be_negative(got, redrawn_name(latent_dim, len(inputs["images"])),
                                   f"build_vae_encoder({latent_dim})")
    assert z_mean.std(axis=0).max() > 0, (
        f"{name}: z_mean is the same for every image. Hint: z_mean must depend on the image.")
    name = decoder_outputs_name(latent_dim, codes)
    output = got[name]
    checks.check_shape(output, (codes, 28, 28, 1), name=name,
                       hint="the decoder maps (None, latent_dim) codes to (None, 28, 28, 1) "
                            "images.")
    checks.check_range(output, 0.0, 1.0, name=name,
                       hint="decoder outputs must be probabilities in [0, 1]: end with a sigmoid.")


# ---------------------------------------------------------------------------------------------
# Task 5: the VAE model

_TRACKERS = ("kl_loss", "loss", "reconstruction_loss")
# Appended to the messages of checks whose values depend on the earlier tasks.
_VAE_ALONE = (" (The hidden tests run your VAE with correct versions of sample_latent, "
              "kl_divergence and reconstruction_loss, so the difference comes from the VAE class.)")


def _tiny_vae_setting(rng, beta, log_var_bias=0.0, zero_decoder=False, **more):
    """The seed, beta and weights of one of the probe's tiny VAEs (dense encoder heads of 2
    units on the flattened image, a dense sigmoid decoder), drawn like Keras's defaults, except
    that each row of the decoder's kernel is shifted by a common +-(0.5 to 1): the decoder's
    mean brightness then follows z, so that decoding another code than the solution's (z_mean
    instead of a sample) gives images whose fingerprint differs from the recorded ones, and the
    lent reconstruction_loss falls back to the student's own (see grading.probe_runtime)."""
    limit = np.sqrt(6.0 / (784 + 2))  # Glorot uniform

    def kernel(shape):
        return rng.uniform(-limit, limit, size=shape)

    shift = rng.choice([-1.0, 1.0], size=(2, 1)) * rng.uniform(0.5, 1.0, size=(2, 1))
    weights = {"mean kernel": kernel((784, 2)), "mean bias": rng.normal(0, 0.1, 2),
               "log_var kernel": kernel((784, 2)),
               "log_var bias": log_var_bias + rng.normal(0, 0.1, 2),
               "decoder kernel": np.zeros((2, 784)) if zero_decoder else shift + kernel((2, 784)),
               "decoder bias": rng.normal(0, 0.1, 784)}
    weights = {name: _f32(value) for name, value in weights.items()}
    return {"seed": int(rng.integers(0, 2**31)), "beta": float(beta), "weights": weights,
            **more}


def _vae_inputs(rng):
    def beta(low, high):
        return round(float(rng.uniform(low, high)), 2)

    size = int(rng.integers(6, 11))
    return {
        "batch": _binary_images(rng, size),
        # Batches of their own sizes: sample_latent is random, and the calls lent to different
        # entries must not share arguments (see probes.py).
        "encode batch": _binary_images(rng, size + 1),
        "call batch": _binary_images(rng, size + 2),
        "main": _tiny_vae_setting(rng, beta(0.2, 0.9)),
        "sure": _tiny_vae_setting(rng, beta(1.5, 3.0), log_var_bias=-40.0),
        "kl steps": [_tiny_vae_setting(rng, beta(low, high), zero_decoder=True,
                                       **{"learning rate": 0.1})
                     for low, high in ((0.5, 1.5), (2.5, 4.0))],
        "epoch": _tiny_vae_setting(rng, beta(1.5, 3.0), log_var_bias=-40.0),
        "epoch images": (np.ones((4, 28, 28, 1), np.float32),
                         np.concatenate([np.zeros((4, 28, 28, 1), np.float32),
                                         _binary_images(rng, 4)])),
        "fresh": _tiny_vae_setting(rng, 1.0),
    }


def _encode(images, weights):
    """(flattened images, z_mean, z_log_var) of the tiny encoder, in float64."""
    w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    return (flat, flat @ w["mean kernel"] + w["mean bias"],
            flat @ w["log_var kernel"] + w["log_var bias"])


def _decode(codes, weights):
    """The tiny decoder's pixel probabilities, in float64."""
    logits = (np.asarray(codes, np.float64) @ np.asarray(weights["decoder kernel"], np.float64)
              + np.asarray(weights["decoder bias"], np.float64))
    return (1.0 / (1.0 + np.exp(-logits))).reshape(-1, 28, 28, 1)


def _kl_step(setting, batch):
    """{parameter: change} of one SGD step on beta * (batch mean KL) alone."""
    flat, mean, log_var = _encode(batch, setting["weights"])
    count = len(batch)
    upstream = {"mean": mean / count, "log_var": 0.5 * (np.exp(log_var) - 1.0) / count}
    scale = -setting["learning rate"] * setting["beta"]
    return {**{f"{h} kernel": scale * flat.T @ upstream[h] for h in HEADS},
            **{f"{h} bias": scale * upstream[h].sum(axis=0) for h in HEADS}}


def verdict_test_vae_model(got, ref, inputs):
    batch, main = inputs["batch"], inputs["main"]
    size = len(batch)
    _raise_if_failed(got, VAE_SETUP)
    beta = main["beta"]
    assert (got[f"{VAE_SETUP}/beta"].size == 1
            and np.isclose(float(got[f"{VAE_SETUP}/beta"]), beta, rtol=1e-6, atol=0)
            and got[f"{VAE_SETUP}/encoder is a keras.Model"]
            and got[f"{VAE_SETUP}/decoder is a keras.Model"]), (
        f"VAE(encoder, decoder, beta={beta:g}) must keep its arguments as vae.encoder, "
        "vae.decoder and vae.beta")
    names = [str(n) for n in got[VAE_METRICS]]
    assert names == list(_TRACKERS), (
        f"VAE.metrics: expected exactly the three Mean trackers loss, reconstruction_loss, "
        f"kl_loss; got {names}. Hint: Keras resets only the trackers listed by the metrics "
        "property at each epoch; a duplicated 'loss' means the property is missing and Keras "
        "added its own loss tracker.")
    _raise_if_failed(got, VAE_ENCODE)
    encoded = len(inputs["encode batch"])
    checks.check_shape(got[f"{VAE_ENCODE}/z_mean"], (encoded, 2),
                       name="z_mean from vae.encode_decode(x)",
                       hint="z_mean, z_log_var = self.encoder(x)")
    checks.check_shape(got[f"{VAE_ENCODE}/x_reconstructed"], (encoded, 28, 28, 1),
                       name="x_reconstructed from vae.encode_decode(x)",
                       hint="return (x, z_mean, z_log_var, self.decoder(z)) with z = "
                            "sample_latent(z_mean, z_log_var).")
    checks.check_range(got[VAE_CALL], 0.0, 1.0, name=VAE_CALL,
                       hint="call(inputs) returns the decoder's probabilities from encode_decode.")

    if got.error(VAE_TRAIN):
        raise AssertionError(
            f"vae.train_step(x) raised {got.error(VAE_TRAIN)[:300]}. Hint: compute the whole "
            "loss, reconstruction and KL, inside the `with tf.GradientTape() as tape:` block, "
            "then self.optimizer.apply(tape.gradient(loss, self.trainable_variables), "
            "self.trainable_variables).")
    logs = {k: float(got[f"{VAE_TRAIN}/logs/{k}"]) for k in _sub_keys(got, f"{VAE_TRAIN}/logs")}
    missing = set(_TRACKERS) - set(logs)
    assert not missing, (f"train_step must return the trackers' results; keys {sorted(missing)} "
                         f"are missing from {sorted(logs)}")
    tracked = {k: float(got[f"{VAE_TRAIN}/trackers/{k}"])
               for k in _sub_keys(got, f"{VAE_TRAIN}/trackers")}
    assert all(np.isclose(logs[name], tracked[name], rtol=1e-6) for name in tracked), (
        f"train_step returned {logs}, but the trackers listed in vae.metrics hold {tracked}. "
        "Hint: update and return this model's own trackers (the ones in metrics, which Keras "
        "resets at each epoch), not global ones.")
    checks.check_close(logs["loss"], logs["reconstruction_loss"] + beta * logs["kl_loss"],
                       rtol=1e-5,
                       name=f"logged loss with beta = {beta:g} (expected reconstruction_loss + "
                            "beta * kl_loss)",
                       hint="loss = reconstruction + self.beta * kl, each a batch mean.")
    expected_kl = _kl(*_encode(batch, main["weights"])[1:]).mean()
    assert np.isclose(logs["kl_loss"], expected_kl, rtol=1e-4), (
        f"train_step's kl_loss must be the batch mean of the per-example KL, computed before the "
        f"update: expected {expected_kl:.3f}, got {logs['kl_loss']:.3f}. Hint: keras.ops.mean of "
        "kl_divergence(z_mean, z_log_var) from Task 2." + _VAE_ALONE)
    assert np.all(got[f"{VAE_TRAIN}/encoder weights moved"]), (
        "train_step did not update every encoder weight. Hint: apply the gradients to "
        "self.trainable_variables (encoder and decoder), not only to the decoder's.")
    assert np.all(got[f"{VAE_TRAIN}/decoder weights moved"]), (
        "train_step did not update every decoder weight. Hint: apply the gradients to "
        "self.trainable_variables.")
    _raise_if_failed(got, VAE_TEST)
    keys = {str(k) for k in got[f"{VAE_TEST}/keys"]}
    assert set(_TRACKERS) <= keys, (
        f"test_step must return the three trackers' results; got keys {sorted(keys)}")
    assert not np.any(got[f"{VAE_TEST}/weights changed"]), (
        "test_step changed the weights: it must only compute the losses and update the trackers")

    # 1. With sigma ~ 0 (log-variance bias -40) z = z_mean, so the logged values are exact.
    _raise_if_failed(got, VAE_SURE)
    sure = inputs["sure"]
    _, mean, log_var = _encode(batch, sure["weights"])
    expected_reconstruction = _bernoulli_nll(batch, _decode(mean, sure["weights"])).mean()
    expected_kl = _kl(mean, log_var).mean()
    logs = {k: float(got[f"{VAE_SURE}/logs/{k}"]) for k in _sub_keys(got, f"{VAE_SURE}/logs")}
    missing = set(_TRACKERS) - set(logs)
    assert not missing, f"{VAE_SURE}: keys {sorted(missing)} are missing from {sorted(logs)}"
    assert np.isclose(logs["reconstruction_loss"], expected_reconstruction, rtol=1e-3), (
        f"train_step's reconstruction_loss must be the batch mean of the per-image sum over "
        f"pixels: expected {expected_reconstruction:.2f}, got {logs['reconstruction_loss']:.2f} "
        f"(a per-pixel mean is 784x smaller, a batch sum {size}x larger). Hint: keras.ops.mean "
        "of reconstruction_loss(x, x_reconstructed) from Task 3." + _VAE_ALONE)
    assert np.isclose(logs["kl_loss"], expected_kl, rtol=1e-4), (
        f"train_step's kl_loss must be the batch mean of the per-example KL: expected "
        f"{expected_kl:.3f}, got {logs['kl_loss']:.3f}. Hint: keras.ops.mean of "
        "kl_divergence(z_mean, z_log_var) from Task 2." + _VAE_ALONE)
    sure_beta = sure["beta"]
    expected_loss = expected_reconstruction + sure_beta * expected_kl
    assert np.isclose(logs["loss"], expected_loss, rtol=1e-3), (
        f"train_step's loss with beta = {sure_beta:g} must be reconstruction + {sure_beta:g} * kl "
        f"= {expected_loss:.2f}; got {logs['loss']:.2f}")

    # 2. With a decoder that ignores z, only the KL moves the encoder: one SGD step must be
    #    exactly -learning_rate * beta * gradient of the batch-mean KL.
    for setting in inputs["kl steps"]:
        kl_weight = setting["beta"]
        name = kl_step_name(kl_weight, setting["learning rate"])
        _raise_if_failed(got, name)
        for parameter, step in _kl_step(setting, batch).items():
            after = np.asarray(got[f"{name}/{parameter}"], np.float64)
            checks.check_shape(after, step.shape, name=f"{name}: the encoder's {parameter}")
            change = after - np.asarray(setting["weights"][parameter], np.float64)
            assert np.allclose(change, step, rtol=1e-3, atol=1e-7), (
                f"with beta = {kl_weight:g}, one SGD step must move the encoder by "
                f"-learning_rate * beta * d(mean KL)/dw (the decoder ignores z here, so only the "
                f"KL term acts): largest expected change {np.abs(step).max():.3g}, got "
                f"{np.abs(change).max():.3g}. Is the KL (times beta, as a batch mean) part of "
                "the loss inside the tape?" + _VAE_ALONE)

    # 3. The trackers are reset at each epoch: after a train_step, the epoch of a fit averages
    #    its own two batches only.
    _raise_if_failed(got, VAE_EPOCH)
    epoch = inputs["epoch"]
    history = {k: float(got[f"{VAE_EPOCH}/history/{k}"])
               for k in _sub_keys(got, f"{VAE_EPOCH}/history")}
    missing = set(_TRACKERS) - set(history)
    assert not missing, (f"{VAE_EPOCH}: the epoch's logs miss {sorted(missing)}; got "
                         f"{sorted(history)}. Hint: train_step returns the trackers' results.")
    epoch_images = inputs["epoch images"][1]
    half = len(epoch_images) // 2
    kl_per_batch = [_kl(*_encode(part, epoch["weights"])[1:]).mean()
                    for part in (epoch_images[:half], epoch_images[half:])]
    assert np.isclose(history["kl_loss"], np.mean(kl_per_batch), rtol=1e-4), (
        f"the epoch's kl_loss must average that epoch's batches only: expected "
        f"{np.mean(kl_per_batch):.3f}, got {history['kl_loss']:.3f}. Hint: list the trackers in "
        "the metrics property (Keras resets those at each epoch), update the trackers of this "
        "model, and never reset them inside train_step.")
    epoch_beta = epoch["beta"]
    assert np.isclose(history["loss"],
                      history["reconstruction_loss"] + epoch_beta * history["kl_loss"],
                      rtol=1e-4), (
        f"the epoch's loss must equal its reconstruction_loss + beta * kl_loss "
        f"(beta = {epoch_beta:g}): got {history['loss']:.3f} and "
        f"{history['reconstruction_loss']:.3f} + {epoch_beta:g} * {history['kl_loss']:.3f}")

    # 4. The decoder sees a fresh sample z each step, not z_mean.
    values = got[VAE_FRESH]
    assert values.shape == (2,) and values[0] != values[1], (
        "two train steps with frozen weights gave the same reconstruction_loss: decode z = "
        "sample_latent(z_mean, z_log_var), a fresh sample, not z_mean")


# ---------------------------------------------------------------------------------------------
# Task 6: build_cvae


def _cvae_inputs(rng):
    one_hot = np.eye(10, dtype=np.float32)
    label_ids = rng.integers(0, 10, size=6)
    other_ids = (label_ids + rng.integers(1, 10, size=6)) % 10  # another label for every image
    latent_dim, num_classes = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    count = int(rng.integers(3, 8))
    return {
        "images": _binary_images(rng, 6),
        "labels": one_hot[label_ids],
        "other labels": one_hot[other_ids],
        "codes": _f32(rng.normal(scale=2.0, size=(6, 2))),
        "latent_dim": latent_dim,
        "num_classes": num_classes,
        "seeds": tuple(int(s) for s in rng.integers(0, 2**31, size=2)),
        "small images": _binary_images(rng, count),
        "small labels": np.eye(num_classes, dtype=np.float32)[
            rng.integers(0, num_classes, size=count)],
        "small codes": _f32(rng.normal(size=(count, latent_dim))),
        "projection seed": int(rng.integers(0, 2**31)),
        "redraw seed": int(rng.integers(0, 2**31)),
    }


def verdict_test_build_cvae(got, ref, inputs):
    _check_io(got, "build_cvae(2, 10) encoder", [(None, 28, 28, 1), (None, 10)],
              [(None, 2), (None, 2)],
              hint="keras.Model([images, labels], [z_mean, z_log_var]) with labels = "
                   "keras.Input((num_classes,)).")
    _check_io(got, "build_cvae(2, 10) decoder", [(None, 2), (None, 10)], [(None, 28, 28, 1)],
              hint="keras.Model([z, labels], probabilities) with z = keras.Input((latent_dim,)).")
    probabilities = got[CVAE_PROBABILITIES]
    checks.check_range(probabilities, 0.0, 1.0, name=CVAE_PROBABILITIES,
                       hint="end the decoder with a sigmoid: pixel probabilities, not logits.")
    other = got[CVAE_OTHER]
    count = len(inputs["codes"])
    checks.check_shape(probabilities, (count, 28, 28, 1), name=CVAE_PROBABILITIES,
                       hint="one 28 x 28 x 1 image per code.")
    checks.check_shape(other, (count, 28, 28, 1), name=CVAE_OTHER,
                       hint="one 28 x 28 x 1 image per code.")
    changed = np.abs(other.astype(np.float64) - probabilities).max(axis=(1, 2, 3))
    assert changed.min() > 1e-6, (
        "the conditional decoder ignores the label: the same z with another label gave the same "
        "image. Hint: concatenate the one-hot label to z before the first Dense layer.")
    codes, other_codes = got[CVAE_CODES], got[CVAE_CODES_OTHER]
    count = len(inputs["images"])
    checks.check_shape(codes, (count, 2), name=CVAE_CODES,
                       hint="z_mean has shape (None, latent_dim).")
    checks.check_shape(other_codes, (count, 2), name=CVAE_CODES_OTHER,
                       hint="z_mean has shape (None, latent_dim).")
    changed = np.abs(other_codes.astype(np.float64) - codes).max(axis=1)
    assert changed.min() > 1e-6, (
        "the conditional encoder ignores the label: the same image with another label gave the "
        "same z_mean. Hint: concatenate the one-hot label to the flattened image features.")
    _check_trainable(got, "conditional encoder gradients", "conditional encoder")
    _check_trainable(got, "conditional decoder gradients", "conditional decoder")

    latent_dim, num_classes = inputs["latent_dim"], inputs["num_classes"]
    count = len(inputs["small images"])
    what = "[z_mean, z_log_var]"
    z_mean, z_log_var = _model_outputs(got, cvae_small_name(latent_dim, num_classes, count), 2,
                                       (count, latent_dim), what)
    (second_mean, _) = _model_outputs(got, cvae_second_image_name(latent_dim, num_classes), 2,
                                      (1, latent_dim), what)
    assert not np.allclose(z_mean[0], second_mean[0]), (
        "the conditional encoder ignores the image: two images with the same label gave the same "
        "z_mean. Hint: the encoder's convolutions (or Dense layers) must see the image, and their "
        "features must reach both heads.")
    _check_log_var_can_be_negative(got, cvae_redrawn_name(latent_dim, num_classes, count),
                                   f"build_cvae({latent_dim}, {num_classes}) encoder")
    name = cvae_decoder_name(latent_dim, num_classes, count)
    output = got[name]
    checks.check_shape(output, (count, 28, 28, 1), name=name,
                       hint="the decoder maps [z, labels] to (None, 28, 28, 1) probabilities.")
    checks.check_range(output, 0.0, 1.0, name=name,
                       hint="end the decoder with a sigmoid: pixel probabilities, not logits.")


# ---------------------------------------------------------------------------------------------
# Design task: a VAE whose held-out negative ELBO gets under a bound in a short training

DESIGN_HELD_OUT = 500  # test-split digits the trial encodes and decodes
DESIGN_SAMPLES = 2  # codes sampled per held-out digit (the grader's noise)


def _mnist():
    with contextlib.redirect_stdout(io.StringIO()):
        return datasets.load_mnist(source="bundled")


def _design_inputs(rng) -> dict:
    (x_train, _), (x_test, _) = _mnist()
    budget = design.VAE_BUDGET
    return {"max_latent_dim": design.VAE_MAX_LATENT, "grader_only": {
        "seed": int(rng.integers(2**31)),
        "train_index": rng.permutation(len(x_train))[:budget.train_images],
        "heldout_index": rng.permutation(len(x_test))[:DESIGN_HELD_OUT],
        "samples": DESIGN_SAMPLES}}


def design_outcome(got, inputs) -> dict:
    """{"reconstruction", "kl", "measure", "active"}: the held-out negative ELBO in nats per
    image (the target is on it), computed here from the trained design's outputs for the
    held-out digits (got.trial): the closed-form KL of its means and log-variances to N(0, I),
    plus the Bernoulli negative log-likelihood of each digit under the decoder's probabilities,
    averaged over the codes sampled with the grader's noise; and how many latent dimensions carry
    more than 0.1 nats of KL on average (active)."""
    trial, grader = got.trial, inputs["grader_only"]
    _, (x_test, _) = _mnist()
    x = datasets.binarize(x_test[np.asarray(grader["heldout_index"])]).astype(np.float64)
    mean = np.asarray(trial["z_mean"], np.float64)
    log_var = np.asarray(trial["z_log_var"], np.float64)
    p = np.asarray(trial["probabilities"], np.float64)
    count, samples = len(x), int(grader["samples"])
    if (mean.ndim != 2 or mean.shape[0] != count or log_var.shape != mean.shape
            or p.shape != (samples, *x.shape)):
        raise AssertionError(f"the trained design's outputs for {count} held-out digits did not "
                             "have the shapes of the contract")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(log_var))
            and np.all(np.isfinite(p)) and np.all(np.abs(log_var) < 80)):
        raise AssertionError("the trained design gave values that are not finite numbers (or "
                             "log-variances beyond +-80) for held-out digits: training diverged. "
                             "Hint: a smaller learning rate.")
    if p.min() < -1e-6 or p.max() > 1 + 1e-6:
        raise AssertionError(
            "the trained decoder's outputs are not probabilities: they range from "
            f"{p.min():.3g} to {p.max():.3g}. Hint: end the decoder with a sigmoid (pixel "
            "probabilities in [0, 1], as in Task 4), not with logits.")
    kl_per_dimension = 0.5 * (np.exp(log_var) + mean ** 2 - 1.0 - log_var)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    reconstruction = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(2, 3, 4)).mean(axis=0)
    kl = kl_per_dimension.sum(axis=1)
    return {"reconstruction": float(reconstruction.mean()), "kl": float(kl.mean()),
            "measure": float((reconstruction + kl).mean()),
            "active": int(np.sum(kl_per_dimension.mean(axis=0) > 0.1))}


def verdict_test_design_vae(got, ref, inputs):
    budget = design.VAE_BUDGET
    trial_outcome(got, "design_vae()", f"{budget.epochs} epochs of {budget.train_images:,} digits")
    outcome = design_outcome(got, inputs)
    assert outcome["measure"] <= design.VAE_TARGET, (
        f"the grader trained your design with its own seed on {budget.train_images:,} binarised "
        f"digits ({budget.epochs} epochs): its negative ELBO on {DESIGN_HELD_OUT} held-out test "
        f"digits is {outcome['measure']:.1f} nats per image (reconstruction "
        f"{outcome['reconstruction']:.1f} + KL {outcome['kl']:.1f}, {outcome['active']} active "
        f"latent dimensions); the target is {design.VAE_TARGET:g} or less. Hint: see where the "
        "design stands in its check cell, and try its hints.")
