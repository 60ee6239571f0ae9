"""Hidden tests of 02_vae. Probes run in the student's sandboxed kernel after the notebook and
record outputs; verdicts run in the grader and compare them with the solution's or with the
closed forms (see grading/verdicts.py). Each verdict checks at least what the visible checks of
its cell check, on the probe's data."""

import importlib.util

import numpy as np

# Probes run in the student's kernel after the student's code, which may have patched the
# imported common.checks (to make a check pass): this module uses its own copy, loaded afresh
# from the read-only file.
_checks_spec = importlib.util.find_spec("common.checks")
checks = importlib.util.module_from_spec(_checks_spec)
_checks_spec.loader.exec_module(checks)

# ---------------------------------------------------------------------------------------------
# Shared by probes and verdicts (NumPy only).


def _vae_batch():
    """The 8 binary images of the VAE test cell."""
    return (np.random.default_rng(0).uniform(size=(8, 28, 28, 1)) > 0.5).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Probe helpers (they run in the kernel; TensorFlow and Keras are imported inside).


def _cached(build):
    """A function of no argument returning build()'s value, computed once (its error too)."""
    box = []

    def get():
        if not box:
            try:
                box.append((True, build()))
            except Exception as error:
                box.append((False, error))
        ok, value = box[0]
        if not ok:
            raise value
        return value

    return get


def _shapes(shape):
    """A Keras shape, or a list of shapes, as {"count": n, "0": dims, ...} with None as -1."""
    shapes = list(shape) if isinstance(shape, list) else [shape]
    record = {"count": len(shapes)}
    for i, one in enumerate(shapes):
        record[str(i)] = np.array([-1 if d is None else int(d) for d in one], dtype=np.int64)
    return record


def _model_io(model):
    return {"inputs": _shapes(model.input_shape), "outputs": _shapes(model.output_shape)}


