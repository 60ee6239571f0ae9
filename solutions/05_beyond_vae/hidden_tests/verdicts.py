"""Verdicts of 05_beyond_vae's hidden tests: the grader side (see grading/verdicts.py).

`probe_inputs` draws each class run's inputs from its seed: the visible checks' inputs and other
fixed cases with known answers, plus cases drawn from the seed, so that answers recorded for one
class run fail another's. Each verdict redoes the visible checks of its cell on the probe's
records and adds stricter ones; expected values are computed here in float64 NumPy from those
inputs (the exact formulas below never reach the kernel), or, for the filterbank's gradient,
taken from the solution's record on the same inputs.

One mistake costs one task: Task 2's inputs are drawn apart from Task 1's (other fixed numbers,
another random stream), and those of Tasks 5 and 6 apart from Task 4's, because the probes of the
later tasks lend the solution's log_marginal and gaussian_filterbank for the calls made on their
own inputs (see probes.py). Their traced cases run with a stand-in filterbank (fixed matrices
from the inputs), and their gradients flow through the lent filterbank's recorded Jacobians."""

import numpy as np

from common import checks, design
from grading.verdicts import named_mistake

from .probes import (DESIGN_SCORES, FB_GRADIENT, FB_TRACED, READ_GRADIENT, READ_TRACED,
                     WRITE_GRADIENT, WRITE_TRACED)

DEPENDS = {"test_bayes_posterior": ("test_log_marginal",),
           "test_read_attention": ("test_gaussian_filterbank",),
           "test_write_attention": ("test_gaussian_filterbank",),
           # the visible check's log p(x) and AUC
           "test_design_outlier_score": ("test_log_marginal", "test_roc_auc")}


def _f32(value):
    return np.asarray(value, np.float32)


def probe_inputs(seed):
    def rng(k):
        return np.random.default_rng([seed, k])

    return {
        "test_log_marginal": _marginal_inputs(rng(1)),
        "test_bayes_posterior": _posterior_inputs(rng(2)),
        "test_roc_auc": _auc_inputs(rng(3)),
        "test_gaussian_filterbank": _filterbank_inputs(rng(4)),
        "test_read_attention": _read_inputs(rng(5)),
        "test_write_attention": _write_inputs(rng(6)),
        "test_design_outlier_score": _design_inputs(seed),
    }


# ------------------------------------------------------------------ exact formulas (float64)


def _log_marginal(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64)
    peak = joint.max(axis=1, keepdims=True)
    return peak[:, 0] + np.log(np.exp(joint - peak).sum(axis=1))


def _posterior(log_px_given_y, log_prior):
    joint = np.asarray(log_px_given_y, np.float64) + np.asarray(log_prior, np.float64)
    return np.exp(joint - _log_marginal(log_px_given_y, log_prior)[:, None])


def _auc(scores_in, scores_out):
    a = np.asarray(scores_in, np.float64)[:, None]
    b = np.asarray(scores_out, np.float64)[None, :]
    return float(np.mean((a > b) + 0.5 * (a == b)))


def _filterbank(g, delta, sigma2, num_filters, size):
    g, delta, sigma2 = (np.asarray(v, np.float64).reshape(-1, 1, 1) for v in (g, delta, sigma2))
    centres = g + (np.arange(1, num_filters + 1)[None, :, None] - num_filters / 2 - 0.5) * delta
    weights = np.exp(-(np.arange(size)[None, None, :] - centres) ** 2 / (2 * sigma2))
    return weights / np.maximum(weights.sum(axis=-1, keepdims=True), 1e-8)


def _read(x, x_hat, g_x, g_y, delta, sigma2, gamma, n, banks=None, transposed=False):
    """gamma [F_Y x F_X^T, F_Y x_hat F_X^T] (with `banks`, the stand-in's fixed filterbanks;
    `transposed`: each glimpse transposed, a typical mistake)."""
    x, x_hat = np.asarray(x, np.float64), np.asarray(x_hat, np.float64)
    f_x, f_y = _banks(g_x, g_y, delta, sigma2, n, x.shape[1], x.shape[2], banks)
    gamma = np.asarray(gamma, np.float64)[:, None, None]

    def glimpse(image):
        out = gamma * f_y @ image @ f_x.transpose(0, 2, 1)
        return (out.transpose(0, 2, 1) if transposed else out).reshape(len(image), n * n)

    return np.concatenate([glimpse(x), glimpse(x_hat)], axis=-1)


def _write(patch, g_x, g_y, delta, sigma2, gamma, height, width, banks=None, transposed=False):
    """(1 / gamma) F_Y^T patch F_X (`transposed`: the patch transposed, a typical mistake)."""
    patch = np.asarray(patch, np.float64)
    f_x, f_y = _banks(g_x, g_y, delta, sigma2, patch.shape[1], height, width, banks)
    if transposed:
        patch = patch.transpose(0, 2, 1)
    return f_y.transpose(0, 2, 1) @ patch @ f_x / np.asarray(gamma, np.float64)[:, None, None]


