# ruff: noqa: E501  (mutant sources are code inside strings, kept as students would write them)
"""05_beyond_vae: typical wrong answers (MUTANTS) and other correct answers (VARIANTS).

Mistakes: a log-sum-exp done naively (exp of -1000 underflows, of +1000 overflows) or shifted by
one maximum for the whole array; a prior ignored or used as a log-mean-exp; a posterior normalised
over the wrong axis or left in logs; an AUC with ties counted as 0 or 1, swapped groups or
elementwise pairs; a DRAW filterbank not normalised, normalised over the wrong axis, centred
off by one (0-based filter index) or with sigma² taken as sigma; read and write without gamma,
with x and y swapped, or the slide's transposes, or NumPy inside (right eagerly, but no gradient and
an error in DRAW's traced step). CASCADES: a wrong Task 1 (or Task 4) costs only
that task, not Task 2 (or Tasks 5 and 6) that use it."""

# ----------------------------------------------------------------------------- Task 1 sources

_NAIVE_LOG_MARGINAL = """
def log_marginal(log_px_given_y, log_prior):
    return np.log(np.sum(np.exp(np.asarray(log_px_given_y) + np.asarray(log_prior)), axis=1))
"""
_GLOBAL_MAX_LOG_MARGINAL = """
def log_marginal(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior)
    peak = joint.max()
    return peak + np.log(np.exp(joint - peak).sum(axis=1))
"""
_NO_PRIOR_LOG_MARGINAL = """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.logsumexp(np.asarray(log_px_given_y, np.float64), axis=1)
"""
_NOT_DONE_LOG_MARGINAL = """
def log_marginal(log_px_given_y, log_prior):
    raise NotImplementedError()
"""

# ----------------------------------------------------------------------------- Task 4 sources

_FILTERBANK = """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (tf.reshape(tf.cast(v, tf.float32), (-1, 1, 1)) for v in (g, delta, sigma2))
    i = tf.range({start}, num_filters + {start}, dtype=tf.float32)[None, :, None]
    centres = g + (i - num_filters / 2 - 0.5) * delta
    pixels = tf.range({pixel_start}, size + {pixel_start}, dtype=tf.float32)[None, None, :]
    weights = tf.exp(-tf.square(pixels - centres) / (2.0 * {variance}))
    return weights / {norm}
"""


def _filterbank(start=1, pixel_start=0, variance="sigma2",
                norm="tf.reduce_sum(weights, axis=-1, keepdims=True)"):
    return _FILTERBANK.format(start=start, pixel_start=pixel_start, variance=variance, norm=norm)


_ZERO_BASED_FILTERBANK = _filterbank(start=0)
_UNNORMALISED_FILTERBANK = _filterbank(norm="1.0")
# Passed the few checks of Task 4 that Tasks 5 and 6 used to run first, and failed their own.
_SQUARED_SIGMA2_FILTERBANK = _filterbank(variance="tf.square(sigma2)")
# The Gaussian's analytic normaliser: rows sum to 1 only where the whole filter lies on the image.
_ANALYTIC_NORM_FILTERBANK = _filterbank(norm="tf.sqrt(2.0 * np.pi * sigma2)")
# Right eagerly; fails inside DRAW's traced training step, where the batch size is None.
_STATIC_BATCH_FILTERBANK = """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    batch = g.shape[0]
    g, delta, sigma2 = (tf.reshape(tf.cast(v, tf.float32), (batch, 1, 1)) for v in (g, delta, sigma2))
    i = tf.range(1, num_filters + 1, dtype=tf.float32)[None, :, None]
    weights = tf.exp(-tf.square(tf.range(size, dtype=tf.float32) - g - (i - num_filters / 2 - 0.5) * delta)
                     / (2.0 * sigma2))
    return weights / tf.reduce_sum(weights, axis=-1, keepdims=True)
"""
# A wrong filterbank that also warns (as a deprecated library call does): the warning shows in
# Task 4's cell only.
_WARNING_FILTERBANK = """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    import warnings
    warnings.warn("this call is deprecated", DeprecationWarning)
    g, delta, sigma2 = (tf.reshape(tf.cast(v, tf.float32), (-1, 1, 1)) for v in (g, delta, sigma2))
    i = tf.range(num_filters, dtype=tf.float32)[None, :, None]
    weights = tf.exp(-tf.square(tf.range(size, dtype=tf.float32) - g - (i - num_filters / 2 - 0.5) * delta)
                     / (2.0 * sigma2))
    return weights / tf.reduce_sum(weights, axis=-1, keepdims=True)
"""
_NOT_DONE_FILTERBANK = """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    raise NotImplementedError()
"""