def _outputs(value):
    """A model's output(s) as {"count": n, "0": array, ...}."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    record = {"count": len(values)}
    for i, one in enumerate(values):
        record[str(i)] = one
    return record


def _gradients(model, inputs):
    """As common.checks.check_trainable: which trainable variables a fixed random projection of
    the outputs reaches, and with a nonzero gradient."""
    import tensorflow as tf

    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
        rng = np.random.default_rng(0)
        loss = tf.add_n([tf.reduce_sum(o * rng.normal(size=o.shape).astype(np.float32))
                         for o in flat])
    grads = tape.gradient(loss, variables)
    return {"variables": np.array([str(getattr(v, "path", getattr(v, "name", "?")))
                                   for v in variables], dtype=str),
            "reached": np.array([g is not None for g in grads], dtype=bool),
            "nonzero": np.array([g is not None and bool(np.any(tf.convert_to_tensor(g).numpy()))
                                 for g in grads], dtype=bool)}


def _check_log_var_can_be_negative(got, name, label):
    """The verdict on z_log_var for 8 random draws of the encoder's weights (probed with
    checks.redrawn_outputs). A head without activation gives a negative value with probability
    at least 1/2 per unit and draw (8 draws of 4 or 5 units: a false alarm below 1 in 4
    billion), whatever its initialiser; relu, softplus or exp on the head never does."""
    log_vars = got[name]
    assert (np.asarray(log_vars, dtype=np.float64) < 0).any(), (
        f"{label}: z_log_var is never negative, not even with the weights drawn at random. "
        "Hint: the log-variance head must have no activation (relu, softplus or exp would force "
        "sigma >= 1, so the encoder could never be sure of a code).")


def _seeded(build, seed):
    def run():
        import keras

        keras.utils.set_random_seed(seed)
        return build()

    return _cached(run)


# ---------------------------------------------------------------------------------------------
# Verdict helpers (NumPy and common.checks only).


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


# ---------------------------------------------------------------------------------------------
# Task 1: sample_latent

_MU = np.array([0.0, 1.0, -2.0], np.float32)
_SIGMA = np.array([1.0, 2.0, 0.5], np.float32)


def _gradient_inputs():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(5, 3)).astype(np.float32)
    log_vars = rng.normal(size=(5, 3)).astype(np.float32)
    weights = rng.normal(size=(5, 3)).astype(np.float32)
    return means, log_vars, weights


def probe_test_sample_latent(answers):
    import tensorflow as tf

    sample_latent = answers["sample_latent"]
    many_means = np.tile(_MU, (20000, 1))
    many_log_vars = np.tile(np.log(_SIGMA ** 2), (20000, 1))
    small = np.zeros((4, 2), np.float32)

    def gradients():
        means, log_vars, weights = _gradient_inputs()
        mean_variable, log_var_variable = tf.Variable(means), tf.Variable(log_vars)
        with tf.GradientTape() as tape:
            z = sample_latent(mean_variable, log_var_variable)
            objective = tf.reduce_sum(weights * z)
        grad_mean, grad_log_var = tape.gradient(objective, [mean_variable, log_var_variable])
        record = {"z": z, "reached z_mean": grad_mean is not None,
                  "reached z_log_var": grad_log_var is not None}
        if grad_mean is not None:
            record["with respect to z_mean"] = grad_mean
        if grad_log_var is not None:
            record["with respect to z_log_var"] = grad_log_var
        return record

    def in_tf_function():
        graph_sample = tf.function(sample_latent,
                                   input_signature=[tf.TensorSpec((None, 3), tf.float32)] * 2)
        return {"first": graph_sample(many_means[:8], many_log_vars[:8]),
                "second": graph_sample(many_means[:8], many_log_vars[:8])}

    return {
        "sample_latent(z_mean, z_log_var) for inputs of shape (20000, 3)":
            lambda: sample_latent(many_means, many_log_vars),
        "two calls of sample_latent with seed=None": lambda: {
            "first": sample_latent(small, small), "second": sample_latent(small, small)},
        "two calls with seed=7": lambda: {
            "first": sample_latent(small, small, seed=7),
            "second": sample_latent(small, small, seed=7)},
        "gradients of sum(weights * z) for z = sample_latent(z_mean, z_log_var)": gradients,
        "sample_latent inside a tf.function with an unknown batch size": in_tf_function,
        "sample_latent for 30,000 codes with z_mean = 3 and z_log_var = -6": lambda: sample_latent(
            np.full((30000, 1), 3.0, np.float32), np.full((30000, 1), -6.0, np.float32)),
    }


def verdict_test_sample_latent(got, ref):
    name = "sample_latent(z_mean, z_log_var) for inputs of shape (20000, 3)"
    z = got[name]
    checks.check_shape(z, (20000, 3), name=name,
                       hint="z has the shape of z_mean: draw epsilon with keras.ops.shape(z_mean).")
    checks.check_dtype(z, "float32", name="sample_latent(z_mean, z_log_var)",
                       hint="keras.random.normal draws float32 noise.")
    assert not np.allclose(z, np.tile(_MU, (20000, 1))), (
        "sample_latent: expected random codes around z_mean; got z equal to z_mean. "
        "Hint: epsilon must be drawn from N(0, I), not set to zero.")
    checks.check_close(z.mean(axis=0), _MU, atol=0.08, name="mean of z over 20,000 draws",
                       hint="z = z_mean + sigma * epsilon with epsilon of mean 0.")
    checks.check_close(z.std(axis=0), _SIGMA, rtol=0.05,
                       name="standard deviation of z over 20,000 draws (sigma = 1, 2, 0.5)",
                       hint="scale epsilon ~ N(0, 1) by the standard deviation "
                            "exp(0.5 * z_log_var), not by the variance exp(z_log_var).")

    name = "two calls of sample_latent with seed=None"
    _raise_if_failed(got, name)
    first, second = got[f"{name}/first"], got[f"{name}/second"]
    assert first.shape != second.shape or not np.allclose(first, second), (
        "sample_latent: two calls with seed=None returned the same z; expected fresh noise on "
        "every call. Hint: do not fix epsilon or a seed; draw epsilon inside the function with "
        "keras.random.normal(..., seed=seed).")
    name = "two calls with seed=7"
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
    means, _, weights = _gradient_inputs()
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
            f"train_step: {got.error(name)}. Hint: use keras.ops.shape(z_mean) and "
            "keras.random.normal.")
    first, second = got[f"{name}/first"], got[f"{name}/second"]
    checks.check_shape(first, (8, 3), name="sample_latent in a tf.function for inputs (8, 3)",
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

_KL_KNOWN = "KL for mu = (1, 2), sigma^2 = (1, 1) [2.5] and for mu = 0, sigma^2 = (4, 1) [0.807]"
_KL_RANDOM = "kl_divergence(z_mean, z_log_var) for random inputs of shape (7, 5)"
_KL_GRADIENTS = "gradients of the summed kl_divergence for the random (7, 5) inputs"
_KL_ONE_DIM = "kl_divergence for latent_dim = 1, mu = 3, log(sigma^2) = -2"


def _kl_random_inputs():
    rng = np.random.default_rng(1)
    return rng.normal(size=(7, 5)).astype(np.float32), rng.normal(size=(7, 5)).astype(np.float32)


def probe_test_kl_divergence(answers):
    import tensorflow as tf

    kl_divergence = answers["kl_divergence"]
    zeros = np.zeros((3, 4), np.float32)
    z_mean = np.array([[1.0, 2.0], [0.0, 0.0]], np.float32)
    z_log_var = np.array([[0.0, 0.0], [np.log(4.0), 0.0]], np.float32)
    means, log_vars = _kl_random_inputs()

    def gradients():
        mean_variable, log_var_variable = tf.Variable(means), tf.Variable(log_vars)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(kl_divergence(mean_variable, log_var_variable))
        grad_mean, grad_log_var = tape.gradient(total, [mean_variable, log_var_variable])
        record = {"reached z_mean": grad_mean is not None,
                  "reached z_log_var": grad_log_var is not None}
        if grad_mean is not None:
            record["with respect to z_mean"] = grad_mean
        if grad_log_var is not None:
            record["with respect to z_log_var"] = grad_log_var
        return record

    return {
        "kl_divergence(z_mean, z_log_var) for inputs of shape (3, 4)":
            lambda: kl_divergence(zeros, zeros),
        _KL_KNOWN: lambda: kl_divergence(z_mean, z_log_var),
        _KL_RANDOM: lambda: kl_divergence(means, log_vars),
        _KL_GRADIENTS: gradients,
        _KL_ONE_DIM: lambda: kl_divergence(np.array([[3.0]], np.float32),
                                           np.array([[-2.0]], np.float32)),
    }


def verdict_test_kl_divergence(got, ref):
    name = "kl_divergence(z_mean, z_log_var) for inputs of shape (3, 4)"
    kl = got[name]
    checks.check_shape(kl, (3,), name=name,
                       hint="one value per example: sum over the latent axis (axis=-1) only, "
                            "never over the batch.")
    checks.check_close(kl, [0.0, 0.0, 0.0], atol=1e-6, name="KL(N(0, I) || N(0, I))",
                       hint="q equals the prior, so the KL must be 0: check the signs of the -1 "
                            "and -log(sigma^2) terms (lecture 02's slide has them wrong).")
    expected = [0.5 * (1.0 + 4.0), 0.5 * (4.0 - 1.0 - np.log(4.0))]
    checks.check_close(got[_KL_KNOWN], expected, rtol=1e-5, atol=1e-5, name=_KL_KNOWN,
                       hint="per dimension 0.5 * (exp(z_log_var) + z_mean^2 - 1 - z_log_var), "
                            "summed (not averaged) over the latent dimensions; z_log_var is "
                            "log(sigma^2), not sigma^2.")

    means, log_vars = _kl_random_inputs()
    variances = np.exp(log_vars.astype(np.float64))
    reference = 0.5 * (variances.sum(1) + (means.astype(np.float64) ** 2).sum(1) - 5
                       - log_vars.astype(np.float64).sum(1))
    kl = got[_KL_RANDOM]
    checks.check_shape(kl, (7,), name=_KL_RANDOM, hint="one value per example.")
    checks.check_close(kl, reference, rtol=1e-4, atol=1e-8, name=_KL_RANDOM,
                       hint="0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over the latent axis: "
                            "check the sign of every term.")
    checks.check_range(kl, 0.0, None, name=_KL_RANDOM, hint="a KL divergence is never negative.")

    _raise_if_failed(got, _KL_GRADIENTS)
    assert got[f"{_KL_GRADIENTS}/reached z_mean"] and got[f"{_KL_GRADIENTS}/reached z_log_var"], (
        "kl_divergence: no gradient reached z_mean or z_log_var, so the KL term could not "
        "train the encoder. Hint: use Keras/TensorFlow operations (keras.ops), not NumPy.")
    checks.check_close(got[f"{_KL_GRADIENTS}/with respect to z_mean"], means, rtol=1e-5, atol=1e-4,
                       name="d KL / d mu", hint="d KL / d mu must equal mu.")
    checks.check_close(got[f"{_KL_GRADIENTS}/with respect to z_log_var"],
                       0.5 * (np.exp(log_vars) - 1.0), rtol=1e-5, atol=1e-4,
                       name="d KL / d log(sigma^2)",
                       hint="d KL / d log(sigma^2) must equal 0.5 * (sigma^2 - 1).")
    checks.check_close(np.reshape(got[_KL_ONE_DIM], -1), [0.5 * (np.exp(-2.0) + 9.0 - 1.0 + 2.0)],
                       rtol=1e-5, name=f"{_KL_ONE_DIM} [5.0677]",
                       hint="sum over the last axis, even when it has a single entry.")


# ---------------------------------------------------------------------------------------------
# Task 3: reconstruction_loss

_RECON_HALF = "loss of p = 0.5 at every pixel (784 log 2 = 543.4 nats)"
_RECON_TOP = "loss with p = 0.9 on 392 white pixels and p = 0.2 on 392 black ones"
_RECON_EXACT = "loss of a perfect reconstruction (p = x, exactly 0 or 1)"
_RECON_WRONG = "loss when x_reconstructed is exactly 0 where x = 1"
_RECON_GREY = "reconstruction_loss on random grey images of shape (3, 28, 28, 1)"
_RECON_GRADIENT = "gradient of the summed reconstruction_loss on the grey images"


def _grey_inputs():
    rng = np.random.default_rng(2)
    grey = rng.uniform(size=(3, 28, 28, 1)).astype(np.float32)
    predicted = rng.uniform(0.01, 0.99, size=(3, 28, 28, 1)).astype(np.float32)
    return grey, predicted


def probe_test_reconstruction_loss(answers):
    import tensorflow as tf

    reconstruction_loss = answers["reconstruction_loss"]
    x = np.ones((2, 28, 28, 1), np.float32)
    x[1] = 0.0
    half = np.full((2, 28, 28, 1), 0.5, np.float32)
    top_half = np.zeros((1, 28, 28, 1), np.float32)
    top_half[0, :14] = 1.0
    probabilities = np.where(top_half == 1.0, 0.9, 0.2).astype(np.float32)
    grey, predicted = _grey_inputs()

    def gradient():
        predicted_variable = tf.Variable(predicted)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(reconstruction_loss(grey, predicted_variable))
        result = tape.gradient(total, predicted_variable)
        record = {"reached x_reconstructed": result is not None}
        if result is not None:
            record["with respect to x_reconstructed"] = result
        return record

    return {_RECON_HALF: lambda: reconstruction_loss(x, half),
            _RECON_TOP: lambda: reconstruction_loss(top_half, probabilities),
            _RECON_EXACT: lambda: reconstruction_loss(x, x),
            _RECON_WRONG: lambda: reconstruction_loss(x, 1.0 - x),
            _RECON_GREY: lambda: reconstruction_loss(grey, predicted),
            _RECON_GRADIENT: gradient}


def verdict_test_reconstruction_loss(got, ref):
    loss = got[_RECON_HALF]
    checks.check_shape(loss, (2,),
                       name="reconstruction_loss(x, x_reconstructed) for images of shape "
                            "(2, 28, 28, 1)",
                       hint="one value per image: sum over the pixel axes (1, 2, 3) and keep the "
                            "batch axis.")
    checks.check_close(loss, [784 * np.log(2.0)] * 2, rtol=1e-4, name=_RECON_HALF,
                       hint="sum (do not average) the per-pixel cross-entropy over all 784 "
                            "pixels: a mean gives 0.69, 784 times too small. x_reconstructed "
                            "are probabilities: no from_logits=True.")
    checks.check_close(got[_RECON_TOP], [392 * -np.log(0.9) + 392 * -np.log(0.8)], rtol=1e-4,
                       name=_RECON_TOP,
                       hint="-[x log p + (1 - x) log(1 - p)] per pixel, summed: white pixels "
                            "cost -log p, black ones -log(1 - p).")
    wrong = got[_RECON_WRONG]
    checks.check_finite(wrong, name=_RECON_WRONG,
                        hint="clip the probabilities to [epsilon, 1 - epsilon] before taking logs.")
    checks.check_range(got[_RECON_EXACT], -0.01, 0.1, name=_RECON_EXACT,
                       hint="a perfect reconstruction costs (almost) nothing: clip with a small "
                            "epsilon such as 1e-7, and check the signs.")
    checks.check_range(wrong.astype(np.float64) / 784, 9.0, None,
                       name="cost per confidently wrong pixel (p = 0 where x = 1), in nats",
                       hint="clip with a small epsilon (at most 1e-4; Keras uses 1e-7), so a "
                            "certain mistake costs -log(epsilon) nats.")

    grey, predicted = _grey_inputs()
    p = predicted.astype(np.float64)
    reference = -(grey * np.log(p) + (1 - grey) * np.log(1 - p)).sum(axis=(1, 2, 3))
    loss = got[_RECON_GREY]
    checks.check_shape(loss, (3,), name=_RECON_GREY, hint="one value per image.")
    checks.check_close(loss, reference, rtol=1e-4, name=_RECON_GREY,
                       hint="-[x log p + (1 - x) log(1 - p)] summed over the pixels also holds "
                            "for grey x between 0 and 1.")
    _raise_if_failed(got, _RECON_GRADIENT)
    assert got[f"{_RECON_GRADIENT}/reached x_reconstructed"], (
        "reconstruction_loss: no gradient reached x_reconstructed, so the decoder could not "
        "learn. Hint: use Keras/TensorFlow operations (keras.ops), not NumPy.")
    checks.check_close(got[f"{_RECON_GRADIENT}/with respect to x_reconstructed"],
                       (predicted - grey) / (predicted * (1 - predicted)), rtol=1e-3, atol=1e-3,
                       name="d loss / d p on the grey images (expected (p - x) / (p (1 - p)))",
                       hint="write the cross-entropy on probabilities (no logits), with clipping "
                            "that leaves p in [0.01, 0.99] untouched.")


# ---------------------------------------------------------------------------------------------
# Task 4: build_vae_encoder and build_vae_decoder

_NET_RANGE = "decoder outputs for random codes"
_NET_ENCODER_5 = "build_vae_encoder(5) outputs for 32 random images"
_NET_DECODER_5 = "build_vae_decoder(5) outputs for 3 random codes"
_NET_REDRAWN = "z_log_var of build_vae_encoder(5) for 4 images, with its weights drawn at random"


def probe_test_build_vae_networks(answers):
    build_vae_encoder = answers["build_vae_encoder"]
    build_vae_decoder = answers["build_vae_decoder"]
    rng = np.random.default_rng(0)  # the test cell's draws, in its order
    codes = rng.normal(scale=3.0, size=(16, 2)).astype(np.float32)
    images = (rng.uniform(size=(4, 28, 28, 1)) > 0.5).astype(np.float32)
    decoder_inputs = rng.normal(size=(4, 2)).astype(np.float32)
    images_32 = (rng.uniform(size=(32, 28, 28, 1)) > 0.5).astype(np.float32)
    codes_5 = rng.normal(size=(3, 5)).astype(np.float32)
    encoder = _seeded(lambda: build_vae_encoder(2), 1)
    decoder = _seeded(lambda: build_vae_decoder(2), 2)
    encoder_5 = _seeded(lambda: build_vae_encoder(5), 3)
    decoder_5 = _seeded(lambda: build_vae_decoder(5), 4)
    return {
        "build_vae_encoder(2)": lambda: _model_io(encoder()),
        "build_vae_decoder(2)": lambda: _model_io(decoder()),
        _NET_RANGE: lambda: decoder()(codes),
        "encoder gradients": lambda: _gradients(encoder(), images),
        "decoder gradients": lambda: _gradients(decoder(), decoder_inputs),
        _NET_ENCODER_5: lambda: _outputs(encoder_5()(images_32)),
        _NET_DECODER_5: lambda: decoder_5()(codes_5),
        _NET_REDRAWN: lambda: checks.redrawn_outputs(encoder_5(), images_32[:4], 1, redraws=8),
    }


def verdict_test_build_vae_networks(got, ref):
    _check_io(got, "build_vae_encoder(2)", [(None, 28, 28, 1)], [(None, 2), (None, 2)],
              hint="keras.Model(keras.Input((28, 28, 1)), [z_mean, z_log_var]) with two "
                   "Dense(latent_dim) heads (a list of two outputs, not one concatenated tensor).")
    _check_io(got, "build_vae_decoder(2)", [(None, 2)], [(None, 28, 28, 1)],
              hint="start from keras.Input((latent_dim,)) and end with 28 x 28 x 1 pixels "
                   "(e.g. Conv2DTranspose(1, 3, strides=2, padding='same')).")
    checks.check_range(got[_NET_RANGE], 0.0, 1.0, name=_NET_RANGE,
                       hint="end the decoder with a sigmoid: it outputs pixel probabilities, and "
                            "reconstruction_loss treats them as probabilities, not logits.")
    _check_trainable(got, "encoder gradients", "encoder",
                     hint="both heads and every layer before them must receive gradients.")
    _check_trainable(got, "decoder gradients", "decoder")

    z_mean, z_log_var = _model_outputs(got, _NET_ENCODER_5, 2, (32, 5), "[z_mean, z_log_var]")
    assert not np.allclose(z_mean, z_log_var), (
        f"{_NET_ENCODER_5}: z_mean and z_log_var are equal. Hint: they must come from two "
        "different Dense(latent_dim) heads.")
    _check_log_var_can_be_negative(got, _NET_REDRAWN, "build_vae_encoder(5)")
    assert z_mean.std(axis=0).max() > 0, (
        f"{_NET_ENCODER_5}: z_mean is the same for every image. Hint: z_mean must depend on the "
        "image.")
    output = got[_NET_DECODER_5]
    checks.check_shape(output, (3, 28, 28, 1), name=_NET_DECODER_5,
                       hint="the decoder maps (None, latent_dim) codes to (None, 28, 28, 1) "
                            "images.")
    checks.check_range(output, 0.0, 1.0, name=_NET_DECODER_5,
                       hint="decoder outputs must be probabilities in [0, 1]: end with a sigmoid.")


# ---------------------------------------------------------------------------------------------
# Task 5: the VAE model

_VAE_SETUP = "VAE(encoder, decoder, beta=0.5)"
_VAE_METRICS = "names of vae.metrics"
_VAE_ENCODE = "vae.encode_decode(x) for 8 images"
_VAE_CALL = "vae(x), the reconstruction"
_VAE_TRAIN = "vae.train_step(x) with beta = 0.5"
_VAE_TEST = "vae.test_step(x) after a train_step"
_VAE_SURE = "vae.train_step(x) with beta = 2 and sigma near 0 (so z = z_mean)"
_VAE_EPOCH = "an epoch of fit after a train_step, with frozen weights and beta = 2"
_VAE_FRESH = "reconstruction_loss of two train steps with frozen weights"
_TRACKERS = ("kl_loss", "loss", "reconstruction_loss")


def _kl_step_name(beta):
    return (f"one SGD step (learning rate 0.1) with beta = {beta:g} and a decoder that ignores "
            "z")


def _tiny_vae(VAE, beta=1.0, log_var_bias=0.0, zero_decoder=False, optimizer=None, seed=0):
    """The test cell's tiny VAE (dense networks), with seeded initial weights."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    image = keras.Input((28, 28, 1))
    flat = layers.Flatten()(image)
    log_var_head = layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed),
                                bias_initializer=keras.initializers.Constant(log_var_bias))
    mean_head = layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed + 1))
    encoder = keras.Model(image, [mean_head(flat), log_var_head(flat)])
    code = keras.Input((2,))
    kernel = "zeros" if zero_decoder else keras.initializers.GlorotUniform(seed + 2)
    pixels = layers.Dense(784, activation="sigmoid", kernel_initializer=kernel)(code)
    decoder = keras.Model(code, layers.Reshape((28, 28, 1))(pixels))
    vae = VAE(encoder, decoder, beta=beta)
    vae.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3), run_eagerly=True)
    return vae


