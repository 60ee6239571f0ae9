"""Probes of 05_beyond_vae's hidden tests: the kernel side (see grading/probe_runtime.py). Each
calls the student's function on the inputs the grader drew for this class run and returns what
it gave; nothing here knows the right answers (verdicts.py, in the grader, decides).

One mistake costs one task: Task 2's probe (bayes_posterior, which may call Task 1's
log_marginal) and those of Tasks 5 and 6 (read_attention and write_attention, built on Task 4's
gaussian_filterbank) lend the earlier function as data (answers.earlier): the solution's outputs
for the calls the solution itself made on these inputs, with their gradients. The grader draws
them apart from the earlier task's own inputs, so what is lent never answers the earlier task's
probe. Inside a tf.function (DRAW's traced training step) lent data cannot be looked up, so
there Tasks 5 and 6 get a stand-in filterbank: fixed matrices the grader drew, no Gaussians."""

import contextlib
from functools import partial

import numpy as np

FB_GRADIENT = "gradient of sum(filterbank · pixel index · weights) with respect to g, delta, sigma2"
FB_TRACED = "gaussian_filterbank inside a tf.function with an unknown batch size"
READ_TRACED = "read_attention inside a tf.function with an unknown batch size"
READ_GRADIENT = ("gradient of sum(read_attention · weights) with respect to g_x, g_y, delta, "
                 "sigma2, gamma")
WRITE_TRACED = "write_attention inside a tf.function with an unknown batch size"
WRITE_GRADIENT = ("gradient of sum(write_attention · weights) with respect to the patch, g_x, g_y, "
                  "delta, sigma2, gamma")


def _lending(answers, earlier, function, args):
    """A probe entry calling `function(*args)` with the earlier tasks `earlier` lent (inside
    the entry: entries are called later)."""
    def entry():
        with answers.earlier(*earlier):
            return function(*args)
    return entry


# ------------------------------------------------------------------ Tasks 1 to 3: NumPy answers


def probe_test_log_marginal(answers, inputs):
    log_marginal = answers["log_marginal"]
    return {name: partial(log_marginal, *args) for name, args in inputs.items()}


def probe_test_bayes_posterior(answers, inputs):
    bayes_posterior = answers["bayes_posterior"]
    return {name: _lending(answers, ("log_marginal",), bayes_posterior, args)
            for name, args in inputs.items()}


def probe_test_roc_auc(answers, inputs):
    roc_auc = answers["roc_auc"]
    return {name: partial(roc_auc, *args) for name, args in inputs.items()}


# ------------------------------------------------------------- Task 4: gaussian_filterbank


def probe_test_gaussian_filterbank(answers, inputs):
    gaussian_filterbank = answers["gaussian_filterbank"]
    entries = {name: partial(gaussian_filterbank, *args)
               for name, args in inputs["cases"].items()}

    def gradient():
        import tensorflow as tf

        g, delta, sigma2, n, size, weights = inputs["gradient"]
        variables = [tf.Variable(v) for v in (g, delta, sigma2)]
        with tf.GradientTape() as tape:
            bank = tf.cast(gaussian_filterbank(*variables, n, size), tf.float32)
            total = tf.reduce_sum(bank * weights)
        grads = tape.gradient(total, variables)
        return {name: (np.full(len(g), np.nan, np.float32) if grad is None else grad)
                for name, grad in zip(("g", "delta", "sigma2"), grads)}

    def traced():
        import tensorflow as tf

        g, delta, sigma2, n, size = inputs["traced"]
        return _traced(lambda *grid: gaussian_filterbank(*grid, n, size),
                       [tf.TensorSpec((None,), tf.float32)] * 3, g, delta, sigma2)

    entries[FB_GRADIENT] = gradient
    entries[FB_TRACED] = traced
    return entries


# ------------------------------------------------------- Tasks 5 and 6: read and write attention


def _traced(function, signature, *args):
    """function(*args) inside a tf.function traced for `signature` (a batch size of None), as
    DRAW's training step calls it: traced even when the kernel asked TensorFlow to run functions
    eagerly."""
    import tensorflow as tf

    eager = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(False)
    try:
        return tf.function(function, input_signature=signature, autograph=False)(*args)
    finally:
        tf.config.run_functions_eagerly(eager)