# ------------------------------------------------------------------------ Task 5 and 6 sources

_READ = """
def read_attention(x, x_hat, g_x, g_y, delta, sigma2, gamma, num_filters):
    x, x_hat = tf.cast(x, tf.float32), tf.cast(x_hat, tf.float32)
    height, width = x.shape[1], x.shape[2]
    filters_x = {filters_x}
    filters_y = {filters_y}
    gamma = tf.reshape(tf.cast(gamma, tf.float32), (-1, 1, 1))

    def glimpse(image):
        patch = ({gamma}) * {glimpse}
        return tf.reshape(patch, (-1, num_filters * num_filters))

    x_hat = {second}
    return tf.concat({order}, axis=-1)
"""


def _read(filters_x="gaussian_filterbank(g_x, delta, sigma2, num_filters, width)",
          filters_y="gaussian_filterbank(g_y, delta, sigma2, num_filters, height)", gamma="gamma",
          glimpse="tf.matmul(tf.matmul(filters_y, image), filters_x, transpose_b=True)",
          second="x_hat", order="[glimpse(x), glimpse(x_hat)]"):
    return _READ.format(filters_x=filters_x, filters_y=filters_y, gamma=gamma, glimpse=glimpse,
                        second=second, order=order)


_WRITE = """
def write_attention(patch, g_x, g_y, delta, sigma2, gamma, height, width):
    patch = tf.cast(patch, tf.float32)
    num_filters = patch.shape[1]
    filters_x = gaussian_filterbank({gx}, delta, sigma2, num_filters, width)
    filters_y = gaussian_filterbank({gy}, delta, sigma2, num_filters, height)
    gamma = tf.reshape(tf.cast(gamma, tf.float32), (-1, 1, 1))
    image = {image}
    return {scale}
"""


def _write(gx="g_x", gy="g_y",
           image="tf.matmul(tf.matmul(filters_y, patch, transpose_a=True), filters_x)",
           scale="image / gamma"):
    return _WRITE.format(gx=gx, gy=gy, image=image, scale=scale)

# ---------------------------------------------------------------------------------------------
# Design task: design_outlier_score (weak designs must fail on at least 99% of seeds; see
# python -m benchmarks.designs 05_beyond_vae)

_DESIGN = """
import zlib

def design_outlier_score(images, log_px, train_images, train_log_px):
    bits = [8 * len(zlib.compress(np.packbits(np.asarray(x) > 0.5).tobytes())) for x in images]
    return np.asarray(log_px, np.float64) + np.log(2.0) * np.array(bits)
"""