def _banks(g_x, g_y, delta, sigma2, n, height, width, banks):
    """(F_X, F_Y): the filterbanks, or the stand-in's fixed ones for every example."""
    if banks is not None:
        batch = len(np.asarray(g_x))
        return (np.broadcast_to(np.asarray(banks[str(width)], np.float64), (batch, n, width)),
                np.broadcast_to(np.asarray(banks[str(height)], np.float64), (batch, n, height)))
    return (_filterbank(g_x, delta, sigma2, n, width), _filterbank(g_y, delta, sigma2, n, height))


def _check_traced(got, name, expected_shape, expected, hint):
    if got.error(name):
        raise AssertionError(f"{name}: your code raised an error. Hint: {hint}")
    checks.check_shape(got[name], expected_shape, name=name, hint=hint)
    checks.check_close(got[name], expected, rtol=1e-4, atol=1e-4, name=name, hint=hint)


def _check_gradients(got, ref, prefix, names, hint):
    for key in names:
        name = f"{prefix}/{key}"
        if not np.all(np.isfinite(np.asarray(got[name], np.float64))):
            raise AssertionError(f"{name}: expected a gradient; got none. Hint: {hint}")
        checks.check_close(got[name], ref[name], rtol=1e-3, atol=1e-4, name=name, hint=hint)


# ----------------------------------------------------------------------- Task 1: log_marginal

LM_SMALL = "log_marginal(log [[0.2, 0.6], [0.5, 0.5]], log [0.5, 0.5])"
LM_PRIOR = "log_marginal(log [[0.2, 0.6]], log [0.9, 0.1])"
LM_STABLE = "log_marginal of log-likelihoods near -1000 and -1900"
LM_RANDOM = "log_marginal of 40 x 10 random log-likelihoods around -800, non-uniform prior"
LM_ONE_CLASS = "log_marginal with one class (prior 1)"
LM_HUGE = "log_marginal of log-likelihoods near +1000 (densities above 1)"
LM_HUGE_RANDOM = "log_marginal of 5 x 3 random log-likelihoods between +800 and +1000"


def _marginal_inputs(rng):
    """The visible checks' cases (the stable one as nested Python lists, as the visible check
    passes it), other fixed cases, and random ones from this class run's seed."""
    prior = rng.dirichlet(np.ones(10))
    return {
        LM_SMALL: (np.log([[0.2, 0.6], [0.5, 0.5]]), np.log([0.5, 0.5])),
        LM_PRIOR: (np.log([[0.2, 0.6]]), np.log([0.9, 0.1])),
        LM_STABLE: ([[-1000.0, -1000.0 - float(np.log(3.0))], [-1900.0, -2300.0]],
                    np.log([0.5, 0.5])),
        LM_RANDOM: (-800.0 + 200.0 * rng.normal(size=(40, 10)), np.log(prior)),
        LM_ONE_CLASS: (np.array([[-3.0], [-1200.0]]), np.array([0.0])),
        LM_HUGE: (np.array([[1000.0, 999.0], [800.0, 1000.0]]), np.log([0.3, 0.7])),
        LM_HUGE_RANDOM: (rng.uniform(800.0, 1000.0, size=(5, 3)),
                         np.log(rng.dirichlet(np.ones(3)))),
    }


def verdict_test_log_marginal(got, ref, inputs):
    checks.check_shape(got[LM_SMALL], (2,), name=LM_SMALL,
                       hint="one log p(x) per image: reduce over the classes (axis 1).")
    stable = ("log-sum-exp per row: subtract each ROW's own maximum of log p(x|y) + log p(y) "
              "before exp and add it back (or scipy.special.logsumexp(..., axis=1)); "
              "exp(-1000) is 0 and exp(1000) is inf in floating point.")
    checks.check_cases(got, [
        (LM_SMALL, np.log([0.4, 0.5]), 0.0, 1e-6,
         "p(x) = sum_y p(x|y) p(y): add log_prior to every row, then log-sum-exp over classes."),
        (LM_PRIOR, np.log([0.24]), 0.0, 1e-6,
         "the prior weighs the classes: log(0.2·0.9 + 0.6·0.1) = log 0.24; a log-mean-exp "
         "ignores the prior."),
        (LM_STABLE, [-1000.0 + np.log(2 / 3), -1900.0 - np.log(2.0)], 0.0, 1e-6, stable),
        (LM_RANDOM, _log_marginal(*inputs[LM_RANDOM]), 0.0, 1e-6,
         "log p(x) = log sum_y exp(log p(x|y) + log p(y)), the prior included, " + stable),
        (LM_ONE_CLASS, [-3.0, -1200.0], 0.0, 1e-6,
         "with one class of prior 1, log p(x) is log p(x|y) itself."),
        (LM_HUGE, _log_marginal(*inputs[LM_HUGE]), 0.0, 1e-6, stable),
        (LM_HUGE_RANDOM, _log_marginal(*inputs[LM_HUGE_RANDOM]), 0.0, 1e-6,
         "log p(x) = log sum_y exp(log p(x|y) + log p(y)), the prior included, " + stable),
    ])