def _weights(model):
    return [np.array(v.numpy(), copy=True) for v in model.trainable_variables]


def _floats(logs):
    return {str(key): float(value) for key, value in dict(logs).items()}


def _reference_sample_latent(z_mean, z_log_var, seed=None):
    import keras

    epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=seed)
    return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon


def _reference_kl_divergence(z_mean, z_log_var):
    import keras

    per_dimension = keras.ops.exp(z_log_var) + keras.ops.square(z_mean) - 1.0 - z_log_var
    return 0.5 * keras.ops.sum(per_dimension, axis=-1)


def _reference_reconstruction_loss(x, x_reconstructed):
    import keras

    epsilon = keras.config.epsilon()
    probabilities = keras.ops.clip(x_reconstructed, epsilon, 1.0 - epsilon)
    per_pixel = -(x * keras.ops.log(probabilities) + (1.0 - x) * keras.ops.log(1.0 - probabilities))
    return keras.ops.sum(per_pixel, axis=(1, 2, 3))


def _with_tasks_1_to_3(answers, run):
    """run, calling the student's VAE with correct sample_latent, kl_divergence and
    reconstruction_loss in place of theirs: a mistake in Tasks 1-3 costs only its own task."""
    def probe():
        with answers.using(sample_latent=_reference_sample_latent,
                           kl_divergence=_reference_kl_divergence,
                           reconstruction_loss=_reference_reconstruction_loss):
            return run()

    return probe