_DESIGN_MUTANTS = {
    "raw log p(x)": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.asarray(log_px, np.float64)
""",
    "log p(x) turned around: the clothes pass": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return -np.asarray(log_px, np.float64)
""",
    "a two-sided test of log p(x) alone": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return -np.abs(np.asarray(log_px) - np.median(train_log_px))
""",
    "the amount of ink": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.asarray(images).sum(axis=1)
""",
    "a constant score": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.zeros(len(images))
""",
    "copies the input": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.asarray(images)
""",
    "the position in the batch": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return -np.arange(len(images), dtype=np.float64)
""",
    "random numbers": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.random.default_rng().uniform(size=len(images))
""",
    "a two-sided test around the batch's own median": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    return -np.abs(np.asarray(log_px) - np.median(log_px))
""",
    "memorised: looks the images up among the bundled MNIST digits": """
def design_outlier_score(images, log_px, train_images, train_log_px):
    (a, _), (b, _) = common.datasets.load_mnist(source="bundled")
    known = {row.tobytes() for row in np.concatenate([a, b]).reshape(-1, 784) > 0.5}
    return np.array([float((np.asarray(x) > 0.5).tobytes() in known) for x in images])
""",
    "memorised: the check's own outliers": """
_seen = common.design.outlier_case(0, log_marginal, "validation")
_outliers = {row.tobytes() for row in _seen["images"][_seen["outlier"]] > 0.5}

def design_outlier_score(images, log_px, train_images, train_log_px):
    return np.array([0.0 if (np.asarray(x) > 0.5).tobytes() in _outliers else 1.0 for x in images])
""",
}

_DESIGN_VARIANTS = {
    "the complexity correction with zlib": _DESIGN,
    "the complexity correction with lzma": _DESIGN.replace("zlib", "lzma"),
    "a two-sided test of the complexity-corrected score": """
import zlib

def _corrected(images, log_px):
    bits = [8 * len(zlib.compress(np.packbits(np.asarray(x) > 0.5).tobytes())) for x in images]
    return np.asarray(log_px, np.float64) + np.log(2.0) * np.array(bits)

def design_outlier_score(images, log_px, train_images, train_log_px):
    typical = np.median(_corrected(train_images, train_log_px))
    return -np.abs(_corrected(images, log_px) - typical)
""",
}

MUTANTS = {
    "test_design_outlier_score": _DESIGN_MUTANTS,
    "test_log_marginal": {
        "naive log(sum(exp)) underflows to -inf": _NAIVE_LOG_MARGINAL,
        "shifts by the maximum of the whole array, not each row's": _GLOBAL_MAX_LOG_MARGINAL,
        "ignores the prior": _NO_PRIOR_LOG_MARGINAL,
        "log-mean-exp of the likelihoods (uniform prior assumed)": """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    log_px_given_y = np.asarray(log_px_given_y, np.float64)
    return scipy.special.logsumexp(log_px_given_y, axis=1) - np.log(log_px_given_y.shape[1])
""",
        "max instead of log-sum-exp (the best class only)": """
def log_marginal(log_px_given_y, log_prior):
    return np.max(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=1)
""",
        "sums over the images (axis 0)": """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.logsumexp(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=0)
""",
        "multiplies by the log prior instead of adding it": """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.logsumexp(np.asarray(log_px_given_y) * np.exp(log_prior), axis=1)
""",
    },
    "test_bayes_posterior": {
        "naive exp / sum (nan near -1000)": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.exp(np.asarray(log_px_given_y) + np.asarray(log_prior))
    return joint / joint.sum(axis=1, keepdims=True)
""",
        "normalises each column over the images": """
def bayes_posterior(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.softmax(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=0)
""",
        "ignores the prior": """
def bayes_posterior(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.softmax(np.asarray(log_px_given_y, np.float64), axis=1)
""",
        "returns log-probabilities": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y) + np.asarray(log_prior)
    return joint - log_marginal(log_px_given_y, log_prior)[:, None]
