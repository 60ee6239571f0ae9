"""Verdicts of 03_elbo's hidden tests: the grader side (see grading/verdicts.py).

`probe_inputs` draws each class run's inputs from its seed: the visible checks' inputs and other
fixed cases with known answers, plus cases drawn from the seed, so that answers recorded for one
class run fail another's. Inputs that need an exact answer (Task 6's q at or near the exact
posterior) are computed here and passed as data. Each verdict redoes the visible checks of its
cell on the probe's records and adds the stricter hidden checks; expected values are computed
here in float64 NumPy from those inputs (the exact formulas below never reach the kernel). Monte
Carlo answers are judged against the exact values with the notebook's tolerances, since a
correct answer may draw other samples than the solution; the drawn Monte Carlo cases are redrawn
until those tolerances are at least 6 standard errors of the estimate.

One mistake costs one task: the probes of Tasks 3 and 6 lend Task 2's log_normal_pdf and Task
1's kl_diagonal_gaussians for the calls the solution makes on their own inputs (see probes.py),
so their inputs are drawn from streams of their own, apart from those of Tasks 1 and 2."""

import numpy as np

from common import checks, design

from .probes import IS_PAIR, IS_TRIPLE, PDF_ARGUMENTS


# Task 3's monte_carlo_kl calls Task 2's log_normal_pdf; Task 6's elbo_estimate calls it and may
# call Task 1's kl_diagonal_gaussians (their probes lend correct ones: answers.earlier).
# Task 8's visible check measures the design with Tasks 2, 4 and 7 (its verdict with its own).
DEPENDS = {"test_monte_carlo_kl": ("test_log_normal_pdf",),
           "test_elbo_estimate": ("test_log_normal_pdf", "test_kl_diagonal_gaussians"),
           "test_design_proposal": ("test_log_normal_pdf", "test_exact_log_marginal",
                                    "test_iwae_bound")}

LOG_2PI = np.log(2 * np.pi)


def _f32(value):
    return np.asarray(value, np.float32)


def probe_inputs(seed):
    def rng(k):
        return np.random.default_rng([seed, k])

    return {
        "test_kl_diagonal_gaussians": _kl_inputs(rng(1)),
        "test_log_normal_pdf": _pdf_inputs(rng(2)),
        "test_monte_carlo_kl": _mc_inputs(rng(3)),
        "test_exact_log_marginal": _marginal_inputs(rng(4)),
        "test_exact_posterior": _posterior_inputs(rng(5)),
        "test_elbo_estimate": _elbo_inputs(rng(6)),
        "test_iwae_bound": _iwae_inputs(rng(7)),
        "test_design_proposal": _proposal_inputs(rng(8)),
    }


# ----------------------------------------------------------------- exact formulas (float64)


def _kl(mean_q, log_var_q, mean_p, log_var_p):
    mq, lq, mp, lp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return 0.5 * np.sum(lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0, axis=-1)


def _log_ratio_std(mean_q, log_var_q, mean_p, log_var_p):
    """Standard deviation of log q(z) - log p(z) for z ~ q, per example: per dimension it is
    a·ε² + c·ε + const with a = ½(σq²/σp² - 1), c = (μq - μp)·σq/σp², of variance 2a² + c²."""
    mq, lq, mp, lp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    a = 0.5 * (np.exp(lq - lp) - 1.0)
    c = (mq - mp) * np.exp(0.5 * lq - lp)
    return np.sqrt(np.sum(2.0 * a**2 + c**2, axis=-1))


def _log_normal(x, mean, log_var):
    x, mean, log_var = (np.asarray(v, np.float64) for v in (x, mean, log_var))
    return -0.5 * np.sum(LOG_2PI + log_var + (x - mean) ** 2 / np.exp(log_var), axis=-1)


def _log_marginal(x, W, b, sigma):
    W = np.asarray(W, np.float64)
    covariance = W @ W.T + sigma**2 * np.eye(len(b))
    centred = np.asarray(x, np.float64) - b
    quadratic = np.einsum("bi,ij,bj->b", centred, np.linalg.inv(covariance), centred)
    return -0.5 * (len(b) * LOG_2PI + np.linalg.slogdet(covariance)[1] + quadratic)


def _posterior(x, W, b, sigma):
    """Exact (post_mean, post_log_var) of probabilistic PCA with orthogonal columns of W."""
    W = np.asarray(W, np.float64)
    m = W.T @ W + sigma**2 * np.eye(W.shape[1])
    post_mean = (np.asarray(x, np.float64) - b) @ W @ np.linalg.inv(m).T
    log_var = np.log(sigma**2 * np.diag(np.linalg.inv(m)))
    return post_mean, np.tile(log_var, (len(post_mean), 1))


def _log_mean_exp(log_weights):
    log_weights = np.asarray(log_weights, np.float64)
    peak = log_weights.max(axis=0)
    return peak + np.log(np.mean(np.exp(log_weights - peak), axis=0))


def _orthogonal_model(rng, data_dim, scales):
    """W with orthogonal columns of lengths `scales`, and b."""
    basis, _ = np.linalg.qr(rng.normal(size=(data_dim, len(scales))))
    return _f32(basis * np.asarray(scales)), _f32(rng.normal(size=data_dim))


def _raised(got, name):
    """Fail with the student's error when the entry `name` (a dict of several values) raised."""
    if got.error(name):
        got[name]  # raises AssertionError "name: your code raised ..."


# ------------------------------------------------------------- Task 1: kl_diagonal_gaussians