# Appended to the messages of checks whose values depend on the earlier tasks.
_VAE_ALONE = (" (The hidden tests run your VAE with correct versions of sample_latent, "
              "kl_divergence and reconstruction_loss, so the difference comes from the VAE class.)")


def probe_test_vae_model(answers):
    import keras
    import tensorflow as tf

    VAE = answers["VAE"]
    batch = _vae_batch()
    vae = _cached(lambda: _tiny_vae(VAE, beta=0.5))

    def setup():
        model = vae()
        return {"beta": model.beta,
                "encoder is a keras.Model": isinstance(model.encoder, keras.Model),
                "decoder is a keras.Model": isinstance(model.decoder, keras.Model)}

    def encode_decode():
        x_out, z_mean, z_log_var, x_reconstructed = vae().encode_decode(batch)
        return {"z_mean": z_mean, "x_reconstructed": x_reconstructed}

    def train_step():
        model = vae()
        encoder_before, decoder_before = _weights(model.encoder), _weights(model.decoder)
        logs = _floats(model.train_step(batch))
        return {"logs": logs,
                "trackers": {m.name: float(m.result()) for m in model.metrics},
                "encoder weights moved": [not np.array_equal(b, a) for b, a in
                                          zip(encoder_before, _weights(model.encoder))],
                "decoder weights moved": [not np.array_equal(b, a) for b, a in
                                          zip(decoder_before, _weights(model.decoder))]}

    def test_step():
        model = vae()
        before = _weights(model.encoder) + _weights(model.decoder)
        logs = model.test_step(batch)
        after = _weights(model.encoder) + _weights(model.decoder)
        return {"keys": np.array(sorted(str(k) for k in dict(logs)), dtype=str),
                "weights changed": [not np.array_equal(b, a) for b, a in zip(before, after)]}

    def sure_step():
        sure = _tiny_vae(VAE, beta=2.0, log_var_bias=-40.0,
                         optimizer=keras.optimizers.SGD(0.0), seed=1)
        mean, log_var = sure.encoder(batch)
        return {"z_mean": mean, "z_log_var": log_var, "decoder(z_mean)": sure.decoder(mean),
                "logs": _floats(sure.train_step(batch))}

    def kl_step(beta):
        def run():
            flat = _tiny_vae(VAE, beta=beta, zero_decoder=True,
                             optimizer=keras.optimizers.SGD(0.1), seed=2)
            with tf.GradientTape() as tape:
                mean, log_var = flat.encoder(batch)
                mean_kl = tf.reduce_mean(0.5 * tf.reduce_sum(
                    tf.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=1))
            gradients = tape.gradient(mean_kl, flat.encoder.trainable_variables)
            before = _weights(flat.encoder)
            flat.train_step(batch)
            return {"expected": {str(i): -0.1 * beta * g.numpy() for i, g in enumerate(gradients)},
                    "actual": {str(i): a - b for i, (b, a) in
                               enumerate(zip(before, _weights(flat.encoder)))}}
        return run

    def epochs():
        frozen = _tiny_vae(VAE, beta=2.0, log_var_bias=-40.0,
                           optimizer=keras.optimizers.SGD(0.0), seed=1)
        first_images = np.ones((4, 28, 28, 1), np.float32)
        second_images = np.concatenate([np.zeros((4, 28, 28, 1), np.float32), batch[:4]])
        frozen.train_step(first_images)  # the trackers hold a batch the next epoch must forget
        history = frozen.fit(second_images, batch_size=4, epochs=1, shuffle=False,
                             verbose=0).history
        record = {"history": {str(k): float(v[-1]) for k, v in history.items()}}
        for i, part in enumerate((second_images[:4], second_images[4:])):
            mean, log_var = frozen.encoder(part)
            record[f"batch {i} z_mean"], record[f"batch {i} z_log_var"] = mean, log_var
        return record

    def fresh_samples():
        noisy = _tiny_vae(VAE, optimizer=keras.optimizers.SGD(0.0), seed=3)
        values = []
        for _ in range(2):
            noisy.reset_metrics()
            values.append(float(noisy.train_step(batch)["reconstruction_loss"]))
        return np.array(values)

    entries = {_VAE_SETUP: setup,
               _VAE_METRICS: lambda: np.array(sorted(str(m.name) for m in vae().metrics),
                                              dtype=str),
               _VAE_ENCODE: encode_decode,
               _VAE_CALL: lambda: vae()(batch),
               _VAE_TRAIN: train_step,
               _VAE_TEST: test_step,
               _VAE_SURE: sure_step,
               _kl_step_name(1.0): kl_step(1.0),
               _kl_step_name(3.0): kl_step(3.0),
               _VAE_EPOCH: epochs,
               _VAE_FRESH: fresh_samples}
    return {name: _with_tasks_1_to_3(answers, run) for name, run in entries.items()}