# -------------------------------------------------------------------- Task 2: bayes_posterior

BP_SMALL = "bayes_posterior(log [[0.1, 0.3], [0.2, 0.2]], log [0.5, 0.5])"
BP_PRIOR = "bayes_posterior(log [[0.1, 0.3]], log [0.9, 0.1])"
BP_STABLE = "bayes_posterior of log-likelihoods near -1100 and -2000"
BP_RANDOM = "bayes_posterior of 50 x 10 random log-likelihoods around -700, uniform prior"
BP_RANDOM_PRIOR = ("bayes_posterior of 40 x 10 random log-likelihoods around -800, non-uniform "
                   "prior")
BP_HUGE = "bayes_posterior of log-likelihoods near +1000 (densities above 1)"


def _posterior_inputs(rng):
    """Cases of their own, none of Task 1's: the probe lends the solution's log_marginal for
    the calls made on these, so Task 1's inputs here would put Task 1's answers in the kernel.
    The fixed ones have the visible checks' answers on other numbers."""
    return {
        BP_SMALL: (np.log([[0.1, 0.3], [0.2, 0.2]]), np.log([0.5, 0.5])),
        BP_PRIOR: (np.log([[0.1, 0.3]]), np.log([0.9, 0.1])),
        BP_STABLE: ([[-1100.0, -1100.0 - float(np.log(3.0))], [-2000.0, -2400.0]],
                    np.log([0.5, 0.5])),
        BP_RANDOM: (-700.0 + 300.0 * rng.normal(size=(50, 10)), np.log(np.full(10, 0.1))),
        BP_RANDOM_PRIOR: (-800.0 + 5.0 * rng.normal(size=(40, 10)),
                          np.log(rng.dirichlet(np.ones(10)))),
        BP_HUGE: (rng.uniform(800.0, 1000.0, size=(4, 3)), np.log(rng.dirichlet(np.ones(3)))),
    }


def verdict_test_bayes_posterior(got, ref, inputs):
    checks.check_shape(got[BP_SMALL], (2, 2), name=BP_SMALL,
                       hint="one probability per image and class: shape (N, C).")
    stable = ("exp(-1000) is 0, so exp(.) / sum(exp(.)) gives 0/0 = nan: subtract each ROW's "
              "maximum first (log-sum-exp), or use a softmax over axis 1.")
    checks.check_cases(got, [
        (BP_SMALL, [[0.25, 0.75], [0.5, 0.5]], 0.0, 1e-6,
         "p(y|x) = p(x|y) p(y) / p(x): normalise each ROW over the classes; return "
         "probabilities, not log-probabilities."),
        (BP_PRIOR, [[0.75, 0.25]], 0.0, 1e-6,
         "multiply by the prior before normalising: add log_prior to every row."),
        (BP_STABLE, [[0.75, 0.25], [1.0, 0.0]], 0.0, 1e-6, stable),
    ])
    checks.check_range(got[BP_RANDOM], 0.0, 1.0, name=BP_RANDOM,
                       hint="probabilities lie in [0, 1]: exponentiate after subtracting log p(x).")
    checks.check_close(np.asarray(got[BP_RANDOM], np.float64).sum(axis=1), np.ones(50),
                       atol=1e-6, name=f"row sums of {BP_RANDOM}",
                       hint="each image's posterior over the classes sums to 1.")
    checks.check_cases(got, [
        (BP_RANDOM, _posterior(*inputs[BP_RANDOM]), 0.0, 1e-6, stable),
        (BP_RANDOM_PRIOR, _posterior(*inputs[BP_RANDOM_PRIOR]), 0.0, 1e-6,
         "the prior p(y) multiplies the likelihood: add log_prior to every row before "
         "normalising."),
        (BP_HUGE, _posterior(*inputs[BP_HUGE]), 0.0, 1e-6,
         "exp(1000) overflows to inf: " + stable),
    ])


# ---------------------------------------------------------------------------- Task 3: roc_auc