""",
        "shifts by the maximum of the whole array": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior)
    weights = np.exp(joint - joint.max())
    return weights / weights.sum(axis=1, keepdims=True)
""",
        "prior added as probabilities, not logs": """
def bayes_posterior(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.softmax(np.asarray(log_px_given_y) + np.exp(log_prior), axis=1)
""",
    },
    "test_gaussian_filterbank": {
        "filter index from 0 (centres off by one delta)": _ZERO_BASED_FILTERBANK,
        "not normalised": _UNNORMALISED_FILTERBANK,
        "normalised over the filters, not the pixels": _filterbank(
            norm="tf.reduce_sum(weights, axis=1, keepdims=True)"),
        "sigma2 taken as the standard deviation": _filterbank(variance="tf.square(sigma2)"),
        "pixels counted from 1": _filterbank(pixel_start=1),
        "peak normalised to 1 instead of the sum": _filterbank(
            norm="tf.reduce_max(weights, axis=-1, keepdims=True)"),
        "analytic normaliser 1 / sqrt(2 pi sigma2) (edge filters do not sum to 1)":
            _ANALYTIC_NORM_FILTERBANK,
        "static batch size g.shape[0] (fails in DRAW's traced step)": _STATIC_BATCH_FILTERBANK,
        "returns float64": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (tf.reshape(tf.cast(v, tf.float64), (-1, 1, 1)) for v in (g, delta, sigma2))
    i = tf.range(1, num_filters + 1, dtype=tf.float64)[None, :, None]
    weights = tf.exp(-tf.square(tf.range(size, dtype=tf.float64) - g - (i - num_filters / 2 - 0.5) * delta)
                     / (2.0 * sigma2))
    return weights / tf.reduce_sum(weights, axis=-1, keepdims=True)
""",
        "stop_gradient on sigma2 (no gradient reaches it)": _filterbank(
            variance="tf.stop_gradient(sigma2)"),
        "NumPy: no gradient reaches g, delta, sigma2": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (np.asarray(v, np.float32).reshape(-1, 1, 1) for v in (g, delta, sigma2))
    centres = g + (np.arange(1, num_filters + 1)[None, :, None] - num_filters / 2 - 0.5) * delta
    weights = np.exp(-(np.arange(size)[None, None, :] - centres) ** 2 / (2 * sigma2))
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)
""",
    },
    "test_read_attention": {
        "forgets gamma": _read(gamma="1.0"),
        "divides by gamma": _read(gamma="1.0 / gamma"),
        "g_x and g_y swapped": _read(
            filters_x="gaussian_filterbank(g_y, delta, sigma2, num_filters, width)",
            filters_y="gaussian_filterbank(g_x, delta, sigma2, num_filters, height)"),
        "glimpse transposed (F_X x^T F_Y^T)": _read(
            glimpse="tf.matmul(tf.matmul(filters_x, image, transpose_b=True), filters_y, "
                    "transpose_b=True)"),
        "reads x twice (forgets x_hat)": _read(second="x"),
        "x_hat's glimpse first": _read(order="[glimpse(x_hat), glimpse(x)]"),
        "F_X transposed with np.transpose (right eagerly; no gradient, fails traced)": _read(
            glimpse="tf.matmul(tf.matmul(filters_y, image), np.transpose(np.asarray(filters_x), (0, 2, 1)))"),
        "a Python loop over the batch with NumPy images (fails in DRAW's traced step)": """
def read_attention(x, x_hat, g_x, g_y, delta, sigma2, gamma, num_filters):
    x, x_hat = np.asarray(x, np.float32), np.asarray(x_hat, np.float32)
    fx = gaussian_filterbank(g_x, delta, sigma2, num_filters, x.shape[2])
    fy = gaussian_filterbank(g_y, delta, sigma2, num_filters, x.shape[1])
    rows = []
    for b in range(x.shape[0]):
        parts = [tf.reshape(gamma[b] * (fy[b] @ image[b] @ tf.transpose(fx[b])), (-1,))
                 for image in (x, x_hat)]
        rows.append(tf.concat(parts, axis=0))
    return tf.stack(rows)
""",
    },
    "test_write_attention": {
        "multiplies by gamma": _write(scale="image * gamma"),
        "forgets 1 / gamma": _write(scale="image"),
        "the slide's F_Y w F_X^T": _write(
            image="tf.matmul(tf.matmul(filters_y, patch), filters_x, transpose_b=True)"),
        "canvas transposed (F_X^T w F_Y)": _write(
            image="tf.transpose(tf.matmul(tf.matmul(filters_x, patch, transpose_a=True), "
                  "filters_y), (0, 2, 1))"),
        "g_x and g_y swapped": _write(gx="g_y", gy="g_x"),
        "patch transposed (F_Y^T w^T F_X)": _write(
            image="tf.matmul(tf.matmul(filters_y, tf.transpose(patch, (0, 2, 1)), transpose_a=True), filters_x)"),
        "np.transpose(np.asarray(F_Y)) (right eagerly; no gradient for g_y, fails traced)": _write(
            image="tf.matmul(tf.matmul(np.transpose(np.asarray(filters_y), (0, 2, 1)), patch), filters_x)"),
        "canvas in float64": _write(scale="tf.cast(image, tf.float64) / tf.cast(gamma, tf.float64)"),
    },
    "test_roc_auc": {
        "ties count 0 (strict >)": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in)[:, None], np.asarray(scores_out)[None, :]
    return float(np.mean(a > b))
""",
        "ties count 1 (>=)": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in)[:, None], np.asarray(scores_out)[None, :]
    return float(np.mean(a >= b))
""",
        "groups swapped (1 - AUC)": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in)[:, None], np.asarray(scores_out)[None, :]
    return float(np.mean((a < b) + 0.5 * (a == b)))