def _bernoulli_nll(x, p):
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3))


def _kl_numpy(mean, log_var):
    mean, log_var = mean.astype(np.float64), log_var.astype(np.float64)
    return 0.5 * (np.exp(log_var) + mean ** 2 - 1 - log_var).sum(axis=1)


def verdict_test_vae_model(got, ref):
    _raise_if_failed(got, _VAE_SETUP)
    assert (got[f"{_VAE_SETUP}/beta"].size == 1 and float(got[f"{_VAE_SETUP}/beta"]) == 0.5
            and got[f"{_VAE_SETUP}/encoder is a keras.Model"]
            and got[f"{_VAE_SETUP}/decoder is a keras.Model"]), (
        "VAE(encoder, decoder, beta) must keep its arguments as vae.encoder, vae.decoder and "
        "vae.beta")
    names = [str(n) for n in got[_VAE_METRICS]]
    assert names == list(_TRACKERS), (
        f"VAE.metrics: expected exactly the three Mean trackers loss, reconstruction_loss, "
        f"kl_loss; got {names}. Hint: Keras resets only the trackers listed by the metrics "
        "property at each epoch; a duplicated 'loss' means the property is missing and Keras "
        "added its own loss tracker.")
    _raise_if_failed(got, _VAE_ENCODE)
    checks.check_shape(got[f"{_VAE_ENCODE}/z_mean"], (8, 2),
                       name="z_mean from vae.encode_decode(x)",
                       hint="z_mean, z_log_var = self.encoder(x)")
    checks.check_shape(got[f"{_VAE_ENCODE}/x_reconstructed"], (8, 28, 28, 1),
                       name="x_reconstructed from vae.encode_decode(x)",
                       hint="return (x, z_mean, z_log_var, self.decoder(z)) with z = "
                            "sample_latent(z_mean, z_log_var).")
    checks.check_range(got[_VAE_CALL], 0.0, 1.0, name=_VAE_CALL,
                       hint="call(inputs) returns the decoder's probabilities from encode_decode.")

    if got.error(_VAE_TRAIN):
        raise AssertionError(
            f"vae.train_step(x) raised {got.error(_VAE_TRAIN)[:300]}. Hint: compute the whole "
            "loss, reconstruction and KL, inside the `with tf.GradientTape() as tape:` block, "
            "then self.optimizer.apply(tape.gradient(loss, self.trainable_variables), "
            "self.trainable_variables).")
    logs = {k: float(got[f"{_VAE_TRAIN}/logs/{k}"]) for k in _sub_keys(got, f"{_VAE_TRAIN}/logs")}
    missing = set(_TRACKERS) - set(logs)
    assert not missing, (f"train_step must return the trackers' results; keys {sorted(missing)} "
                         f"are missing from {sorted(logs)}")
    tracked = {k: float(got[f"{_VAE_TRAIN}/trackers/{k}"])
               for k in _sub_keys(got, f"{_VAE_TRAIN}/trackers")}
    assert all(np.isclose(logs[name], tracked[name], rtol=1e-6) for name in tracked), (
        f"train_step returned {logs}, but the trackers listed in vae.metrics hold {tracked}. "
        "Hint: update and return this model's own trackers (the ones in metrics, which Keras "
        "resets at each epoch), not global ones.")
    checks.check_close(logs["loss"], logs["reconstruction_loss"] + 0.5 * logs["kl_loss"],
                       rtol=1e-5,
                       name="logged loss with beta = 0.5 (expected reconstruction_loss + beta * "
                            "kl_loss)",
                       hint="loss = reconstruction + self.beta * kl, each a batch mean.")
    assert np.all(got[f"{_VAE_TRAIN}/encoder weights moved"]), (
        "train_step did not update every encoder weight. Hint: apply the gradients to "
        "self.trainable_variables (encoder and decoder), not only to the decoder's.")
    assert np.all(got[f"{_VAE_TRAIN}/decoder weights moved"]), (
        "train_step did not update every decoder weight. Hint: apply the gradients to "
        "self.trainable_variables.")
    _raise_if_failed(got, _VAE_TEST)
    keys = {str(k) for k in got[f"{_VAE_TEST}/keys"]}
    assert set(_TRACKERS) <= keys, (
        f"test_step must return the three trackers' results; got keys {sorted(keys)}")
    assert not np.any(got[f"{_VAE_TEST}/weights changed"]), (
        "test_step changed the weights: it must only compute the losses and update the trackers")

    # 1. With sigma ~ 0 (log-variance bias -40) z = z_mean, so the logged values are exact.
    _raise_if_failed(got, _VAE_SURE)
    batch = _vae_batch()
    mean, log_var = got[f"{_VAE_SURE}/z_mean"], got[f"{_VAE_SURE}/z_log_var"]
    expected_reconstruction = _bernoulli_nll(batch, got[f"{_VAE_SURE}/decoder(z_mean)"]).mean()
    expected_kl = _kl_numpy(mean, log_var).mean()
    logs = {k: float(got[f"{_VAE_SURE}/logs/{k}"]) for k in _sub_keys(got, f"{_VAE_SURE}/logs")}
    missing = set(_TRACKERS) - set(logs)
    assert not missing, f"{_VAE_SURE}: keys {sorted(missing)} are missing from {sorted(logs)}"
    assert np.isclose(logs["reconstruction_loss"], expected_reconstruction, rtol=1e-3), (
        f"train_step's reconstruction_loss must be the batch mean of the per-image sum over "
        f"pixels: expected {expected_reconstruction:.2f}, got {logs['reconstruction_loss']:.2f} "
        "(a per-pixel mean is 784x smaller, a batch sum 8x larger). Hint: keras.ops.mean of "
        "reconstruction_loss(x, x_reconstructed) from Task 3." + _VAE_ALONE)
    assert np.isclose(logs["kl_loss"], expected_kl, rtol=1e-4), (
        f"train_step's kl_loss must be the batch mean of the per-example KL: expected "
        f"{expected_kl:.3f}, got {logs['kl_loss']:.3f}. Hint: keras.ops.mean of "
        "kl_divergence(z_mean, z_log_var) from Task 2." + _VAE_ALONE)
    assert np.isclose(logs["loss"], expected_reconstruction + 2.0 * expected_kl, rtol=1e-3), (
        f"train_step's loss with beta = 2 must be reconstruction + 2 * kl = "
        f"{expected_reconstruction + 2 * expected_kl:.2f}; got {logs['loss']:.2f}")

    # 2. With a decoder that ignores z, only the KL moves the encoder: one SGD step must be
    #    exactly -learning_rate * beta * gradient of the batch-mean KL.
    for kl_weight in (1.0, 3.0):
        name = _kl_step_name(kl_weight)
        _raise_if_failed(got, name)
        count = len(_sub_keys(got, f"{name}/expected"))
        for i in range(count):
            step, change = got[f"{name}/expected/{i}"], got[f"{name}/actual/{i}"]
            assert np.allclose(change, step, rtol=1e-3, atol=1e-7), (
                f"with beta = {kl_weight:g}, one SGD step must move the encoder by "
                f"-learning_rate * beta * d(mean KL)/dw (the decoder ignores z here, so only the "
                f"KL term acts): largest expected change {np.abs(step).max():.3g}, got "
                f"{np.abs(change).max():.3g}. Is the KL (times beta, as a batch mean) part of "
                "the loss inside the tape?" + _VAE_ALONE)

    # 3. The trackers are reset at each epoch: after a train_step, the epoch of a fit averages
    #    its own two batches only.
    _raise_if_failed(got, _VAE_EPOCH)
    history = {k: float(got[f"{_VAE_EPOCH}/history/{k}"])
               for k in _sub_keys(got, f"{_VAE_EPOCH}/history")}
    missing = set(_TRACKERS) - set(history)
    assert not missing, (f"{_VAE_EPOCH}: the epoch's logs miss {sorted(missing)}; got "
                         f"{sorted(history)}. Hint: train_step returns the trackers' results.")
    kl_per_batch = [_kl_numpy(got[f"{_VAE_EPOCH}/batch {i} z_mean"],
                              got[f"{_VAE_EPOCH}/batch {i} z_log_var"]).mean() for i in (0, 1)]
    assert np.isclose(history["kl_loss"], np.mean(kl_per_batch), rtol=1e-4), (
        f"the epoch's kl_loss must average that epoch's batches only: expected "
        f"{np.mean(kl_per_batch):.3f}, got {history['kl_loss']:.3f}. Hint: list the trackers in "
        "the metrics property (Keras resets those at each epoch), update the trackers of this "
        "model, and never reset them inside train_step.")
    assert np.isclose(history["loss"], history["reconstruction_loss"] + 2.0 * history["kl_loss"],
                      rtol=1e-4), (
        f"the epoch's loss must equal its reconstruction_loss + beta * kl_loss (beta = 2): got "
        f"{history['loss']:.3f} and {history['reconstruction_loss']:.3f} + 2 * "
        f"{history['kl_loss']:.3f}")

    # 4. The decoder sees a fresh sample z each step, not z_mean.
    values = got[_VAE_FRESH]
    assert values.shape == (2,) and values[0] != values[1], (
        "two train steps with frozen weights gave the same reconstruction_loss: decode z = "
        "sample_latent(z_mean, z_log_var), a fresh sample, not z_mean")