AUC_PERFECT = "roc_auc([3, 4], [1, 2])"
AUC_REVERSED = "roc_auc([1, 2], [3, 4])"
AUC_TIES = "roc_auc([1, 2, 3, 4], [2, 2]) (8 pairs, 2 ties)"
AUC_EQUAL = "roc_auc of all-equal scores"
AUC_ROUNDED = "roc_auc of 300 and 200 rounded normal scores (many ties)"
AUC_SWAPPED = "roc_auc of the same scores, groups exchanged"
AUC_SIZES = "roc_auc of 7 integer in-scores against 450 integer out-scores"
AUC_LISTS = "roc_auc of Python lists [0.5, 0.1, 0.9] and [0.1, 0.3]"
AUC_UNSORTED = "roc_auc of unsorted float32 scores with repeated values"


def _auc_inputs(rng):
    rounded_in = np.round(rng.normal(1.0, 1.0, 300), 1)
    rounded_out = np.round(rng.normal(0.0, 1.0, 200), 1)
    return {
        AUC_PERFECT: (np.array([3.0, 4.0]), np.array([1.0, 2.0])),
        AUC_REVERSED: (np.array([1.0, 2.0]), np.array([3.0, 4.0])),
        AUC_TIES: (np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0])),
        AUC_EQUAL: (np.array([5.0, 5.0, 5.0]), np.array([5.0, 5.0])),
        AUC_ROUNDED: (rounded_in, rounded_out),
        AUC_SWAPPED: (rounded_out, rounded_in),
        AUC_SIZES: (rng.integers(-1, 10, 7).astype(np.float64),
                    rng.integers(0, 8, 450).astype(np.float64)),
        AUC_LISTS: ([0.5, 0.1, 0.9], [0.1, 0.3]),
        AUC_UNSORTED: (_f32([2.5, -1.0, 2.5, 0.0, 3.0, 0.0]), _f32([0.0, 2.5, 2.5, -3.0])),
    }


def verdict_test_roc_auc(got, ref, inputs):
    ties = ("count the pairs (one in-score, one out-score) where the in-score is higher, plus "
            "half of the tied pairs, over all n_in·n_out pairs. Ties as 0 (>) or as 1 (>=) are "
            "both wrong; so is comparing in[i] with out[i] only.")
    cases = [(name, _auc(*args), 0.0, 1e-6, ties) for name, args in inputs.items()]
    cases[0] = (AUC_PERFECT, 1.0, 0.0, 1e-6,
                "every in-distribution score is higher here. Got 0? Then the arguments or the "
                "comparison are swapped.")
    cases[1] = (AUC_REVERSED, 0.0, 0.0, 1e-6,
                "count pairs where the IN-distribution score is higher: got 1? Then the "
                "arguments or the comparison are swapped.")
    for name, expected, rtol, atol, hint in cases:
        checks.check_shape(got[name], (), name=name,
                           hint="return one number (a float), not an array per example.")
        checks.check_close(got[name], expected, rtol=rtol, atol=atol, name=name, hint=hint)


# ------------------------------------------------------------- Task 4: gaussian_filterbank

FB_VISIBLE = "gaussian_filterbank(g, delta, sigma2, 4, 32) for a batch of 2"
FB_ODD = "gaussian_filterbank(g = 10, delta = 5, sigma2 = 1, 3, 21)"
FB_RANDOM = "gaussian_filterbank of 6 random grids, N = 5, 28 pixels"
FB_ONE = "gaussian_filterbank with N = 1 (one filter on g)"
FB_EDGE = "gaussian_filterbank of grids reaching past the image's edges, N = 3, 12 pixels"
FB_EDGE_RANDOM = "gaussian_filterbank of 4 random grids reaching past the edges, N = 4, 16 pixels"


def _filterbank_inputs(rng):
    """{"cases": {name: arguments}, "gradient": (g, delta, sigma2, N, size, weights)}: the
    gradient is taken on the random case's grids."""
    random = (_f32(rng.uniform(8, 20, 6)), _f32(rng.uniform(0.5, 3.0, 6)),
              _f32(rng.uniform(0.5, 3.0, 6)), 5, 28)
    # Outer centres 0.5 to 2 pixels past an edge, so every filter keeps mass on the image: far
    # outside, a filter's sum falls below the 1e-8 floor, where correct answers differ (a
    # softmax, sum + 1e-8).
    edge_delta = rng.uniform(1.0, 2.5, 4)
    past = rng.uniform(0.5, 2.0, 4)
    edge = (_f32(np.where(np.arange(4) < 2, 1.5 * edge_delta - past, 15 - 1.5 * edge_delta + past)),
            _f32(edge_delta), _f32(rng.uniform(0.8, 2.0, 4)), 4, 16)
    weights = _f32(rng.normal(size=(6, 5, 28)) + np.arange(28))
    return {
        "cases": {
            FB_VISIBLE: (_f32([15.5, 12.0]), _f32([4.0, 3.0]), _f32([2.0, 1.0]), 4, 32),
            FB_ODD: (_f32([10.0]), _f32([5.0]), _f32([1.0]), 3, 21),
            FB_RANDOM: random,
            FB_ONE: (_f32([3.0, 7.5]), _f32([2.0, 2.0]), _f32([1.0, 4.0]), 1, 16),
            FB_EDGE: (_f32([1.0, 10.0]), _f32([3.0, 2.5]), _f32([1.5, 0.8]), 3, 12),
            FB_EDGE_RANDOM: edge,
        },
        "gradient": (*random, weights),
        "traced": (_f32(rng.uniform(8, 20, 3)), _f32(rng.uniform(0.5, 3.0, 3)),
                   _f32(rng.uniform(0.5, 3.0, 3)), 4, 24),
    }