""",
        "compares in[i] with out[i] only": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in), np.asarray(scores_out)
    n = min(len(a), len(b))
    return float(np.mean((a[:n] > b[:n]) + 0.5 * (a[:n] == b[:n])))
""",
        "rank sum with ranks from argsort (ties broken by position)": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in, np.float64), np.asarray(scores_out, np.float64)
    ranks = np.empty(len(a) + len(b))
    ranks[np.argsort(np.concatenate([a, b]), kind="stable")] = np.arange(1, len(a) + len(b) + 1)
    return float((ranks[:len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(b)))
""",
        "returns one value per in-score": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in)[:, None], np.asarray(scores_out)[None, :]
    return np.mean((a > b) + 0.5 * (a == b), axis=1)
""",
    },
}

VARIANTS = {
    "test_design_outlier_score": _DESIGN_VARIANTS,
    "test_log_marginal": {
        "scipy.special.logsumexp": """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.logsumexp(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=1)
""",
        "tf.reduce_logsumexp (a float64 tensor)": """
def log_marginal(log_px_given_y, log_prior):
    joint = tf.constant(np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64))
    return tf.reduce_logsumexp(joint, axis=1)
""",
        "keras.ops.logsumexp": """
def log_marginal(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64)
    return keras.ops.convert_to_numpy(keras.ops.logsumexp(joint, axis=-1))
""",
        "np.logaddexp.reduce": """
def log_marginal(log_px_given_y, log_prior):
    return np.logaddexp.reduce(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=1)
""",
        "a loop over the images, shift by each row's maximum": """
def log_marginal(log_px_given_y, log_prior):
    result = []
    for row in np.asarray(log_px_given_y, np.float64):
        joint = row + np.asarray(log_prior)
        m = max(joint)
        result.append(m + np.log(sum(np.exp(v - m) for v in joint)))
    return np.array(result)
""",
    },
    "test_bayes_posterior": {
        "scipy.special.softmax (does not call log_marginal)": """
def bayes_posterior(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.softmax(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=1)
""",
        "tf.nn.softmax in float64": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64)
    return tf.nn.softmax(tf.constant(joint), axis=-1)
""",
        "keras.ops.softmax": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64)
    return keras.ops.convert_to_numpy(keras.ops.softmax(joint, axis=-1))
""",
        "shift by each row's maximum, then normalise": """
def bayes_posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior)
    weights = np.exp(joint - joint.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)
""",
    },
    "test_gaussian_filterbank": {
        "softmax over the pixels (a normalised Gaussian)": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (tf.cast(tf.reshape(v, (-1, 1, 1)), tf.float32) for v in (g, delta, sigma2))
    centres = g + (tf.range(num_filters, dtype=tf.float32)[:, None] - (num_filters - 1) / 2) * delta
    logits = -tf.square(tf.range(size, dtype=tf.float32) - centres) / (2 * sigma2)
    return tf.nn.softmax(logits, axis=-1)
""",
        "keras.ops, sum + 1e-8 as in public DRAW code": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    ops = keras.ops
    g, delta, sigma2 = (ops.reshape(ops.cast(v, "float32"), (-1, 1, 1)) for v in (g, delta, sigma2))
    grid = ops.cast(ops.reshape(ops.arange(num_filters), (1, -1, 1)), "float32")
    mu = g + (grid - num_filters / 2 + 0.5) * delta
    a = ops.cast(ops.reshape(ops.arange(size), (1, 1, -1)), "float32")
    f = ops.exp(-ops.square(a - mu) / (2 * sigma2))
    return f / (ops.sum(f, axis=-1, keepdims=True) + 1e-8)
""",
        "a loop over the filters with tf.stack": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (tf.cast(tf.reshape(v, (-1, 1)), tf.float32) for v in (g, delta, sigma2))
    a = tf.range(size, dtype=tf.float32)[None, :]
    rows = []
    for i in range(1, num_filters + 1):
        mu = g + (i - num_filters / 2 - 0.5) * delta
        row = tf.exp(-(a - mu) ** 2 / (2 * sigma2))
        rows.append(row / tf.reduce_sum(row, axis=1, keepdims=True))
    return tf.stack(rows, axis=1)
""",
        "float64 inside, float32 out": """
def gaussian_filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (tf.reshape(tf.cast(v, tf.float64), (-1, 1, 1)) for v in (g, delta, sigma2))
    i = tf.range(1, num_filters + 1, dtype=tf.float64)[None, :, None]
    centres = g + (i - num_filters / 2 - 0.5) * delta
    weights = tf.exp(-tf.square(tf.range(size, dtype=tf.float64) - centres) / (2.0 * sigma2))
    return tf.cast(weights / tf.reduce_sum(weights, axis=-1, keepdims=True), tf.float32)
""",
    },
    "test_read_attention": {
        "einsum": """
def read_attention(x, x_hat, g_x, g_y, delta, sigma2, gamma, num_filters):
    fx = gaussian_filterbank(g_x, delta, sigma2, num_filters, x.shape[2])
    fy = gaussian_filterbank(g_y, delta, sigma2, num_filters, x.shape[1])
    gamma = tf.cast(gamma, tf.float32)[:, None]
    glimpses = [tf.einsum("bih,bhw,bjw->bij", fy, tf.cast(image, tf.float32), fx)
                for image in (x, x_hat)]
    out = [gamma * tf.reshape(glimpse, (tf.shape(fx)[0], -1)) for glimpse in glimpses]
    return tf.concat(out, axis=1)
""",
        "keras.ops.matmul with an explicit transpose": """
def read_attention(x, x_hat, g_x, g_y, delta, sigma2, gamma, num_filters):
    ops = keras.ops
    b, h, w = x.shape
    fx = gaussian_filterbank(g_x, delta, sigma2, num_filters, w)
    fy = gaussian_filterbank(g_y, delta, sigma2, num_filters, h)
    fxt = ops.transpose(fx, (0, 2, 1))
    gamma = ops.reshape(ops.cast(gamma, "float32"), (-1, 1))
    xs = [ops.reshape(ops.matmul(ops.matmul(fy, ops.cast(img, "float32")), fxt),
                      (-1, num_filters ** 2)) for img in (x, x_hat)]
    return ops.concatenate([gamma * xs[0], gamma * xs[1]], axis=-1)
""",
        "tf.linalg.matmul with adjoint_b, gamma as (batch, 1, 1)": """
def read_attention(x, x_hat, g_x, g_y, delta, sigma2, gamma, num_filters):
    x, x_hat = tf.cast(x, tf.float32), tf.cast(x_hat, tf.float32)
    fx = gaussian_filterbank(g_x, delta, sigma2, num_filters, x.shape[-1])
    fy = gaussian_filterbank(g_y, delta, sigma2, num_filters, x.shape[-2])
    gamma = tf.expand_dims(tf.expand_dims(tf.cast(gamma, tf.float32), -1), -1)
    glimpses = [gamma * tf.linalg.matmul(fy @ image, fx, adjoint_b=True) for image in (x, x_hat)]
    return tf.concat([tf.reshape(g, (-1, num_filters * num_filters)) for g in glimpses], -1)
""",    },
    "test_write_attention": {
        "einsum": """
def write_attention(patch, g_x, g_y, delta, sigma2, gamma, height, width):
    n = patch.shape[1]
    fx = gaussian_filterbank(g_x, delta, sigma2, n, width)
    fy = gaussian_filterbank(g_y, delta, sigma2, n, height)
    image = tf.einsum("bih,bij,bjw->bhw", fy, tf.cast(patch, tf.float32), fx)
    return image / tf.cast(gamma, tf.float32)[:, None, None]
""",
        "tf.transpose and tf.math.reciprocal": """
def write_attention(patch, g_x, g_y, delta, sigma2, gamma, height, width):
    n = patch.shape[1]
    fx = gaussian_filterbank(g_x, delta, sigma2, n, width)
    fyt = tf.transpose(gaussian_filterbank(g_y, delta, sigma2, n, height), (0, 2, 1))
    scale = tf.reshape(tf.math.reciprocal(tf.cast(gamma, tf.float32)), (-1, 1, 1))
    return scale * (fyt @ tf.cast(patch, tf.float32) @ fx)
""",
        "keras.ops": """
def write_attention(patch, g_x, g_y, delta, sigma2, gamma, height, width):
    ops = keras.ops
    n = patch.shape[1]
    fx = gaussian_filterbank(g_x, delta, sigma2, n, width)
    fy = gaussian_filterbank(g_y, delta, sigma2, n, height)
    image = ops.matmul(ops.matmul(ops.transpose(fy, (0, 2, 1)), ops.cast(patch, "float32")), fx)
    return image / ops.reshape(ops.cast(gamma, "float32"), (-1, 1, 1))
""",
    },
    "test_roc_auc": {
        "pairwise broadcasting": """
def roc_auc(scores_in, scores_out):
    a, b = np.asarray(scores_in)[:, None], np.asarray(scores_out)[None, :]
    return float(np.mean((a > b) + 0.5 * (a == b)))
""",
        "Mann-Whitney rank sum with scipy.stats.rankdata (average ranks)": """
def roc_auc(scores_in, scores_out):
    import scipy.stats
    a, b = np.asarray(scores_in, np.float64), np.asarray(scores_out, np.float64)
    ranks = scipy.stats.rankdata(np.concatenate([a, b]))
    return (ranks[:len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(b))
""",
        "double Python loop": """
def roc_auc(scores_in, scores_out):
    total = 0.0
    for s in scores_in:
        for t in scores_out:
            total += 1.0 if s > t else 0.5 if s == t else 0.0
    return total / (len(scores_in) * len(scores_out))
""",
        "scipy.stats.mannwhitneyu statistic": """
def roc_auc(scores_in, scores_out):
    import scipy.stats
    statistic = scipy.stats.mannwhitneyu(scores_in, scores_out, method="asymptotic").statistic
    return statistic / (len(scores_in) * len(scores_out))
""",
        "sort and count with searchsorted": """
def roc_auc(scores_in, scores_out):
    out = np.sort(np.asarray(scores_out, np.float64))
    a = np.asarray(scores_in, np.float64)
    lower = np.searchsorted(out, a, side="left")
    tied = np.searchsorted(out, a, side="right") - lower
    return (lower + 0.5 * tied).sum() / (len(a) * len(out))
""",
    },
}

# The mutants above that pass every visible check: only the hidden tests' verdicts catch them.
HIDDEN_ONLY = {"test_design_outlier_score": {"memorised: the check's own outliers"}}

CASCADES = {
    "test_bayes_posterior": {
        "Task 1 naive log(sum(exp))": _NAIVE_LOG_MARGINAL,
        "Task 1 shifts by the global maximum": _GLOBAL_MAX_LOG_MARGINAL,
        "Task 1 ignores the prior": _NO_PRIOR_LOG_MARGINAL,
        "Task 1 not done (NotImplementedError)": _NOT_DONE_LOG_MARGINAL,
        "Task 1 sums over the images (axis 0)": """
def log_marginal(log_px_given_y, log_prior):
    import scipy.special
    return scipy.special.logsumexp(np.asarray(log_px_given_y) + np.asarray(log_prior), axis=0)
""",
    },
    "test_read_attention": {
        "Task 4 filter index from 0": _ZERO_BASED_FILTERBANK,
        "Task 4 not normalised": _UNNORMALISED_FILTERBANK,
        "Task 4 not done (NotImplementedError)": _NOT_DONE_FILTERBANK,
        "Task 4 sigma2 squared (passed the reduced checks)": _SQUARED_SIGMA2_FILTERBANK,
        "Task 4 analytic normaliser": _ANALYTIC_NORM_FILTERBANK,
        "Task 4 static batch size (fails traced)": _STATIC_BATCH_FILTERBANK,
        "Task 4 wrong and warning (DeprecationWarning)": _WARNING_FILTERBANK,
    },
    "test_write_attention": {
        "Task 4 filter index from 0": _ZERO_BASED_FILTERBANK,
        "Task 4 not normalised": _UNNORMALISED_FILTERBANK,
        "Task 4 not done (NotImplementedError)": _NOT_DONE_FILTERBANK,
        "Task 4 sigma2 squared (passed the reduced checks)": _SQUARED_SIGMA2_FILTERBANK,
        "Task 4 analytic normaliser": _ANALYTIC_NORM_FILTERBANK,
        "Task 4 static batch size (fails traced)": _STATIC_BATCH_FILTERBANK,
        "Task 4 wrong and warning (DeprecationWarning)": _WARNING_FILTERBANK,
    },
}