# ---------------------------------------------------------------------------------------------
# Task 6: build_cvae

_CVAE_PROBABILITIES = "conditional decoder outputs"
_CVAE_OTHER = "conditional decoder outputs for the same codes with other labels"
_CVAE_CODES = "conditional encoder z_mean for 6 images with labels 0-5"
_CVAE_CODES_OTHER = "conditional encoder z_mean for the same images with labels 9-4"
_CVAE_SMALL = "build_cvae(4, 3) encoder outputs for 4 images"
_CVAE_SECOND_IMAGE = "build_cvae(4, 3) encoder outputs for the second image with label 0"
_CVAE_REDRAWN = "z_log_var of the build_cvae(4, 3) encoder for 4 images, weights drawn at random"
_CVAE_DECODER = "build_cvae(4, 3) decoder outputs for 4 random codes"


def probe_test_build_cvae(answers):
    build_cvae = answers["build_cvae"]
    rng = np.random.default_rng(0)  # the test cell's draws, in its order
    images = (rng.uniform(size=(6, 28, 28, 1)) > 0.5).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[[0, 1, 2, 3, 4, 5]]
    other_labels = np.eye(10, dtype=np.float32)[[9, 8, 7, 6, 5, 4]]
    codes = rng.normal(scale=2.0, size=(6, 2)).astype(np.float32)
    small_codes = rng.normal(size=(4, 4)).astype(np.float32)
    small_labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    networks = _seeded(lambda: tuple(build_cvae(2, 10)), 5)
    small = _seeded(lambda: tuple(build_cvae(4, 3)), 6)
    return {
        "build_cvae(2, 10) encoder": lambda: _model_io(networks()[0]),
        "build_cvae(2, 10) decoder": lambda: _model_io(networks()[1]),
        _CVAE_PROBABILITIES: lambda: networks()[1]([codes, labels]),
        _CVAE_OTHER: lambda: networks()[1]([codes, other_labels]),
        _CVAE_CODES: lambda: networks()[0]([images, labels])[0],
        _CVAE_CODES_OTHER: lambda: networks()[0]([images, other_labels])[0],
        "conditional encoder gradients": lambda: _gradients(networks()[0], [images, labels]),
        "conditional decoder gradients": lambda: _gradients(networks()[1], [codes, labels]),
        _CVAE_SMALL: lambda: _outputs(small()[0]([images[:4], small_labels])),
        _CVAE_SECOND_IMAGE: lambda: _outputs(small()[0]([images[1:2], small_labels[:1]])),
        _CVAE_REDRAWN: lambda: checks.redrawn_outputs(small()[0], [images[:4], small_labels], 1,
                                                     redraws=8),
        _CVAE_DECODER: lambda: small()[1]([small_codes, small_labels]),
    }