def verdict_test_gaussian_filterbank(got, ref, inputs):
    cases = inputs["cases"]
    checks.check_shape(got[FB_VISIBLE], (2, 4, 32), name=FB_VISIBLE,
                       hint="one row per filter, one column per pixel: (batch, num_filters, size).")
    checks.check_dtype(got[FB_VISIBLE], "float32", name=FB_VISIBLE,
                       hint="DRAW multiplies the filterbank with float32 images: compute in (or "
                            "cast to) float32.")
    for name in (FB_VISIBLE, FB_ODD):  # grids well inside the image: centre = mean position
        bank = np.asarray(got[name], np.float64)
        checks.check_shape(bank, _filterbank(*cases[name]).shape, name=name)
        checks.check_close(bank.sum(axis=-1), np.ones(bank.shape[:2]), atol=1e-5,
                           name=f"row sums of {name}",
                           hint="divide each filter (row) by its sum over the PIXELS (last axis).")
        g, delta, _, n, size = cases[name]
        centres = (bank * np.arange(size)).sum(axis=-1)
        expected = (np.asarray(g, np.float64)[:, None]
                    + (np.arange(1, n + 1) - n / 2 - 0.5) * np.asarray(delta, np.float64)[:, None])
        checks.check_close(centres, expected, atol=2e-3, name=f"centre of each filter of {name}",
                           hint="mu_i = g + (i - N/2 - 0.5) delta with i = 1, ..., N "
                                "(symmetric about g); pixel positions 0, ..., size - 1. Off by "
                                "-delta: i starts at 0; off by 1: pixels counted from 1.")
    formula = ("F[i, a] = exp(-(a - mu_i)² / (2 sigma2)) / (its sum over a), with mu_i = g "
               "+ (i - N/2 - 0.5) delta, i = 1, ..., N, a = 0, ..., size - 1; sigma2 is the "
               "variance.")
    checks.check_cases(got, [(name, _filterbank(*args), 0.0, 2e-5, formula)
                        for name, args in cases.items()])
    for key in ("g", "delta", "sigma2"):
        name = f"{FB_GRADIENT}/{key}"
        checks.check_close(got[name], ref[name], rtol=1e-3, atol=1e-3, name=name,
                           hint="build the filterbank with TensorFlow operations (tf.range, "
                                "tf.exp, tf.reduce_sum), not NumPy, so that gradients reach g, "
                                "delta and sigma2: DRAW learns where to look through them.")
    g, delta, sigma2, n, size = inputs["traced"]
    _check_traced(got, FB_TRACED, (len(g), n, size), _filterbank(g, delta, sigma2, n, size),
                  "DRAW's training step runs it inside a tf.function, where g.shape[0] is None and "
                  "tensors have no value: reshape with -1 (or use tf.shape(g)) and TensorFlow "
                  "operations, not NumPy or .numpy().")


# ------------------------------------------------------- Tasks 5 and 6: read and write attention
# Their probes lend the solution's gaussian_filterbank for the calls made on these inputs: none
# of them is one of Task 4's cases (other batch sizes, grids and image sizes).

ATTENTION_PARAMETERS = (_f32([14.0, 12.0]), _f32([9.0, 10.0]), _f32([5.0, 4.0]),
                        _f32([1.0, 2.0]), _f32([0.5, 2.0]))  # the visible checks'


def _attention_parameters(rng, batch, height, width, num_filters):
    """(g_x, g_y, delta, sigma2, gamma) of `batch` random grids inside a height × width image."""
    delta = rng.uniform(1.0, 3.5, batch)
    reach = (num_filters - 1) / 2 * delta + 1.0  # the outer filters' centres stay inside
    g_x = rng.uniform(reach, width - 1 - reach)
    g_y = rng.uniform(reach, height - 1 - reach)
    return (_f32(g_x), _f32(g_y), _f32(delta), _f32(rng.uniform(0.5, 2.5, batch)),
            _f32(rng.uniform(0.25, 3.0, batch)))


READ_COLUMNS = "read_attention(x[r, c] = c, x_hat = 2) on (2, 20, 28) images, N = 3"
READ_ROWS = "read_attention(x[r, c] = r, x_hat = 0) on (2, 20, 28) images, N = 3"
READ_RANDOM = "read_attention of random (3, 12, 16) images, N = 2"
READ_FIVE = "read_attention of random (2, 28, 28) images, N = 5"