KL_SAME = "kl_diagonal_gaussians(mean, log_var, mean, log_var): KL(q || q) for random (4, 3) q"
KL_PRIOR_PAIRS = "KL(N(1, 1) || N(0, 1)) and KL(N(0, e²) || N(0, 1))"
KL_GENERAL_PAIRS = "KL(N(0, 1) || N(0, e²)) and KL(N(1, 1) || N(3, 4))"
KL_THREE_DIMS = "KL(N((1, 1, 1), I) || N(0, I))"
KL_VISIBLE = "KL(q || p) for the visible check's 50 random pairs"
KL_SAME_DRAWN = "KL(q || q) for another random (6, 4) q"
KL_RANDOM = "KL(q || p) for 50 random pairs of shape (50, 3)"
KL_BACK = "KL(p || q) for the same 50 pairs (the two pairs of arguments exchanged)"
KL_SCALAR_PRIOR = "KL(q || N(0, I)) for 50 random q, with mean_p = log_var_p = 0.0 (Python floats)"


def _kl_inputs(rng):
    visible = np.random.default_rng(0)  # the visible test's draws, in its order
    mean, log_var = _f32(visible.normal(size=(4, 3))), _f32(visible.normal(size=(4, 3)))
    visible_pairs = [_f32(visible.normal(size=(50, 3)) * s) for s in (2.0, 1.5, 2.0, 1.5)]
    zeros = _f32(np.zeros((2, 1)))
    same_mean, same_log_var = _f32(rng.normal(size=(6, 4))), _f32(rng.normal(size=(6, 4)))
    pairs = [_f32(rng.normal(size=(50, 3)) * s) for s in (2.0, 1.5, 2.0, 1.5)]
    return {
        KL_SAME: (mean, log_var, mean, log_var),
        KL_PRIOR_PAIRS: (_f32([[1.0], [0.0]]), _f32([[0.0], [2.0]]), zeros, zeros),
        KL_GENERAL_PAIRS: (_f32([[0.0], [1.0]]), _f32([[0.0], [0.0]]),
                           _f32([[0.0], [3.0]]), _f32([[2.0], [np.log(4.0)]])),
        KL_THREE_DIMS: (_f32([[1.0, 1.0, 1.0]]), _f32(np.zeros((1, 3))),
                        _f32(np.zeros((1, 3))), _f32(np.zeros((1, 3)))),
        KL_VISIBLE: tuple(visible_pairs),
        KL_SAME_DRAWN: (same_mean, same_log_var, same_mean, same_log_var),
        KL_RANDOM: tuple(pairs),
        KL_BACK: (pairs[2], pairs[3], pairs[0], pairs[1]),
        KL_SCALAR_PRIOR: (pairs[0], pairs[1], 0.0, 0.0),
    }


def verdict_test_kl_diagonal_gaussians(got, ref, inputs):
    checks.check_shape(got[KL_SAME], (4,), name=KL_SAME,
                       hint="return one KL per example: sum over the last axis only.")
    formula = ("½[log_var_p - log_var_q + (exp(log_var_q) + (mean_q - mean_p)²) / exp(log_var_p) "
               "- 1], summed over the last axis")
    same_hint = ("a distribution has zero divergence from itself: every dimension's term must "
                 "vanish when q = p. Use mean_p and log_var_p (p is not always N(0, I)), subtract "
                 "1 per dimension, and add log_var_p - log_var_q (in that order).")
    cases = [
        (KL_SAME, np.zeros(4), 0.0, 1e-5, same_hint),
        (KL_PRIOR_PAIRS, [0.5, 0.5 * (np.exp(2.0) - 1.0 - 2.0)], 1e-5, 1e-5,
         f"the expectation is under q, the FIRST pair of arguments: {formula}. Got 0.5 and "
         "0.568? Then q and p are swapped."),
        (KL_GENERAL_PAIRS, _kl(*inputs[KL_GENERAL_PAIRS]), 1e-5, 1e-5,
         "use mean_p and log_var_p: the formula must not assume p = N(0, I), and both the "
         "variance of q and the squared mean difference are divided by the variance of p."),
        (KL_THREE_DIMS, [1.5], 1e-5, 1e-5,
         "the KL of independent dimensions is the SUM of the per-dimension KLs (0.5 each "
         "here), not their mean."),
    ]
    checks.check_cases(got, cases)
    for name in (KL_VISIBLE, KL_RANDOM):
        checks.check_range(got[name], low=0.0, name=name,
                           hint="a KL divergence is never negative; check the signs of each "
                                "term.")
    checks.check_cases(got, [
        (KL_VISIBLE, _kl(*inputs[KL_VISIBLE]), 1e-4, 1e-4, f"compute {formula}."),
        (KL_SAME_DRAWN, np.zeros(6), 0.0, 1e-5, same_hint),
        (KL_RANDOM, _kl(*inputs[KL_RANDOM]), 1e-4, 1e-4, f"compute {formula}."),
        (KL_BACK, _kl(*inputs[KL_BACK]), 1e-4, 1e-4,
         "the KL is not symmetric: q is the FIRST pair of arguments and the expectation is "
         f"under q; {formula}."),
        (KL_SCALAR_PRIOR, _kl(*inputs[KL_SCALAR_PRIOR]), 1e-4, 1e-4,
         "mean_p and log_var_p may be Python floats standing for N(0, I): let them broadcast "
         "(tf.cast(0.0, tf.float32) works) to give ½ Σ [exp(s) + μ² - 1 - s]."),
    ])


# ------------------------------------------------------------------- Task 2: log_normal_pdf

PDF_SHAPE = "log_normal_pdf on zero inputs of shape (4, 3)"
PDF_1D = "log N(0; mean 0, log_var 0) in one dimension"
PDF_TWO = "log N(x; mean, log_var) for x=1, mean=0, log_var=2 and x=3, mean=2, log_var=-1"
PDF_3D = "log N(0; 0, I) in three dimensions"
PDF_BROADCAST = "log_normal_pdf(x of shape (5, 2, 3), mean and log_var of shape (2, 3))"
PDF_BROADCAST_DRAWN = ("log_normal_pdf(random x of shape (4, 3, 2), random mean and log_var of "
                       "shape (3, 2))")
