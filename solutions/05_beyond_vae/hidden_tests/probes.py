"""Probes of 05_beyond_vae's hidden tests: the kernel side (see grading/probe_runtime.py). Each
calls the student's function on the inputs the grader drew for this class run and returns what
it gave; nothing here knows the right answers (verdicts.py, in the grader, decides).

One mistake costs one task: Task 2's probe (bayes_posterior, which may call Task 1's
log_marginal) and those of Tasks 5 and 6 (read_attention and write_attention, built on Task 4's
gaussian_filterbank) lend the earlier function as data (answers.earlier): the solution's outputs
for the calls the solution itself made on these inputs. The grader draws them apart from the
earlier task's own inputs, so what is lent never answers the earlier task's probe."""

from functools import partial

import numpy as np

FB_GRADIENT = "gradient of sum(filterbank · pixel index · weights) with respect to g, delta, sigma2"


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

    entries[FB_GRADIENT] = gradient
    return entries


# ------------------------------------------------------- Tasks 5 and 6: read and write attention


def probe_test_read_attention(answers, inputs):
    read_attention = answers["read_attention"]
    return {name: _lending(answers, ("gaussian_filterbank",), read_attention, args)
            for name, args in inputs.items()}


def probe_test_write_attention(answers, inputs):
    write_attention = answers["write_attention"]
    return {name: _lending(answers, ("gaussian_filterbank",), write_attention, args)
            for name, args in inputs.items()}