def verdict_test_build_cvae(got, ref):
    _check_io(got, "build_cvae(2, 10) encoder", [(None, 28, 28, 1), (None, 10)],
              [(None, 2), (None, 2)],
              hint="keras.Model([images, labels], [z_mean, z_log_var]) with labels = "
                   "keras.Input((num_classes,)).")
    _check_io(got, "build_cvae(2, 10) decoder", [(None, 2), (None, 10)], [(None, 28, 28, 1)],
              hint="keras.Model([z, labels], probabilities) with z = keras.Input((latent_dim,)).")
    probabilities = got[_CVAE_PROBABILITIES]
    checks.check_range(probabilities, 0.0, 1.0, name=_CVAE_PROBABILITIES,
                       hint="end the decoder with a sigmoid: pixel probabilities, not logits.")
    other = got[_CVAE_OTHER]
    checks.check_shape(probabilities, (6, 28, 28, 1), name=_CVAE_PROBABILITIES,
                       hint="one 28 x 28 x 1 image per code.")
    checks.check_shape(other, (6, 28, 28, 1), name=_CVAE_OTHER,
                       hint="one 28 x 28 x 1 image per code.")
    changed = np.abs(other.astype(np.float64) - probabilities).max(axis=(1, 2, 3))
    assert changed[:5].min() > 1e-6, (
        "the conditional decoder ignores the label: the same z with another label gave the same "
        "image. Hint: concatenate the one-hot label to z before the first Dense layer.")
    codes, other_codes = got[_CVAE_CODES], got[_CVAE_CODES_OTHER]
    checks.check_shape(codes, (6, 2), name=_CVAE_CODES, hint="z_mean has shape (None, latent_dim).")
    checks.check_shape(other_codes, (6, 2), name=_CVAE_CODES_OTHER,
                       hint="z_mean has shape (None, latent_dim).")
    changed = np.abs(other_codes.astype(np.float64) - codes).max(axis=1)
    assert changed[:5].min() > 1e-6, (
        "the conditional encoder ignores the label: the same image with another label gave the "
        "same z_mean. Hint: concatenate the one-hot label to the flattened image features.")
    _check_trainable(got, "conditional encoder gradients", "conditional encoder")
    _check_trainable(got, "conditional decoder gradients", "conditional decoder")

    z_mean, z_log_var = _model_outputs(got, _CVAE_SMALL, 2, (4, 4), "[z_mean, z_log_var]")
    (second_mean, _) = _model_outputs(got, _CVAE_SECOND_IMAGE, 2, (1, 4), "[z_mean, z_log_var]")
    assert not np.allclose(z_mean[0], second_mean[0]), (
        "the conditional encoder ignores the image: two images with the same label gave the same "
        "z_mean. Hint: the encoder's convolutions (or Dense layers) must see the image, and their "
        "features must reach both heads.")
    _check_log_var_can_be_negative(got, _CVAE_REDRAWN, "build_cvae(4, 3) encoder")
    output = got[_CVAE_DECODER]
    checks.check_shape(output, (4, 28, 28, 1), name=_CVAE_DECODER,
                       hint="the decoder maps [z, labels] to (None, 28, 28, 1) probabilities.")
    checks.check_range(output, 0.0, 1.0, name=_CVAE_DECODER,
                       hint="end the decoder with a sigmoid: pixel probabilities, not logits.")