PDF_RANDOM = "log_normal_pdf on random x, mean, log_var of shape (6, 4)"
PDF_VECTOR = "log_normal_pdf(x of shape (5, 2, 3), mean and log_var of shape (3,))"
PDF_GRADIENT = ("gradients of sum(log_normal_pdf(x, mean, log_var)) for the visible check's "
                "tf.Variables of shape (2, 3)")
PDF_GRADIENT_DRAWN = ("gradients of sum(log_normal_pdf(x, mean, log_var)) for random tf.Variables "
                      "x of shape (3, 4, 2), mean and log_var of shape (4, 2)")


def _pdf_inputs(rng):
    """{"values": {name: (x, mean, log_var)}, "gradients": {name: (x, mean, log_var)}}: the
    visible test's inputs and others drawn from the seed."""
    samples = _f32(np.random.default_rng(0).normal(size=(5, 2, 3)))  # the visible test's
    x, mean, log_var = (_f32(rng.normal(size=(6, 4)) * s) for s in (2.0, 1.0, 1.5))
    broadcast = (_f32(rng.normal(size=(4, 3, 2)) * 2.0), _f32(rng.normal(size=(3, 2))),
                 _f32(rng.normal(size=(3, 2))))
    vector = (_f32(rng.normal(size=(5, 2, 3)) * 1.5), _f32(rng.normal(size=3)),
              _f32(rng.normal(size=3) * 0.5))
    zeros = _f32(np.zeros((1, 3)))
    drawn = (_f32(rng.normal(size=(3, 4, 2)) * 2.0), _f32(rng.normal(size=(4, 2))),
             _f32(rng.normal(size=(4, 2)) * 0.5))
    return {
        "values": {
            PDF_SHAPE: (_f32(np.zeros((4, 3))),) * 3,
            PDF_1D: (_f32([[0.0]]), _f32([[0.0]]), _f32([[0.0]])),
            PDF_TWO: (_f32([[1.0], [3.0]]), _f32([[0.0], [2.0]]), _f32([[2.0], [-1.0]])),
            PDF_3D: (zeros, zeros, zeros),
            PDF_BROADCAST: (samples, _f32(np.ones((2, 3))), _f32(np.zeros((2, 3)))),
            PDF_BROADCAST_DRAWN: broadcast,
            PDF_RANDOM: (x, mean, log_var),
            PDF_VECTOR: vector,
        },
        "gradients": {
            PDF_GRADIENT: (samples[0], _f32([[0.5, -1.0, 0.0], [1.0, 2.0, -0.5]]),
                           _f32([[0.0, 1.0, -1.0], [0.5, -0.5, 0.2]])),
            PDF_GRADIENT_DRAWN: drawn,
        },
    }


def verdict_test_log_normal_pdf(got, ref, inputs):
    values = inputs["values"]
    checks.check_shape(got[PDF_SHAPE], (4,), name=PDF_SHAPE,
                       hint="sum over the last axis only: tf.reduce_sum(..., axis=-1).")
    variance_hint = ("log_var is the LOG of the variance: the variance is exp(log_var), the "
                     "normaliser contributes -½·log_var, and the squared error is divided by "
                     "exp(log_var) (not by the standard deviation, not by log_var).")
    broadcast_hint = ("let the shapes broadcast (x - mean works as it is) and reduce over "
                      "axis=-1 only: axis=1 (the TF tutorial's raxis=1) is the last axis only for "
                      "2-D inputs.")
    checks.check_cases(got, [
        (PDF_1D, [-0.5 * LOG_2PI], 0.0, 1e-5,
         "a standard normal at its mean has log density -½·log(2π) ≈ -0.9189. 0 means the "
         "-½·log(2π) term is missing; inf or nan means log_var was used as the variance "
         "(log_var = 0 is variance 1)."),
        (PDF_TWO, _log_normal(*values[PDF_TWO]), 1e-5, 1e-5, variance_hint),
        (PDF_3D, [-1.5 * LOG_2PI], 0.0, 1e-5,
         "independent dimensions multiply, so their log densities add: sum over the last axis, "
         "do not average."),
        (PDF_BROADCAST, _log_normal(*values[PDF_BROADCAST]), 1e-4, 1e-4, broadcast_hint),
        (PDF_BROADCAST_DRAWN, _log_normal(*values[PDF_BROADCAST_DRAWN]), 1e-4, 1e-4,
         broadcast_hint),
        (PDF_RANDOM, _log_normal(*values[PDF_RANDOM]), 1e-4, 1e-4,
         "-½ Σ_j [log 2π + log_var_j + (x_j - mean_j)² / exp(log_var_j)], summed over the last "
         "axis. " + variance_hint),
        (PDF_VECTOR, _log_normal(*values[PDF_VECTOR]), 1e-4, 1e-4,
         "a mean and log_var of shape (k,) must broadcast against x of shape (..., k); "
         + broadcast_hint),
    ])
    # Tasks 3 and 6 differentiate through log_normal_pdf: a NumPy answer has the right values
    # but no gradient, and would otherwise fail only there.
    numpy_hint = ("NumPy (np.asarray, np.sum, np.exp, ...) or .numpy() on the inputs gives correct "
                  "values but cuts TensorFlow's gradient tape. Use TensorFlow operations only "
                  "(tf.cast, tf.exp, tf.square, tf.reduce_sum) on the inputs themselves.")
    for name in inputs["gradients"]:
        if got.error(name):
            try:
                got[name]  # raises AssertionError "name: your code raised ..."
            except AssertionError as error:
                raise AssertionError(f"{error}. Hint: Tasks 3 and 6 pass tensors and "
                                     "tf.Variables; " + numpy_hint) from None
        for argument in PDF_ARGUMENTS:
            assert bool(got[f"{name}/{argument} reaches it"]), (
                f"{name}: expected a gradient with respect to {argument}; got None: no gradient "
                f"reaches {argument}. Hint: " + numpy_hint)
            checks.check_close(got[f"{name}/{argument}"], ref[f"{name}/{argument}"], rtol=1e-4,
                               atol=1e-4, name=f"{name}: with respect to {argument}",
                               hint="the values are right, so part of the computation is cut "
                                    "from the tape: compute everything from the inputs themselves "
                                    "with TensorFlow operations (no tf.stop_gradient, no "
                                    "tf.constant made from their values).")