def _read_inputs(rng):
    height, width = 20, 28
    columns = _f32(np.broadcast_to(np.arange(width), (2, height, width)))
    rows = _f32(np.broadcast_to(np.arange(height)[:, None], (2, height, width)))
    small = (_f32(rng.uniform(size=(3, 12, 16))), _f32(rng.normal(size=(3, 12, 16))),
             *_attention_parameters(rng, 3, 12, 16, 2), 2)
    five = (_f32(rng.uniform(size=(2, 28, 28))), _f32(rng.normal(size=(2, 28, 28))),
            *_attention_parameters(rng, 2, 28, 28, 5), 5)
    return {
        "cases": {
            READ_COLUMNS: (columns, _f32(2 * np.ones((2, height, width))), *ATTENTION_PARAMETERS,
                           3),
            READ_ROWS: (rows, _f32(np.zeros((2, height, width))), *ATTENTION_PARAMETERS, 3),
            READ_RANDOM: small,
            READ_FIVE: five,
        },
        "traced": (_f32(rng.uniform(size=(3, 10, 14))), _f32(rng.normal(size=(3, 10, 14))),
                   *_attention_parameters(rng, 3, 10, 14, 3), 3),
        "stand-in banks": _stand_in_banks(rng, 3, (10, 14)),
        "gradient": (_f32(rng.uniform(size=(2, 14, 18))), _f32(rng.normal(size=(2, 14, 18))),
                     *_attention_parameters(rng, 2, 14, 18, 3), 3),
        "gradient weights": _f32(rng.normal(size=(2, 18))),
    }


def _stand_in_banks(rng, num_filters, sizes):
    """{str(size): a fixed num_filters × size matrix}: what the traced cases of Tasks 5 and 6
    get for gaussian_filterbank (random positive rows, no Gaussians)."""
    return {str(size): _f32(rng.uniform(0.1, 1.0, (num_filters, size))) for size in sizes}


READ_MISTAKES = [
    ("your glimpses are transposed: entry [i, j] belongs to grid ROW i (F_Y, on the left) "
     "and grid COLUMN j (F_X, on the right): gamma·F_Y x F_X^T, not F_X x^T F_Y^T, reshaped row by "
     "row.", lambda args: _read(*args, transposed=True)),
    ("your grid columns are centred on g_y and its rows on g_x: g_x and g_y are swapped. "
     "F_X (on the right) comes from g_x and the width, F_Y (on the left) from g_y and the height.",
     lambda args: _read(args[0], args[1], args[3], args[2], *args[4:])),
    ("your glimpses are divided by gamma: multiply them by gamma (the slide's γ).",
     lambda args: _read(*args[:6], 1.0 / np.asarray(args[6], np.float64), args[7])),
    ("your glimpses are not scaled by gamma: multiply them by gamma (the slide's γ).",
     lambda args: _read(*args[:6], np.ones(len(args[6])), args[7])),
]
ATTENTION_TRACED = ("DRAW's training step runs it inside a tf.function, where the batch size is "
                    "None and tensors have no value: use TensorFlow operations on tensors "
                    "(tf.matmul with transpose_a or transpose_b, tf.transpose, tf.reshape with "
                    "-1), not np.asarray, np.transpose or .numpy().")
ATTENTION_GRADIENT = ("DRAW learns where to look and write through these gradients: keep the "
                      "filterbanks as tensors (np.asarray, np.transpose, .numpy() or "
                      "tf.stop_gradient cut the graph).")


def _no_error(got, names, hint):
    """A TensorFlow shape or type error of a case, told with the hint of its likely cause."""
    for name in names:
        if got.error(name):
            raise AssertionError(f"{name}: your code raised an error. Hint: {hint}")


def verdict_test_read_attention(got, ref, inputs):
    cases = inputs["cases"]
    _no_error(got, cases, "F_Y (N × height) · x (height × width) · F_X^T (width × N): F_X is "
                          "built from g_x and the WIDTH, F_Y from g_y and the HEIGHT; each glimpse "
                          "reshaped to (batch, N·N), the two concatenated on the last axis.")
    checks.check_shape(got[READ_COLUMNS], (2, 18), name=READ_COLUMNS,
                       hint="two N × N glimpses, each flattened: shape (batch, 2·N·N).")
    checks.check_dtype(got[READ_COLUMNS], "float32", name=READ_COLUMNS,
                       hint="DRAW feeds the glimpses to float32 layers: cast the images to "
                            "float32.")
    hint = ("gamma·[F_Y x F_X^T, F_Y x_hat F_X^T], each N × N glimpse reshaped row by row, x's "
            "first: F_X from g_x and the WIDTH on the right (transposed), F_Y from g_y and the "
            "HEIGHT on the left; multiply by gamma.")
    for name, args in cases.items():
        named = named_mistake(got[name], hint,
                              [(text, wrong(args)) for text, wrong in READ_MISTAKES], 1e-4, 1e-4)
        checks.check_cases(got, [(name, _read(*args), 1e-4, 1e-4, named)])
    x, x_hat, *grid, n = inputs["traced"]
    _check_traced(got, READ_TRACED, (len(x), 2 * n * n),
                  _read(x, x_hat, *grid, n, banks=inputs["stand-in banks"]), ATTENTION_TRACED)
    _check_gradients(got, ref, READ_GRADIENT, ("g_x", "g_y", "delta", "sigma2", "gamma"),
                     ATTENTION_GRADIENT)


