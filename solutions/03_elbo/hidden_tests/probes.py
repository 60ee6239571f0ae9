"""Probes of 03_elbo's hidden tests: the kernel side (see grading/probe_runtime.py). Each calls
the student's function on the inputs the grader drew for this class run ({entry name: arguments},
verdicts.py's probe_inputs) and returns what it gave; nothing here knows the right answers
(verdicts.py, in the grader, decides).

One mistake costs one task: the probes of Tasks 3 and 6, whose functions call Task 2's
log_normal_pdf (and may call Task 1's kl_diagonal_gaussians), lend those earlier functions as
data (answers.earlier): a call with the arguments the solution's own monte_carlo_kl or
elbo_estimate used on the same inputs gets the solution's output (and, for Task 6's gradient
entries, its gradient), so a wrong Task 1 or 2 fails only its own verdict. Task 6 in the KL form
(reconstruction minus kl_diagonal_gaussians(q_mean, q_log_var, 0.0, 0.0)) calls Task 1 where the
solution does not: while the solution is recorded, its entries also make those calls, so that
they are lent too. The inputs of Tasks 3 and 6 are drawn apart from those of Tasks 1 and 2, so
what is lent never answers an earlier task's probe."""

from functools import partial

IS_PAIR = "returns a (post_mean, post_log_var) pair"  # Task 5's record: the result's form
EARLIER = ("log_normal_pdf", "kl_diagonal_gaussians")  # lent to Tasks 3 and 6
PDF_ARGUMENTS = ("x", "mean", "log_var")  # Task 2's gradient record: one per argument


def _calls(function, inputs):
    """{name: function(*arguments)} for each entry of `inputs`, called one by one."""
    return {name: partial(function, *args) for name, args in inputs.items()}


def _lending(answers, compute, differentiable=False):
    """A probe entry computing `compute()` with the earlier tasks lent (inside the entry:
    entries are called later)."""
    def entry():
        with answers.earlier(*EARLIER, differentiable=differentiable):
            return compute()
    return entry


# ------------------------------------------------------------- Task 1: kl_diagonal_gaussians


def probe_test_kl_diagonal_gaussians(answers, inputs):
    return _calls(answers["kl_diagonal_gaussians"], inputs)


# ------------------------------------------------------------------- Task 2: log_normal_pdf


def _pdf_gradients(log_normal_pdf, args):
    """The gradients of sum(log_normal_pdf(x, mean, log_var)) with respect to the three inputs,
    given as tf.Variables (None, a NumPy answer's, is recorded as not reaching it)."""
    def compute():
        import tensorflow as tf

        variables = [tf.Variable(value) for value in args]
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(log_normal_pdf(*variables))
        gradients = tape.gradient(total, variables)
        out = {}
        for variable_name, gradient in zip(PDF_ARGUMENTS, gradients):
            out[f"{variable_name} reaches it"] = gradient is not None
            if gradient is not None:
                out[variable_name] = gradient
        return out
    return compute


def probe_test_log_normal_pdf(answers, inputs):
    """inputs["values"]: {name: (x, mean, log_var)} of log densities; inputs["gradients"]: {name:
    (x, mean, log_var)} of gradients (Tasks 3 and 6 differentiate through log_normal_pdf)."""
    log_normal_pdf = answers["log_normal_pdf"]
    entries = _calls(log_normal_pdf, inputs["values"])
    entries.update({name: _pdf_gradients(log_normal_pdf, args)
                    for name, args in inputs["gradients"].items()})
    return entries


# ------------------------------------------------------------------- Task 3: monte_carlo_kl


def probe_test_monte_carlo_kl(answers, inputs):
    return {name: _lending(answers, call)
            for name, call in _calls(answers["monte_carlo_kl"], inputs).items()}


# --------------------------------------------------------------- Task 4: exact_log_marginal


def probe_test_exact_log_marginal(answers, inputs):
    return _calls(answers["exact_log_marginal"], inputs)


# ------------------------------------------------------------------ Task 5: exact_posterior


def _posterior_entry(exact_posterior, args):
    def compute():
        result = exact_posterior(*args)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            return {IS_PAIR: False, "type of the result": type(result).__name__}
        return {IS_PAIR: True, "post_mean": result[0], "post_log_var": result[1]}
    return compute


def probe_test_exact_posterior(answers, inputs):
    exact_posterior = answers["exact_posterior"]
    return {name: _posterior_entry(exact_posterior, args)
            for name, args in inputs["cases"].items()}


# -------------------------------------------------------------------- Task 6: elbo_estimate


def _kl_form_calls(answers, q_mean, q_log_var):
    """While the solution is recorded only: the calls of Task 1 that Task 6 in the KL form makes
    (KL(q || N(0, I)), p given as Python floats or as zeros), which the solution's own
    elbo_estimate does not make; recorded, they are lent to a student's KL form."""
    if not answers.recording:
        return
    import tensorflow as tf

    kl_diagonal_gaussians = answers["kl_diagonal_gaussians"]
    kl_diagonal_gaussians(q_mean, q_log_var, 0.0, 0.0)
    kl_diagonal_gaussians(q_mean, q_log_var, tf.zeros_like(q_mean), tf.zeros_like(q_log_var))


def _elbo_value(answers, elbo_estimate, args):
    def compute():
        _kl_form_calls(answers, args[1], args[2])
        return elbo_estimate(*args)
    return compute


def _elbo_gradients(answers, elbo_estimate, args):
    def compute():
        import tensorflow as tf

        x, q_mean, q_log_var, *rest = args
        mean_var, log_var_var = tf.Variable(q_mean), tf.Variable(q_log_var)
        _kl_form_calls(answers, mean_var, log_var_var)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(elbo_estimate(x, mean_var, log_var_var, *rest))
        gradients = tape.gradient(total, [mean_var, log_var_var])
        out = {}
        for variable_name, gradient in zip(["q_mean", "q_log_var"], gradients):
            out[f"{variable_name} reaches it"] = gradient is not None
            if gradient is not None:
                out[variable_name] = gradient
        return out
    return compute


def probe_test_elbo_estimate(answers, inputs):
    """inputs["values"]: {name: arguments} of estimates; inputs["gradients"]: {name: arguments}
    of gradients with respect to q (few samples: the lent calls' Jacobians are recorded)."""
    elbo_estimate = answers["elbo_estimate"]
    entries = {name: _lending(answers, _elbo_value(answers, elbo_estimate, args))
               for name, args in inputs["values"].items()}
    entries.update({name: _lending(answers, _elbo_gradients(answers, elbo_estimate, args),
                                   differentiable=True)
                    for name, args in inputs["gradients"].items()})
    return entries


# ----------------------------------------------------------------------- Task 7: iwae_bound


def probe_test_iwae_bound(answers, inputs):
    return _calls(answers["iwae_bound"], inputs)


# ------------------------------------------------------------ Task 8: design_proposal (design)

IS_TRIPLE = "returns a (q_mean, q_log_var, num_samples) triple"


def probe_test_design_proposal(answers, inputs):
    """The proposal as data (its parameters for the grader's model and points, and its K), never
    a bound it reached: the grader draws the samples and computes the bound itself."""
    result = answers["design_proposal"](inputs["x"], inputs["W"], inputs["b"],
                                        float(inputs["sigma"]))
    if not (isinstance(result, (tuple, list)) and len(result) == 3):
        return {IS_TRIPLE: False, "type of the result": type(result).__name__}
    q_mean, q_log_var, num_samples = result
    return {IS_TRIPLE: True, "q_mean": q_mean, "q_log_var": q_log_var,
            "num_samples": num_samples}