# ------------------------------------------------------------------- Task 3: monte_carlo_kl

MC_SHAPE = "monte_carlo_kl with batch 3, k 2, 10 samples"
MC_SAME = "Monte Carlo KL(q || q) with 10 samples"
MC_SEED_7 = "monte_carlo_kl with 100 samples and seed 7"
MC_SEED_7_AGAIN = "monte_carlo_kl with 100 samples and seed 7, called a second time"
MC_SEED_8 = "monte_carlo_kl with 100 samples and seed 8"
MC_MANY = "Monte Carlo KL with 20,000 samples (seed 1) vs the closed form"
# 300,000 samples (the former hidden test drew 20,000): a drawn pair's log-ratio may have a
# standard deviation of 9.1 nats (pairs with more are redrawn), so 20,000 samples would give a
# standard error of 0.064 and a correct answer drawing other samples than the solution would
# miss atol=0.1 about one time in eight; with 300,000 the tolerance is 6 standard errors.
MC_RANDOM = "Monte Carlo KL with 300,000 samples for random (4, 3) q and p"
MC_RANDOM_SAMPLES, MC_MAX_STD = 300_000, 9.1
MC_ONE = "monte_carlo_kl with num_samples=1 for random (4, 3) q and p"


def _mc_inputs(rng):
    """The visible test's q and p and seeds, and random q and p (drawn apart from Tasks 1 and
    2's inputs: the probe lends log_normal_pdf for the calls made on these)."""
    mean_q = _f32([[0.0, 0.0], [1.0, -1.0], [0.5, 2.0]])
    log_var_q = _f32([[0.0, 0.0], [0.5, -1.0], [-2.0, 1.0]])
    mean_p = _f32([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    log_var_p = _f32([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0]])
    fixed = (mean_q, log_var_q, mean_p, log_var_p)
    while True:
        random = tuple(_f32(rng.normal(size=(4, 3)) * s) for s in (1.0, 0.5, 1.0, 0.5))
        if _log_ratio_std(*random).max() <= MC_MAX_STD:
            break
    one = tuple(_f32(rng.normal(size=(4, 3)) * s) for s in (1.0, 0.5, 1.0, 0.5))
    seeds = [int(s) for s in rng.integers(10, 2**20, size=2)]
    return {
        MC_SHAPE: (*fixed, 10, 0),
        MC_SAME: (mean_q, log_var_q, mean_q, log_var_q, 10, 0),
        MC_SEED_7: (*fixed, 100, 7),
        MC_SEED_7_AGAIN: (*fixed, 100, 7),
        MC_SEED_8: (*fixed, 100, 8),
        MC_MANY: (*fixed, 20000, 1),
        MC_RANDOM: (*random, MC_RANDOM_SAMPLES, seeds[0]),
        MC_ONE: (*one, 1, seeds[1]),
    }


def verdict_test_monte_carlo_kl(got, ref, inputs):
    average_hint = "average over the samples (axis 0) after summing over k inside log_normal_pdf."
    checks.check_shape(got[MC_SHAPE], (3,), name=MC_SHAPE, hint=average_hint)
    checks.check_cases(got, [(MC_SAME, np.zeros(3), 0.0, 1e-4,
                         "log q(z) - log p(z) is exactly 0 for every z when q = p: use "
                         "log_normal_pdf(z, mean_q, log_var_q) - log_normal_pdf(z, mean_p, "
                         "log_var_p).")])
    first = got[MC_SEED_7]
    checks.check_shape(first, (3,), name=MC_SEED_7, hint=average_hint)
    checks.check_close(got[MC_SEED_7_AGAIN], first, rtol=0, atol=1e-6,
                       name="two estimates with the same seed (7)",
                       hint="the same seed must give the same samples: draw the noise with "
                            "tf.random.stateless_normal(shape, seed=(seed, 0)), not with an "
                            "unseeded or stateful generator.")
    other = np.asarray(got[MC_SEED_8], np.float64)
    checks.check_shape(other, (3,), name=MC_SEED_8, hint=average_hint)
    assert np.abs(other - first)[1:].max() > 1e-6, (
        "monte_carlo_kl: expected different estimates for seeds 7 and 8; got identical ones. "
        "Hint: pass `seed` to the random generator instead of a fixed seed.")
    sampling_hint = ("sample z from q (z = mean_q + exp(½·log_var_q)·ε), not from p, and "
                     "AVERAGE log q(z) - log p(z) over the samples (not the sum). A standard "
                     "deviation of exp(log_var) instead of exp(½·log_var) also gives a wrong "
                     "value.")
    checks.check_cases(got, [
        (MC_MANY, _kl(*inputs[MC_MANY][:4]), 0.0, 0.1, sampling_hint),
        (MC_RANDOM, _kl(*inputs[MC_RANDOM][:4]), 0.0, 0.1, sampling_hint),
    ])
    checks.check_shape(got[MC_ONE], (4,), name=MC_ONE,
                       hint="num_samples=1 must work too: keep the samples axis of length 1 "
                            "and average over it.")
    checks.check_finite(got[MC_ONE], name=MC_ONE)


# --------------------------------------------------------------- Task 4: exact_log_marginal

W_TEST = _f32([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0]])  # orthogonal columns, |w1|² = 3, |w2|² = 2
B_TEST, SIGMA_TEST = _f32([1.0, -1.0, 0.5]), 0.5
X_TEST = _f32([[0.0, 0.0, 0.0], [2.0, -1.0, 1.0], [1.0, -1.0, 0.5], [-1.0, 2.0, 0.0]])