@contextlib.contextmanager
def _stand_in_filterbank(answers, banks):
    """Within the block the student's read and write find, under the name gaussian_filterbank,
    a stand-in that works in a graph: banks[str(size)] (a fixed num_filters × size matrix the
    grader drew) for every example, so the traced cases of Tasks 5 and 6 do not depend on Task 4.
    It computes no filterbank: borrowing it answers nothing."""
    import tensorflow as tf

    def filterbank(g, delta, sigma2, num_filters, size):
        ones = 1.0 + 0.0 * tf.reshape(tf.cast(g, tf.float32), (-1, 1, 1))  # the batch axis of g
        return tf.constant(banks[str(int(size))], tf.float32)[None] * ones

    with answers.standing_in(gaussian_filterbank=filterbank):
        yield


def _gradients(answers, function, arrays, fixed, weights, names):
    """{name: d sum(function(*variables, *fixed) · weights) / d variable}, the solution's
    gaussian_filterbank lent with its gradients; NaN where no gradient arrives."""
    import tensorflow as tf

    variables = [tf.Variable(a) for a in arrays]
    with answers.earlier("gaussian_filterbank", differentiable=True):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.cast(function(*variables, *fixed), tf.float32) * weights)
        grads = tape.gradient(total, variables)
    return {name: (np.full(np.shape(a), np.nan, np.float32) if grad is None else grad)
            for name, grad, a in zip(names, grads, arrays)}


def probe_test_read_attention(answers, inputs):
    import tensorflow as tf

    read_attention = answers["read_attention"]
    entries = {name: _lending(answers, ("gaussian_filterbank",), read_attention, args)
               for name, args in inputs["cases"].items()}

    def traced():
        x, x_hat, *grid, n = inputs["traced"]
        height, width = x.shape[1:]
        signature = ([tf.TensorSpec((None, height, width), tf.float32)] * 2
                     + [tf.TensorSpec((None,), tf.float32)] * 5)
        with _stand_in_filterbank(answers, inputs["stand-in banks"]):
            return _traced(lambda *args: read_attention(*args, n), signature, x, x_hat, *grid)

    def gradient():
        x, x_hat, *grid, n = inputs["gradient"]
        return _gradients(answers, lambda *grid: read_attention(x, x_hat, *grid), grid, (n,),
                          inputs["gradient weights"], ("g_x", "g_y", "delta", "sigma2", "gamma"))

    entries[READ_TRACED] = traced
    entries[READ_GRADIENT] = gradient
    return entries


def probe_test_write_attention(answers, inputs):
    import tensorflow as tf

    write_attention = answers["write_attention"]
    entries = {name: _lending(answers, ("gaussian_filterbank",), write_attention, args)
               for name, args in inputs["cases"].items()}

    def traced():
        patch, *grid, height, width = inputs["traced"]
        signature = ([tf.TensorSpec((None, *patch.shape[1:]), tf.float32)]
                     + [tf.TensorSpec((None,), tf.float32)] * 5)
        with _stand_in_filterbank(answers, inputs["stand-in banks"]):
            return _traced(lambda *args: write_attention(*args, height, width), signature,
                           patch, *grid)

    def gradient():
        *arrays, height, width = inputs["gradient"]
        return _gradients(answers, write_attention, arrays, (height, width),
                          inputs["gradient weights"],
                          ("patch", "g_x", "g_y", "delta", "sigma2", "gamma"))

    entries[WRITE_TRACED] = traced
    entries[WRITE_GRADIENT] = gradient
    return entries


# ------------------------------------------------------ Task 7: design_outlier_score (a design)

DESIGN_SCORES = "scores of the grader's images"


def _scored(score, inputs, index=None):
    """score(images, log_px, train_images, train_log_px) on fresh copies of the inputs (of the
    images `index` only, in that order, when given), so that one call cannot change another's."""
    images = np.asarray(inputs["images"], np.float32)
    log_px = np.asarray(inputs["log_px"], np.float64)
    if index is not None:
        index = np.asarray(index)
        images, log_px = images[index], log_px[index]
    return score(images.copy(), log_px.copy(), np.asarray(inputs["train_images"], np.float32),
                 np.asarray(inputs["train_log_px"], np.float64).copy())


def probe_test_design_outlier_score(answers, inputs):
    """The design's scores of the grader's images, all of them and again in other batches and
    orders: data, from which the grader computes the ROC AUC itself (it alone knows which images
    are outliers). Never a number the design reports about itself."""
    score = answers["design_outlier_score"]
    entries = {DESIGN_SCORES: partial(_scored, score, inputs)}
    for k, index in enumerate(inputs["batches"]):
        entries[f"{DESIGN_SCORES}, batch {k + 1}"] = partial(_scored, score, inputs, index)
    return entries