WRITE_CORNERS = "write_attention of one-entry (2, 3, 3) patches on a 20 × 28 canvas"
WRITE_RANDOM = "write_attention of random (3, 2, 2) patches on a 12 × 16 canvas"
WRITE_FIVE = "write_attention of random (2, 5, 5) patches on a 28 × 28 canvas"


def _write_inputs(rng):
    patch = np.zeros((2, 3, 3), np.float32)
    patch[0, 0, 2], patch[1, 2, 1] = 1.0, 3.0
    return {
        "cases": {
            WRITE_CORNERS: (patch, *ATTENTION_PARAMETERS, 20, 28),
            WRITE_RANDOM: (_f32(rng.normal(size=(3, 2, 2))),
                           *_attention_parameters(rng, 3, 12, 16, 2), 12, 16),
            WRITE_FIVE: (_f32(rng.normal(size=(2, 5, 5))),
                         *_attention_parameters(rng, 2, 28, 28, 5), 28, 28),
        },
        "traced": (_f32(rng.normal(size=(3, 4, 4))), *_attention_parameters(rng, 3, 24, 20, 4),
                   24, 20),
        "stand-in banks": _stand_in_banks(rng, 4, (24, 20)),
        "gradient": (_f32(rng.normal(size=(2, 3, 3))), *_attention_parameters(rng, 2, 13, 17, 3),
                     13, 17),
        "gradient weights": _f32(rng.normal(size=(2, 13, 17))),
    }


WRITE_MISTAKES = [
    ("the patch is painted transposed: entry [i, j] must land on grid ROW i (F_Y^T, on the left) "
     "and grid COLUMN j (F_X, on the right): F_Y^T patch F_X, not F_Y^T patch^T F_X (or F_X^T "
     "patch F_Y transposed).", lambda args: _write(*args, transposed=True)),
    ("the rows of the canvas are centred on g_x and its columns on g_y: g_x and g_y are swapped. "
     "F_Y (the rows, on the left) comes from g_y and the height, F_X (the columns, on the right) "
     "from g_x and the width.", lambda args: _write(args[0], args[2], args[1], *args[3:])),
    ("the canvas is multiplied by gamma: divide it by gamma (the slide's 1/γ̂).",
     lambda args: _write(*args[:5], 1.0 / np.asarray(args[5], np.float64), *args[6:])),
    ("the canvas is not divided by gamma (the slide's 1/γ̂).",
     lambda args: _write(*args[:5], np.ones(len(args[5])), *args[6:])),
]


def verdict_test_write_attention(got, ref, inputs):
    cases = inputs["cases"]
    _no_error(got, cases, "F_Y^T (height × N) · patch (N × N) · F_X (N × width). The slide's "
                          "F_Y w F_X^T does not multiply out: transpose F_Y, not F_X.")
    checks.check_shape(got[WRITE_CORNERS], (2, 20, 28), name=WRITE_CORNERS,
                       hint="F_Y^T (B × N) · patch (N × N) · F_X (N × A): (batch, height, "
                            "width). The slide's F_Y w F_X^T does not multiply out.")
    checks.check_dtype(got[WRITE_CORNERS], "float32", name=WRITE_CORNERS,
                       hint="DRAW adds the canvas to float32 logits: cast the patch to float32.")
    checks.check_close(np.asarray(got[WRITE_CORNERS], np.float64).sum(axis=(1, 2)), [2.0, 1.5],
                       atol=1e-4, name=f"total ink of {WRITE_CORNERS}",
                       hint="the canvas holds sum(patch) / gamma: divide by gamma, do not "
                            "multiply.")
    hint = ("(1 / gamma) F_Y^T patch F_X: F_Y from g_y and the HEIGHT on the left, transposed; "
            "F_X from g_x and the WIDTH on the right; divide by gamma.")
    for name, args in cases.items():
        named = named_mistake(got[name], hint,
                              [(text, wrong(args)) for text, wrong in WRITE_MISTAKES], 1e-4, 1e-4)
        checks.check_cases(got, [(name, _write(*args), 1e-4, 1e-4, named)])
    patch, *grid, height, width = inputs["traced"]
    _check_traced(got, WRITE_TRACED, (len(patch), height, width),
                  _write(patch, *grid, height, width, banks=inputs["stand-in banks"]),
                  ATTENTION_TRACED)
    _check_gradients(got, ref, WRITE_GRADIENT, ("patch", "g_x", "g_y", "delta", "sigma2", "gamma"),
                     ATTENTION_GRADIENT)