MARGINAL_TEST = "exact_log_marginal for the 3-D test model (4 points)"
MARGINAL_NO_W = "exact_log_marginal with W = 0, i.e. N(x; b, σ²I)"
MARGINAL_GENERAL = "exact_log_marginal with a general (6, 3) W (not orthogonal) and sigma=0.3"
MARGINAL_1D = "exact_log_marginal in one dimension: x=2, w=3, b=1, sigma=4"


def _marginal_inputs(rng):
    W_general = _f32(rng.normal(size=(6, 3)))
    b_general, x_general = _f32(rng.normal(size=6)), _f32(rng.normal(size=(7, 6)) * 2.0)
    return {
        MARGINAL_TEST: (X_TEST, W_TEST, B_TEST, SIGMA_TEST),
        MARGINAL_NO_W: (X_TEST, np.zeros_like(W_TEST), B_TEST, SIGMA_TEST),
        MARGINAL_GENERAL: (x_general, W_general, b_general, 0.3),
        MARGINAL_1D: (_f32([[2.0]]), _f32([[3.0]]), _f32([1.0]), 4.0),
    }


def verdict_test_exact_log_marginal(got, ref, inputs):
    checks.check_shape(got[MARGINAL_TEST], (4,), name=MARGINAL_TEST,
                       hint="return one log-likelihood per row of x.")
    covariance_hint = ("x = Wz + b + σε with z ~ N(0, I) has covariance W Wᵀ + σ² I: the latent "
                       "noise passes through W. Covariance σ² I alone forgets W Wᵀ; only the "
                       "diagonal of W Wᵀ forgets that the dimensions of x are correlated.")
    checks.check_cases(got, [
        (MARGINAL_NO_W, _log_marginal(*inputs[MARGINAL_NO_W]), 1e-4, 1e-4,
         "with W = 0, x = b + σε: centre x at b, use the variance σ² (sigma is the standard "
         "deviation) and include -½·D·log(2π)."),
        (MARGINAL_TEST, _log_marginal(*inputs[MARGINAL_TEST]), 1e-4, 1e-4, covariance_hint),
        (MARGINAL_GENERAL, _log_marginal(*inputs[MARGINAL_GENERAL]), 1e-4, 1e-3,
         "the marginal N(x; b, W Wᵀ + σ² I) holds for any W, also when its columns are not "
         "orthogonal: use the full covariance matrix (log det and solve), not per-dimension "
         "variances. " + covariance_hint),
        (MARGINAL_1D, [-0.5 * (np.log(2 * np.pi * 25.0) + 1.0 / 25.0)], 1e-5, 1e-5,
         "in one dimension p(x) = N(x; b, w² + σ²) = N(2; 1, 9 + 16)."),
    ])


# ------------------------------------------------------------------ Task 5: exact_posterior

POSTERIOR_TEST = "exact_posterior on the 3-D test model (4 points, d = 2)"
POSTERIOR_HIDDEN = "exact_posterior on a random model with orthogonal (6, 3) W, sigma=0.7"


def _posterior_inputs(rng):
    """{"cases": {name: arguments}, "z": random latents at which the verdict checks the
    returned density against Bayes' rule}."""
    W_hidden, b_hidden = _orthogonal_model(rng, 6, [3.0, 1.5, 0.5])
    x_hidden = _f32(rng.normal(size=(5, 6)) * 2.0)
    return {"cases": {POSTERIOR_TEST: (X_TEST, W_TEST, B_TEST, SIGMA_TEST),
                      POSTERIOR_HIDDEN: (x_hidden, W_hidden, b_hidden, 0.7)},
            "z": rng.normal(size=(5, 3))}


def verdict_test_exact_posterior(got, ref, inputs):
    cases, z_any = inputs["cases"], inputs["z"]
    for name in cases:
        _raised(got, name)
        assert bool(got[f"{name}/{IS_PAIR}"]), (
            f"{name}: expected a tuple (post_mean, post_log_var); got "
            f"{got[f'{name}/type of the result']}. Hint: end with "
            "`return post_mean, post_log_var`.")
    name = POSTERIOR_TEST
    mean, log_var = got[f"{name}/post_mean"], got[f"{name}/post_log_var"]
    checks.check_shape(mean, (4, 2), name=f"{name}: post_mean",
                       hint="one latent mean per example: (batch, d).")
    checks.check_shape(log_var, (4, 2), name=f"{name}: post_log_var",
                       hint="repeat the (d,) log-variances for every example, e.g. add "
                            "tf.zeros_like(post_mean).")
    want_mean, want_log_var = _posterior(*cases[name])
    checks.check_close(log_var, want_log_var, rtol=1e-4, atol=1e-4,
                       name=f"{name}: post_log_var (log of the diagonal of σ²(WᵀW + σ²I)⁻¹)",
                       hint="the posterior covariance is σ²(WᵀW + σ²I)⁻¹ (do not forget the "
                            "factor σ²), and return its LOG, not the variance itself.")
    checks.check_close(mean[2], [0.0, 0.0], atol=1e-5, name=f"{name}: post_mean at x = b",
                       hint="the posterior depends on x through x - b: at x = b the data say "
                            "nothing and the mean is the prior mean 0. Subtract b.")
    mean_hint = ("the prior pulls the mean towards 0: use M = WᵀW + σ²I, not the least squares "
                 "(WᵀW)⁻¹Wᵀ(x - b), and σ² rather than σ.")
    checks.check_close(mean, want_mean, rtol=1e-4, atol=1e-4,
                       name=f"{name}: post_mean = (WᵀW + σ²I)⁻¹Wᵀ(x - b)", hint=mean_hint)

    name = POSTERIOR_HIDDEN
    mean, log_var = got[f"{name}/post_mean"], got[f"{name}/post_log_var"]
    checks.check_shape(mean, (5, 3), name=f"{name}: post_mean",
                       hint="one latent mean per example: (batch, d).")
    checks.check_shape(log_var, (5, 3), name=f"{name}: post_log_var",
                       hint="repeat the (d,) log-variances for every example.")
    checks.check_finite(log_var, name=f"{name}: post_log_var",
                        hint="return the log of the posterior variances.")
    # Bayes' rule for any z: log p(z|x) = log p(x|z) + log p(z) - log p(x).
    x, W, b, sigma = cases[name]
    bayes = (_log_normal(x, z_any @ np.asarray(W, np.float64).T + b, np.full(6, np.log(sigma**2)))
             + _log_normal(z_any, 0.0, 0.0) - _log_marginal(x, W, b, sigma))
    checks.check_close(_log_normal(z_any, mean, log_var), bayes, rtol=1e-4, atol=1e-3,
                       name=f"{name}: log N(z; post_mean, exp(post_log_var)) at random z vs "
                            "Bayes' rule log p(x|z) + log p(z) - log p(x)",
                       hint="p(z|x) = N((WᵀW + σ²I)⁻¹Wᵀ(x - b), σ²(WᵀW + σ²I)⁻¹) for any "
                            "orthogonal W, any b and any sigma.")
    want_mean, want_log_var = _posterior(x, W, b, sigma)
    checks.check_close(log_var, want_log_var, rtol=1e-4, atol=1e-3,
                       name=f"{name}: post_log_var",
                       hint="the log of the diagonal of σ²(WᵀW + σ²I)⁻¹.")
    checks.check_close(mean, want_mean, rtol=1e-4, atol=1e-3, name=f"{name}: post_mean",
                       hint=mean_hint)


# -------------------------------------------------------------------- Task 6: elbo_estimate

ELBO_EIGHT = "elbo_estimate for 4 points, 8 samples, seed 0"
ELBO_EIGHT_AGAIN = "elbo_estimate for 4 points, 8 samples, seed 0, called a second time"
ELBO_GRADIENT = "gradient of sum(elbo_estimate) with respect to"
ELBO_POSTERIOR = "ELBO at the exact posterior, 4,000 samples"
ELBO_AWAY = "ELBO for q away from the posterior, 8,000 samples"
ELBO_HIDDEN = "ELBO on a random 4-D model with orthogonal W and sigma=0.6, 8,000 samples"
ELBO_HIDDEN_SAMPLES = 8000
# The gap log p(x) - ELBO is checked with atol=0.2: a drawn q whose log-weights have a standard
# deviation above 3 nats is redrawn, so that the tolerance is at least 6 standard errors of an
# estimate drawing other samples than the solution.
ELBO_MAX_STD = 3.0


def _elbo_inputs(rng):
    """{"values": {name: (x, q_mean, q_log_var, W, b, sigma, num_samples, seed)}, "gradients":
    {name: the same, few samples}}: the visible test's model and q (the exact posterior and q
    near it, computed here), a random model and q drawn from the seed, and a drawn q of the
    test model for the gradient (a q of its own, so that the calls lent with their Jacobians
    are not those of another entry). Drawn apart from the inputs of Tasks 1, 2 and 5."""
    post_mean, post_log_var = (_f32(v) for v in _posterior(X_TEST, W_TEST, B_TEST, SIGMA_TEST))
    q_mean, q_log_var = post_mean + _f32([0.3, -0.2]), post_log_var + _f32([1.0, 0.5])
    model = (W_TEST, B_TEST, SIGMA_TEST)
    while True:
        W_h, b_h = _orthogonal_model(rng, 4, [1.5, 0.8])
        sigma_h = 0.6
        x_h = _f32(rng.normal(size=(5, 4)))
        pm_h, plv_h = _posterior(x_h, W_h, b_h, sigma_h)
        qm_h = _f32(pm_h + rng.normal(size=(5, 2)) * 0.3)
        qlv_h = _f32(plv_h + 0.8 + rng.normal(size=(5, 2)) * 0.3)
        if _log_ratio_std(qm_h, qlv_h, pm_h, plv_h).max() <= ELBO_MAX_STD:
            break
    q_mean_g = _f32(post_mean + rng.normal(size=2) * 0.3)
    q_log_var_g = _f32(post_log_var + 0.5 + rng.normal(size=2) * 0.3)
    seeds = [int(s) for s in rng.integers(10, 2**20, size=2)]
    return {
        "values": {
            ELBO_EIGHT: (X_TEST, q_mean, q_log_var, *model, 8, 0),
            ELBO_EIGHT_AGAIN: (X_TEST, q_mean, q_log_var, *model, 8, 0),
            ELBO_POSTERIOR: (X_TEST, post_mean, post_log_var, *model, 4000, 1),
            ELBO_AWAY: (X_TEST, q_mean, q_log_var, *model, 8000, 2),
            ELBO_HIDDEN: (x_h, qm_h, qlv_h, W_h, b_h, sigma_h, ELBO_HIDDEN_SAMPLES, seeds[0]),
        },
        "gradients": {ELBO_GRADIENT: (X_TEST, q_mean_g, q_log_var_g, *model, 8, seeds[1])},
    }