# ------------------------------------------------------ Task 7: design_outlier_score (a design)
# The grader draws a case where likelihood fails (common.design.outlier_case: shuffled digits,
# simple images and clothes, log p(x) under a digit model counted from training digits), the
# kernel scores its images, and the grader alone, knowing which are outliers, computes the ROC
# AUC of the scores and of raw log p(x). A score must be a function of each image (and of the
# training digits): the probe scores some images again in other batches and orders, so a score
# built from the batch (its order, its ranks, its statistics) or from random numbers fails.

DESIGN_KINDS = ("digits", "simple images", "clothes")  # grader_only "kind": 0, 1, 2


def _design_inputs(seed: int) -> dict:
    case = design.outlier_case(seed, _log_marginal, "grader")
    rng = np.random.default_rng([seed, 27, 7])
    count = len(case["images"])
    kind = np.array([DESIGN_KINDS.index(k) for k in case["kind"]], np.int64)
    return {"images": case["images"].astype(np.uint8), "log_px": case["log_px"],
            "train_images": case["train_images"].astype(np.uint8),
            "train_log_px": case["train_log_px"],
            "batches": [rng.permutation(count)[:count // 2], rng.permutation(count)[:37]],
            "grader_only": {"kind": kind}}


def design_outcome(got, inputs) -> dict:
    """{"measure": the ROC AUC of the design's scores (digits in, simple images and clothes
    out), "raw": that of log p(x) on the same images, and each one's AUC per kind of outlier},
    all computed here from the recorded scores and the grader's own labels."""
    scores = np.asarray(got[DESIGN_SCORES], np.float64)
    log_px = np.asarray(inputs["log_px"], np.float64)
    problems = design.outlier_score_problems(scores, len(log_px))
    if problems:
        raise AssertionError("; ".join(problems))
    kind = np.asarray(inputs["grader_only"]["kind"])
    inside = kind == 0
    outcome = {"measure": _auc(scores[inside], scores[~inside]),
               "raw": _auc(log_px[inside], log_px[~inside])}
    for code, name in enumerate(DESIGN_KINDS[1:], start=1):
        outcome[name] = _auc(scores[inside], scores[kind == code])
        outcome[f"raw, {name}"] = _auc(log_px[inside], log_px[kind == code])
    return outcome


def _counts() -> str:
    return ", ".join(f"{count} {name}" for name, count in design.OUTLIER_COUNTS.items())


def verdict_test_design_outlier_score(got, ref, inputs):
    names = [DESIGN_SCORES] + [f"{DESIGN_SCORES}, batch {k + 1}"
                               for k in range(len(inputs["batches"]))]
    for name in names:
        if got.error(name):
            raise AssertionError(
                f"design_outlier_score on the grader's {len(inputs['log_px'])} images: your code "
                f"raised {got.error(name)} Hint: run the check cell of Task 7; the score gets "
                "binary images (N, 784) float32, log p(x) (N,) and the training digits with "
                "theirs, and returns one number per image.")
    problems = design.outlier_score_problems(got[DESIGN_SCORES], len(inputs["log_px"]))
    assert not problems, (f"design_outlier_score on the grader's images: {'; '.join(problems)}. "
                          "Hint: return one finite number per image, shape (N,).")
    scores = np.asarray(got[DESIGN_SCORES], np.float64)
    for name, index in zip(names[1:], inputs["batches"]):
        assert design.scores_agree(scores, got[name], index), (
            f"design_outlier_score: the grader scored {len(index)} of its images again, in another "
            "batch and order, and their scores changed. A score must depend on each image alone "
            "(and on the training digits): no statistics of the batch, no ranks or positions in "
            "it, no random numbers.")
    outcome = design_outcome(got, inputs)
    assert outcome["measure"] >= design.OUTLIER_TARGET, (
        f"design_outlier_score: on the grader's case ({_counts()}), your score's ROC AUC is "
        f"{outcome['measure']:.3f} (on the simple images "
        f"{outcome['simple images']:.3f}, on the clothes {outcome['clothes']:.3f}); raw log p(x) "
        f"gets {outcome['raw']:.3f} ({outcome['raw, simple images']:.3f} and "
        f"{outcome['raw, clothes']:.3f}). The target is {design.OUTLIER_TARGET} or more. Hint: "
        + " ".join(design.outlier_advice(outcome)))