def verdict_test_elbo_estimate(got, ref, inputs):
    values = inputs["values"]
    value = got[ELBO_EIGHT]
    checks.check_shape(value, (4,), name=ELBO_EIGHT,
                       hint="average over the samples (axis 0): one ELBO per example.")
    checks.check_finite(value, name=ELBO_EIGHT)
    checks.check_close(got[ELBO_EIGHT_AGAIN], value, rtol=0, atol=1e-5,
                       name="two ELBO estimates with the same seed",
                       hint="draw ε with tf.random.stateless_normal(shape, seed=(seed, 0)).")
    for gradient_name in inputs["gradients"]:
        _raised(got, gradient_name)
        for variable_name in ("q_mean", "q_log_var"):
            connected = bool(got[f"{gradient_name}/{variable_name} reaches it"])
            gradient = got[f"{gradient_name}/{variable_name}"] if connected else None
            good = connected and np.all(np.isfinite(gradient)) and np.any(gradient)
            assert good, (
                f"elbo_estimate: expected a finite, nonzero gradient with respect to "
                f"{variable_name}; got {gradient}. Hint: use TensorFlow operations throughout "
                "elbo_estimate (these tests gave it a correct TensorFlow log_normal_pdf), no "
                ".numpy() or np.* on tensors, and the reparameterisation "
                "z = q_mean + exp(½·q_log_var)·ε so that z depends on q.")
    value_hint = ("ELBO = mean over z ~ q of log p(x|z) + log p(z) - log q(z|x): include the "
                  "prior term log N(z; 0, I); p(x|z) has mean Wz + b and VARIANCE σ² "
                  "(log-variance 2·log σ); sample z from q, not from the prior; average, do not "
                  "sum.")
    gap_hint = ("sample z from q itself: z = q_mean + exp(½·q_log_var)·ε (not from the prior, and "
                "not with standard deviation exp(q_log_var)); log q(z|x) uses q's own mean and "
                "log-variance.")
    log_px = _log_marginal(X_TEST, W_TEST, B_TEST, SIGMA_TEST)
    at_posterior = got[ELBO_POSTERIOR]
    checks.check_shape(at_posterior, (4,), name=ELBO_POSTERIOR, hint=value_hint)
    checks.check_close(at_posterior, log_px, rtol=0, atol=0.2,
                       name=f"{ELBO_POSTERIOR} (should equal log p(x))", hint=value_hint)
    for name in (ELBO_AWAY, ELBO_HIDDEN):
        x, q_mean, q_log_var, W, b, sigma, _, _ = values[name]
        post_mean, post_log_var = _posterior(x, W, b, sigma)
        exact_log_px = _log_marginal(x, W, b, sigma)
        elbo = got[name]
        checks.check_shape(elbo, (len(x),), name=name,
                           hint="average over the samples (axis 0): one ELBO per example.")
        checks.check_close(exact_log_px - elbo, _kl(q_mean, q_log_var, post_mean, post_log_var),
                           rtol=0, atol=0.2,
                           name=f"log p(x) - ELBO(q) on the {name} (should equal "
                                "KL(q || p(z|x)))", hint=gap_hint)
        checks.check_range(np.asarray(elbo, np.float64) - exact_log_px, high=0.1,
                           name=f"ELBO - log p(x) on the {name}",
                           hint="the ELBO is a lower bound: it must not exceed log p(x). "
                                + value_hint)


# ----------------------------------------------------------------------- Task 7: iwae_bound

IWAE_SHAPE = "iwae_bound of log-weights shaped (K=5, batch=3)"
IWAE_ONE = "iwae_bound with K = 1"
IWAE_EQUAL = "iwae_bound of K = 4 equal log-weights"
IWAE_ONE_THREE = "iwae_bound of log-weights (log 1, log 3)"
IWAE_BIG = "iwae_bound of log-weights of magnitude 1000"
IWAE_SPREAD = "iwae_bound of random log-weights shaped (20, 6) of scale 5"
IWAE_SPREAD_DRAWN = "iwae_bound of other random log-weights shaped (30, 4) of scale 5"
IWAE_HUGE = "iwae_bound of random log-weights shaped (50, 7) of scale 1000"
IWAE_SHIFTED = "iwae_bound of those log-weights (first 3 examples) minus 5000"


def _iwae_inputs(rng):
    visible = np.random.default_rng(0)  # the visible test's draws, in its order
    log_weights = _f32(visible.normal(size=(5, 3)))
    spread = _f32(visible.normal(size=(20, 6)) * 5)
    huge = _f32(rng.normal(size=(50, 7)) * 1000.0)
    return {
        IWAE_SHAPE: (log_weights,),
        IWAE_ONE: (log_weights[:1],),
        IWAE_EQUAL: (_f32([[2.0, -1.0]] * 4),),
        IWAE_ONE_THREE: (_f32([[0.0], [np.log(3.0)]]),),
        IWAE_BIG: (_f32([[1000.0, -1000.0], [1000.0 + np.log(3.0), -1000.0]]),),
        IWAE_SPREAD: (spread,),
        IWAE_SPREAD_DRAWN: (_f32(rng.normal(size=(30, 4)) * 5),),
        IWAE_HUGE: (huge,),
        IWAE_SHIFTED: (huge[:, :3] - _f32(5000.0),),
    }


def verdict_test_iwae_bound(got, ref, inputs):
    weights = {name: args[0] for name, args in inputs.items()}
    checks.check_shape(got[IWAE_SHAPE], (3,), name=IWAE_SHAPE,
                       hint="the K samples are on axis 0: reduce over axis 0, keep the batch axis.")
    stable_hint = ("exp(1000) overflows to inf and exp(-1000) underflows to 0: subtract each "
                   "example's own maximum log-weight before exponentiating and add it back (the "
                   "log-sum-exp trick), or use tf.reduce_logsumexp(..., axis=0).")
    checks.check_cases(got, [
        (IWAE_ONE, weights[IWAE_ONE][0], 0.0, 1e-5,
         "with one sample the bound is that log-weight itself."),
        (IWAE_EQUAL, [2.0, -1.0], 0.0, 1e-5,
         "the MEAN of K equal weights is that weight: after the log-sum-exp, subtract log K."),
        (IWAE_ONE_THREE, [np.log(2.0)], 0.0, 1e-5,
         "IWAE averages the weights, log((1 + 3)/2) = log 2, not the log-weights: the mean of "
         "the log-weights is the ELBO, a looser bound."),
        (IWAE_BIG, [1000.0 + np.log(2.0), -1000.0], 0.0, 1e-3, stable_hint),
    ])
    for name in (IWAE_SPREAD, IWAE_SPREAD_DRAWN):
        spread = weights[name]
        checks.check_shape(got[name], spread.shape[1:], name=name,
                           hint="reduce over axis 0, keep the batch axis.")
        checks.check_range(np.asarray(got[name], np.float64) - spread.mean(axis=0), low=-1e-4,
                           name="IWAE_K - ELBO (mean log-weight) on random log-weights",
                           hint="by Jensen's inequality log-mean-exp is never below the mean of "
                                "the logs.")
    checks.check_cases(got, [
        (IWAE_SPREAD, _log_mean_exp(weights[IWAE_SPREAD]), 1e-5, 1e-4,
         "log((1/K) Σ_k exp(ℓ_k)) per example, over axis 0."),
        (IWAE_SPREAD_DRAWN, _log_mean_exp(weights[IWAE_SPREAD_DRAWN]), 1e-5, 1e-4,
         "log((1/K) Σ_k exp(ℓ_k)) per example, over axis 0."),
        (IWAE_HUGE, _log_mean_exp(weights[IWAE_HUGE]), 1e-6, 1e-2, stable_hint),
        (IWAE_SHIFTED, _log_mean_exp(weights[IWAE_SHIFTED]), 1e-6, 1e-2,
         "iwae_bound(ℓ - c) must equal iwae_bound(ℓ) - c, even for c = 5000. " + stable_hint),
    ])


# ------------------------------------------------------------ Task 8: design_proposal (design)

PROPOSAL_REPEATS = 500  # independent draws of K samples per point, the grader's own


def _proposal_inputs(rng):
    """A model of the design's kind (common.design.correlated_ppca) and its points, drawn from
    the class run's seed; the seed of the grader's samples stays with the grader."""
    x, W, b, sigma = design.correlated_ppca(int(rng.integers(2**31)))
    return {"x": x, "W": W, "b": b, "sigma": sigma,
            "grader_only": {"seed": int(rng.integers(2**31))}}


def _iwae_gap(x, W, b, sigma, q_mean, q_log_var, num_samples, seed):
    """Mean over the points of log p(x) - IWAE_K, IWAE_K estimated from PROPOSAL_REPEATS draws
    of num_samples samples z ~ q per point, in float64 with the grader's own samples."""
    q_mean, q_log_var = np.asarray(q_mean, np.float64), np.asarray(q_log_var, np.float64)
    noise = np.random.default_rng(seed).normal(size=(PROPOSAL_REPEATS, num_samples,
                                                     *q_mean.shape))
    z = q_mean + np.exp(0.5 * q_log_var) * noise
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    log_weights = (_log_normal(x, z @ W.T + b, np.full(len(b), np.log(sigma**2)))
                   + _log_normal(z, 0.0, 0.0) - _log_normal(z, q_mean, q_log_var))
    peak = log_weights.max(axis=1)  # (repeats, points): the log-mean-exp over the K samples
    bounds = peak + np.log(np.mean(np.exp(log_weights - peak[:, None]), axis=1))
    return float(np.mean(_log_marginal(x, W, b, sigma) - bounds.mean(axis=0)))


def design_outcome(got, inputs) -> dict:
    """{"measure": mean over the grader's points of log p(x) - IWAE_K (the target is on it),
    "num_samples": K}, from the recorded proposal and the grader's own samples. AssertionError
    when the record is no valid proposal."""
    if got.failure:
        raise AssertionError(f"design_proposal raised an error on the grader's model: "
                             f"{got.failure[:300]}")
    if not bool(got[IS_TRIPLE]):
        raise AssertionError(
            "design_proposal: expected a tuple (q_mean, q_log_var, num_samples); got "
            f"{got['type of the result']}. Hint: end with `return q_mean, q_log_var, K`.")
    x, W = inputs["x"], inputs["W"]
    q_mean, q_log_var, num_samples = got["q_mean"], got["q_log_var"], got["num_samples"]
    problems = design.proposal_problems(q_mean, q_log_var, num_samples, len(x), W.shape[1])
    if problems:
        raise AssertionError("design_proposal breaks the rules: " + "; ".join(problems))
    num_samples = int(np.asarray(num_samples, np.float64))
    gap = _iwae_gap(x, W, inputs["b"], float(inputs["sigma"]), q_mean, q_log_var, num_samples,
                    inputs["grader_only"]["seed"])
    return {"measure": gap, "num_samples": num_samples}


def verdict_test_design_proposal(got, ref, inputs):
    outcome = design_outcome(got, inputs)
    target = design.PROPOSAL_TARGET
    assert outcome["measure"] <= target, (
        f"the grader drew its own samples from your proposal, {PROPOSAL_REPEATS} times "
        f"{outcome['num_samples']} per point, on its own model and {len(inputs['x'])} points: "
        f"log p(x) - IWAE_K is {outcome['measure']:.3f} nats on average; the target is {target} "
        "or less. Hint: see where the design stands at every K in its check cell; a q with a "
        "good ELBO may still be a poor proposal (is it narrower than the posterior along an "
        "axis?), and a q far from the posterior needs more samples than the budget.")
