"""03_elbo: typical wrong answers (MUTANTS) and other correct answers (VARIANTS).

Every mistake listed under "Checks must catch" in the assignment's issue is here: a log density
without the constant or with variance in place of log-variance; p and q swapped in the KL; a Monte
Carlo KL that samples from p; a marginal with covariance sigma^2 I only; a posterior mean that
ignores b; an "IWAE" that averages log-weights or overflows with a naive log(mean(exp(.))); a
NumPy log density with the right values but no gradient (issue 26: it fails Task 2's own
gradient check, not only Task 6's).
CASCADES: a wrong earlier task (Task 1 or 2) must cost only that task, not Tasks 3 and 6 that
call it (issue 14)."""

# The TensorFlow CVAE tutorial's log density: raxis=1 is the last axis only for 2-D inputs.
_TUTORIAL_LOG_NORMAL_PDF = """
def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = tf.math.log(2. * np.pi)
    return tf.reduce_sum(
        -.5 * ((sample - mean) ** 2. * tf.exp(-logvar) + logvar + log2pi),
        axis=raxis)
"""

# Right values, but NumPy cuts the gradient tape that Tasks 3 and 6 differentiate through: it must
# fail Task 2's own gradient check, not only Task 6's.
_NUMPY_LOG_NORMAL_PDF = """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (np.asarray(v, np.float64) for v in (x, mean, log_var))
    return np.sum(-0.5 * np.log(2 * np.pi) - 0.5 * log_var
                  - 0.5 * (x - mean) ** 2 * np.exp(-log_var), axis=-1)
"""

MUTANTS = {
    "test_log_normal_pdf": {
        "drops the -1/2 log(2 pi) constant": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(log_var + tf.square(x - mean) / tf.exp(log_var), axis=-1)
""",
        "uses log_var as the variance": """
def log_normal_pdf(x, mean, log_var):
    x, mean, var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(tf.math.log(2 * np.pi * var) + tf.square(x - mean) / var, axis=-1)
""",
        "uses exp(log_var) as the standard deviation": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    std = tf.exp(log_var)
    return tf.reduce_sum(-0.5 * np.log(2 * np.pi) - tf.math.log(std)
                         - 0.5 * tf.square((x - mean) / std), axis=-1)
""",
        "forgets the -1/2 log_var normaliser": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(np.log(2 * np.pi) + tf.square(x - mean) / tf.exp(log_var), axis=-1)
""",
        "averages over the last axis": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    per_dim = np.log(2 * np.pi) + log_var + tf.square(x - mean) / tf.exp(log_var)
    return -0.5 * tf.reduce_mean(per_dim, axis=-1)
""",
        "sums over every axis": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(np.log(2 * np.pi) + log_var + tf.square(x - mean) / tf.exp(log_var))
""",
        "TF CVAE tutorial log_normal_pdf(sample, mean, logvar, raxis=1): sums over axis 1":
            _TUTORIAL_LOG_NORMAL_PDF,
        "NumPy log_normal_pdf (no gradient)": _NUMPY_LOG_NORMAL_PDF,
        "log_var converted with NumPy (no gradient reaches log_var)": """
def log_normal_pdf(x, mean, log_var):
    x, mean = tf.cast(x, tf.float32), tf.cast(mean, tf.float32)
    log_var = tf.constant(np.asarray(log_var, np.float32))
    return -0.5 * tf.reduce_sum(np.log(2 * np.pi) + log_var + tf.square(x - mean) / tf.exp(log_var),
                                axis=-1)
""",
        "absolute error instead of squared error": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.cast(v, tf.float32) for v in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(np.log(2 * np.pi) + log_var + tf.abs(x - mean) / tf.exp(log_var),
                                axis=-1)
""",
    },
    "test_kl_diagonal_gaussians": {
        "p and q swapped": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.cast(v, tf.float32) for v in (mean_p, log_var_p, mean_q, log_var_q))
    ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) / tf.exp(log_var_p)
    return 0.5 * tf.reduce_sum(log_var_p - log_var_q + ratio - 1.0, axis=-1)
""",
        "lecture 02 slide formula (+1 + log variance), prior only": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    return 0.5 * tf.reduce_sum(tf.exp(log_var_q) + tf.square(mean_q) + 1.0 + log_var_q, axis=-1)
""",
        "assumes p = N(0, I)": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    return 0.5 * tf.reduce_sum(tf.exp(log_var_q) + tf.square(mean_q) - 1.0 - log_var_q, axis=-1)
""",
        "averages over the last axis": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.cast(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) / tf.exp(log_var_p)
    return 0.5 * tf.reduce_mean(log_var_p - log_var_q + ratio - 1.0, axis=-1)
""",
        "squared mean difference not divided by the variance of p": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.cast(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    ratio = tf.exp(log_var_q - log_var_p) + tf.square(mean_q - mean_p)
    return 0.5 * tf.reduce_sum(log_var_p - log_var_q + ratio - 1.0, axis=-1)
""",
        "log-variance difference with the wrong sign": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.cast(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    ratio = (tf.exp(log_var_q) + tf.square(mean_q - mean_p)) / tf.exp(log_var_p)
    return 0.5 * tf.reduce_sum(log_var_q - log_var_p + ratio - 1.0, axis=-1)
""",
        "matrix form, each term summed on its own (fails for Python-float p)": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mean_q, log_var_q, mean_p, log_var_p = (
        tf.cast(v, tf.float32) for v in (mean_q, log_var_q, mean_p, log_var_p))
    k = tf.cast(tf.shape(mean_q)[-1], tf.float32)
    trace = tf.reduce_sum(tf.exp(log_var_q - log_var_p), axis=-1)
    quadratic = tf.reduce_sum(tf.square(mean_q - mean_p) * tf.exp(-log_var_p), axis=-1)
    log_det = tf.reduce_sum(log_var_p, axis=-1) - tf.reduce_sum(log_var_q, axis=-1)
    return 0.5 * (trace + quadratic - k + log_det)
""",
    },
    "test_monte_carlo_kl": {
        "samples from p instead of q": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_p, log_var_p = tf.cast(mean_p, tf.float32), tf.cast(log_var_p, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_p)], axis=0)
    z = mean_p + tf.exp(0.5 * log_var_p) * tf.random.stateless_normal(shape, seed=(seed, 0))
    return tf.reduce_mean(log_normal_pdf(z, mean_q, log_var_q)
                          - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
        "standard deviation exp(log_var) when sampling": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(log_var_q) * tf.random.stateless_normal(shape, seed=(seed, 0))
    return tf.reduce_mean(log_normal_pdf(z, mean_q, log_var_q)
                          - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
        "sums over the samples": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(0.5 * log_var_q) * tf.random.stateless_normal(shape, seed=(seed, 0))
    return tf.reduce_sum(log_normal_pdf(z, mean_q, log_var_q)
                         - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
        "log p - log q (sign flipped)": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(0.5 * log_var_q) * tf.random.stateless_normal(shape, seed=(seed, 0))
    return tf.reduce_mean(log_normal_pdf(z, mean_p, log_var_p)
                          - log_normal_pdf(z, mean_q, log_var_q), axis=0)
""",
        "unseeded stateful noise": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(0.5 * log_var_q) * tf.random.normal(shape)
    return tf.reduce_mean(log_normal_pdf(z, mean_q, log_var_q)
                          - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
        "ignores the seed argument": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(0.5 * log_var_q) * tf.random.stateless_normal(shape, seed=(0, 0))
    return tf.reduce_mean(log_normal_pdf(z, mean_q, log_var_q)
                          - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
        "squeezes the samples axis (fails for one sample)": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(mean_q)], axis=0)
    z = mean_q + tf.exp(0.5 * log_var_q) * tf.random.stateless_normal(shape, seed=(seed, 0))
    log_ratio = log_normal_pdf(z, mean_q, log_var_q) - log_normal_pdf(z, mean_p, log_var_p)
    return tf.reduce_mean(tf.squeeze(log_ratio), axis=0)
""",
    },
    "test_exact_log_marginal": {
        "covariance sigma^2 I only (W W^T forgotten)": """
def exact_log_marginal(x, W, b, sigma):
    x, b = tf.cast(x, tf.float32), tf.cast(b, tf.float32)
    log_var = tf.fill(tf.shape(x), 2.0 * float(np.log(sigma)))
    return log_normal_pdf(x, b, log_var)
""",
        "sigma used as the variance": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    covariance = tf.matmul(W, W, transpose_b=True) + sigma * tf.eye(W.shape[0])
    centred = tf.transpose(x - b)
    quadratic = tf.reduce_sum(centred * tf.linalg.solve(covariance, centred), axis=0)
    return -0.5 * (W.shape[0] * np.log(2 * np.pi) + tf.linalg.slogdet(covariance)[1] + quadratic)
""",
        "ignores b": """
def exact_log_marginal(x, W, b, sigma):
    x, W = tf.cast(x, tf.float32), tf.cast(W, tf.float32)
    covariance = tf.matmul(W, W, transpose_b=True) + sigma**2 * tf.eye(W.shape[0])
    centred = tf.transpose(x)
    quadratic = tf.reduce_sum(centred * tf.linalg.solve(covariance, centred), axis=0)
    return -0.5 * (W.shape[0] * np.log(2 * np.pi) + tf.linalg.slogdet(covariance)[1] + quadratic)
""",
        "only the diagonal of W W^T": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    variances = tf.reduce_sum(tf.square(W), axis=1) + sigma**2
    return log_normal_pdf(x, b, tf.math.log(variances))
""",
        "no 2 pi constant": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    covariance = tf.matmul(W, W, transpose_b=True) + sigma**2 * tf.eye(W.shape[0])
    centred = tf.transpose(x - b)
    quadratic = tf.reduce_sum(centred * tf.linalg.solve(covariance, centred), axis=0)
    return -0.5 * (tf.linalg.slogdet(covariance)[1] + quadratic)
""",
        "relies on orthogonal columns of W (wrong for a general W)": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    data_dim, latent_dim = W.shape
    lengths = tf.reduce_sum(tf.square(W), axis=0) + sigma**2  # |w_j|^2 + sigma^2
    log_det = (data_dim - latent_dim) * np.log(sigma**2) + tf.reduce_sum(tf.math.log(lengths))
    centred = x - b
    quadratic = (tf.reduce_sum(tf.square(centred), axis=-1)
                 - tf.reduce_sum(tf.square(tf.matmul(centred, W)) / lengths, axis=-1)) / sigma**2
    return -0.5 * (data_dim * np.log(2 * np.pi) + log_det + quadratic)
""",
    },
    "test_exact_posterior": {
        "posterior mean ignores b": """
def exact_posterior(x, W, b, sigma):
    x, W = tf.cast(x, tf.float32), tf.cast(W, tf.float32)
    m = tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(W.shape[1])
    post_mean = tf.transpose(tf.linalg.solve(m, tf.transpose(tf.matmul(x, W))))
    post_var = sigma**2 * tf.linalg.diag_part(tf.linalg.inv(m))
    return post_mean, tf.math.log(post_var) + tf.zeros_like(post_mean)
""",
        "least-squares mean without the prior": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    m = tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(W.shape[1])
    gram = tf.matmul(W, W, transpose_a=True)
    post_mean = tf.transpose(tf.linalg.solve(gram, tf.transpose(tf.matmul(x - b, W))))
    post_var = sigma**2 * tf.linalg.diag_part(tf.linalg.inv(m))
    return post_mean, tf.math.log(post_var) + tf.zeros_like(post_mean)
""",
        "returns the variance instead of the log-variance": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    m = tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(W.shape[1])
    post_mean = tf.transpose(tf.linalg.solve(m, tf.transpose(tf.matmul(x - b, W))))
    post_var = sigma**2 * tf.linalg.diag_part(tf.linalg.inv(m))
    return post_mean, post_var + tf.zeros_like(post_mean)
""",
        "covariance without the factor sigma^2": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    m = tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(W.shape[1])
    post_mean = tf.transpose(tf.linalg.solve(m, tf.transpose(tf.matmul(x - b, W))))
    post_var = tf.linalg.diag_part(tf.linalg.inv(m))
    return post_mean, tf.math.log(post_var) + tf.zeros_like(post_mean)
""",
        "sigma instead of sigma^2 in M": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    m = tf.matmul(W, W, transpose_a=True) + sigma * tf.eye(W.shape[1])
    post_mean = tf.transpose(tf.linalg.solve(m, tf.transpose(tf.matmul(x - b, W))))
    post_var = sigma * tf.linalg.diag_part(tf.linalg.inv(m))
    return post_mean, tf.math.log(post_var) + tf.zeros_like(post_mean)
""",
        "log-variance of shape (d,), not repeated per example": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    m = tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(W.shape[1])
    post_mean = tf.transpose(tf.linalg.solve(m, tf.transpose(tf.matmul(x - b, W))))
    return post_mean, tf.math.log(sigma**2 * tf.linalg.diag_part(tf.linalg.inv(m)))
""",
    },
    "test_elbo_estimate": {
        "forgets the prior term log p(z)": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "sigma used as the variance of p(x|z)": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                          - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "samples z from the prior instead of q": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = tf.random.stateless_normal(shape, seed=(seed, 0)) + 0.0 * q_mean + 0.0 * q_log_var
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                          - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "standard deviation exp(q_log_var) when sampling": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                          - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "sums over the samples": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_sum(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                         - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "KL form with the KL reversed, KL(p(z) || q)": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood, axis=0) - kl_diagonal_gaussians(
        tf.zeros_like(q_mean), tf.zeros_like(q_log_var), q_mean, q_log_var)
""",
        "ignores b": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z)
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                          - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
        "NumPy implementation (no gradients reach q)": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = np.asarray(q_mean, np.float64), np.asarray(q_log_var, np.float64)
    epsilon = np.random.default_rng(seed).normal(size=(num_samples, *q_mean.shape))
    z = q_mean + np.exp(0.5 * q_log_var) * epsilon
    def log_pdf(v, m, log_var):
        return -0.5 * np.sum(np.log(2 * np.pi) + log_var + (v - m) ** 2 / np.exp(log_var), axis=-1)
    log_joint = log_pdf(x, z @ np.asarray(W).T + b, 2.0 * np.log(sigma)) + log_pdf(z, 0.0, 0.0)
    return np.mean(log_joint - log_pdf(z, q_mean, q_log_var), axis=0)
""",
        "unseeded stateful noise": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.normal(shape)
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    log_likelihood = log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma)))
    return tf.reduce_mean(log_likelihood + log_normal_pdf(z, 0.0, 0.0)
                          - log_normal_pdf(z, q_mean, q_log_var), axis=0)
""",
    },
    "test_iwae_bound": {
        "averages the log-weights (that is the ELBO)": """
def iwae_bound(log_weights):
    return tf.reduce_mean(tf.cast(log_weights, tf.float32), axis=0)
""",
        "naive log(mean(exp(.))) overflows": """
def iwae_bound(log_weights):
    return tf.math.log(tf.reduce_mean(tf.exp(tf.cast(log_weights, tf.float32)), axis=0))
""",
        "naive log(mean(exp(.))) in float64": """
def iwae_bound(log_weights):
    return np.log(np.mean(np.exp(np.asarray(log_weights, np.float64)), axis=0))
""",
        "log-sum-exp without the -log K": """
def iwae_bound(log_weights):
    return tf.reduce_logsumexp(tf.cast(log_weights, tf.float32), axis=0)
""",
        "reduces over the batch axis": """
def iwae_bound(log_weights):
    log_weights = tf.cast(log_weights, tf.float32)
    return tf.reduce_logsumexp(log_weights, axis=-1) - tf.math.log(
        tf.cast(tf.shape(log_weights)[-1], tf.float32))
""",
        "shifts by the global maximum, not each example's": """
def iwae_bound(log_weights):
    log_weights = np.asarray(log_weights, np.float32)
    peak = log_weights.max()
    return peak + np.log(np.mean(np.exp(log_weights - peak), axis=0))
""",
        "takes the largest log-weight": """
def iwae_bound(log_weights):
    return tf.reduce_max(tf.cast(log_weights, tf.float32), axis=0)
""",
        "shifts by the first log-weight, not the maximum": """
def iwae_bound(log_weights):
    log_weights = tf.cast(log_weights, tf.float32)
    shift = log_weights[0]
    return shift + tf.math.log(tf.reduce_mean(tf.exp(log_weights - shift), axis=0))
""",
    },
}

# Task 6 written with Task 1's closed-form KL: a VARIANT, and the later task of two CASCADES.
_KL_FORM_ELBO = """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    q_mean, q_log_var = tf.cast(q_mean, tf.float32), tf.cast(q_log_var, tf.float32)
    shape = tf.concat([[num_samples], tf.shape(q_mean)], axis=0)
    z = q_mean + tf.exp(0.5 * q_log_var) * tf.random.stateless_normal(shape, seed=(seed, 0))
    x_mean = tf.linalg.matvec(tf.cast(W, tf.float32), z) + b
    reconstruction = tf.reduce_mean(log_normal_pdf(x, x_mean, 2.0 * float(np.log(sigma))), axis=0)
    return reconstruction - kl_diagonal_gaussians(q_mean, q_log_var, 0.0, 0.0)
"""

VARIANTS = {
    "test_log_normal_pdf": {
        "TF CVAE tutorial form with raxis=-1":
            _TUTORIAL_LOG_NORMAL_PDF.replace("raxis=1", "raxis=-1"),
        "TensorFlow, standard deviation form": """
def log_normal_pdf(x, mean, log_var):
    x, mean, log_var = (tf.convert_to_tensor(v, tf.float32) for v in (x, mean, log_var))
    std = tf.exp(0.5 * log_var)
    per_dim = -tf.math.log(std * np.sqrt(2 * np.pi)) - 0.5 * tf.square((x - mean) / std)
    return tf.reduce_sum(per_dim, axis=-1)
""",
        "keras.ops": """
def log_normal_pdf(x, mean, log_var):
    ops = keras.ops
    return -0.5 * ops.sum(ops.log(2 * np.pi) + log_var
                          + ops.square(ops.subtract(x, mean)) / ops.exp(log_var), axis=-1)
""",
    },
    "test_kl_diagonal_gaussians": {
        "NumPy": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    mq, lq, mp, lp = (np.asarray(v, np.float64) for v in (mean_q, log_var_q, mean_p, log_var_p))
    return 0.5 * np.sum(lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0, axis=-1)
""",
        "variances and standard deviations": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    var_q, var_p = tf.exp(tf.cast(log_var_q, tf.float32)), tf.exp(tf.cast(log_var_p, tf.float32))
    diff = tf.cast(mean_q, tf.float32) - tf.cast(mean_p, tf.float32)
    per_dim = tf.math.log(tf.sqrt(var_p) / tf.sqrt(var_q)) + (var_q + diff**2) / (2 * var_p) - 0.5
    return tf.reduce_sum(per_dim, axis=-1)
""",
    },
    "test_monte_carlo_kl": {
        "NumPy generator seeded with seed": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = np.asarray(mean_q, np.float32), np.asarray(log_var_q, np.float32)
    epsilon = np.random.default_rng(seed).standard_normal((num_samples, *mean_q.shape))
    z = np.float32(mean_q + np.exp(0.5 * log_var_q) * epsilon)
    log_ratio = log_normal_pdf(z, mean_q, log_var_q) - log_normal_pdf(z, mean_p, log_var_p)
    return np.mean(common.checks.to_numpy(log_ratio), axis=0)
""",
        "tf.random.Generator.from_seed": """
def monte_carlo_kl(mean_q, log_var_q, mean_p, log_var_p, num_samples, seed):
    mean_q, log_var_q = tf.cast(mean_q, tf.float32), tf.cast(log_var_q, tf.float32)
    generator = tf.random.Generator.from_seed(seed)
    z = mean_q + tf.exp(0.5 * log_var_q) * generator.normal((num_samples, *mean_q.shape))
    return tf.reduce_mean(log_normal_pdf(z, mean_q, log_var_q)
                          - log_normal_pdf(z, mean_p, log_var_p), axis=0)
""",
    },
    "test_exact_log_marginal": {
        "NumPy slogdet and solve": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (np.asarray(v, np.float64) for v in (x, W, b))
    covariance = W @ W.T + sigma**2 * np.eye(len(b))
    centred = x - b
    quadratic = np.sum(centred * np.linalg.solve(covariance, centred.T).T, axis=1)
    return -0.5 * (len(b) * np.log(2 * np.pi) + np.linalg.slogdet(covariance)[1] + quadratic)
""",
        "scipy.stats.multivariate_normal": """
def exact_log_marginal(x, W, b, sigma):
    import scipy.stats
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    covariance = W @ W.T + sigma**2 * np.eye(len(b))
    return np.atleast_1d(scipy.stats.multivariate_normal(b, covariance).logpdf(np.asarray(x)))
""",
        "TensorFlow slogdet and solve": """
def exact_log_marginal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    covariance = tf.matmul(W, W, transpose_b=True) + sigma**2 * tf.eye(W.shape[0])
    centred = tf.transpose(x - b)
    quadratic = tf.reduce_sum(centred * tf.linalg.solve(covariance, centred), axis=0)
    return -0.5 * (W.shape[0] * np.log(2 * np.pi) + tf.linalg.slogdet(covariance)[1] + quadratic)
""",
    },
    "test_exact_posterior": {
        "per column, using the orthogonal columns": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    lengths = tf.reduce_sum(tf.square(W), axis=0) + sigma**2  # |w_j|^2 + sigma^2
    post_mean = tf.matmul(x - b, W) / lengths
    post_log_var = tf.math.log(sigma**2 / lengths) * tf.ones_like(post_mean)
    return post_mean, post_log_var
""",
        "NumPy with the full covariance": """
def exact_posterior(x, W, b, sigma):
    x, W, b = (np.asarray(v, np.float64) for v in (x, W, b))
    precision = np.eye(W.shape[1]) + W.T @ W / sigma**2
    covariance = np.linalg.inv(precision)
    post_mean = (x - b) @ W @ covariance.T / sigma**2
    return post_mean, np.broadcast_to(np.log(np.diag(covariance)), post_mean.shape)
""",
    },
    "test_elbo_estimate": {
        "reconstruction term minus the closed-form KL": _KL_FORM_ELBO,
        "tf.random.Generator and an explicit Gaussian": """
def elbo_estimate(x, q_mean, q_log_var, W, b, sigma, num_samples, seed):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    epsilon = tf.random.Generator.from_seed(seed).normal((num_samples, *np.shape(q_mean)))
    z = q_mean + tf.exp(0.5 * q_log_var) * epsilon
    residual = x - (tf.einsum("dk,sbk->sbd", W, z) + b)
    log_likelihood = (-0.5 * tf.reduce_sum(tf.square(residual), axis=-1) / sigma**2
                      - W.shape[0] * (np.log(sigma) + 0.5 * np.log(2 * np.pi)))
    log_ratio = log_normal_pdf(z, 0.0, 0.0) - log_normal_pdf(z, q_mean, q_log_var)
    return tf.reduce_mean(log_likelihood + log_ratio, axis=0)
""",
    },
    "test_iwae_bound": {
        "NumPy, shift by each example's maximum": """
def iwae_bound(log_weights):
    log_weights = np.asarray(log_weights, np.float64)
    peak = log_weights.max(axis=0)
    return peak + np.log(np.mean(np.exp(log_weights - peak), axis=0))
""",
        "scipy.special.logsumexp": """
def iwae_bound(log_weights):
    import scipy.special
    log_weights = np.asarray(log_weights)
    return scipy.special.logsumexp(log_weights, axis=0) - np.log(log_weights.shape[0])
""",
        "TensorFlow, manual shift with stop_gradient": """
def iwae_bound(log_weights):
    log_weights = tf.cast(log_weights, tf.float32)
    peak = tf.stop_gradient(tf.reduce_max(log_weights, axis=0))
    return peak + tf.math.log(tf.reduce_mean(tf.exp(log_weights - peak), axis=0))
""",
    },
}

# The mutants above that pass every visible check: only the hidden tests' verdicts catch them.
HIDDEN_ONLY = {
    "test_monte_carlo_kl": {"squeezes the samples axis (fails for one sample)"},
    "test_exact_log_marginal": {"relies on orthogonal columns of W (wrong for a general W)"},
    "test_iwae_bound": {"shifts by the first log-weight, not the maximum"},
}


# A wrong earlier task costs only that task: the harness re-runs the solution's definitions
# for each entry, so its later functions call the wrong earlier one, as in a student's kernel.
_WRONG_LOG_NORMAL_PDF = {
    "Task 2 is the TF tutorial's log_normal_pdf (raxis=1)": _TUTORIAL_LOG_NORMAL_PDF,
    "Task 2 uses exp(log_var) as the standard deviation": MUTANTS["test_log_normal_pdf"][
        "uses exp(log_var) as the standard deviation"],
    "Task 2 in NumPy (right values, no gradient)": _NUMPY_LOG_NORMAL_PDF,
    "Task 2 not done (NotImplementedError)": """
def log_normal_pdf(x, mean, log_var):
    raise NotImplementedError()
""",
}
CASCADES = {
    "test_monte_carlo_kl": dict(_WRONG_LOG_NORMAL_PDF),
    "test_elbo_estimate": {
        **_WRONG_LOG_NORMAL_PDF,
        "Task 1 p and q swapped, Task 6 in the KL form":
            MUTANTS["test_kl_diagonal_gaussians"]["p and q swapped"] + _KL_FORM_ELBO,
        "Task 1 fails for Python-float p (matrix form), Task 6 in the KL form":
            MUTANTS["test_kl_diagonal_gaussians"][
                "matrix form, each term summed on its own (fails for Python-float p)"]
            + _KL_FORM_ELBO,
        "Task 1 averages over the last axis (passes the one-dimensional checks), Task 6 in the "
        "KL form":
            MUTANTS["test_kl_diagonal_gaussians"]["averages over the last axis"] + _KL_FORM_ELBO,
        "Task 1 in NumPy with log-variances read as variances (log of a negative number warns: a "
        "RuntimeWarning), Task 6 in the KL form": """
def kl_diagonal_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    var_q, var_p = np.asarray(log_var_q, np.float32), np.asarray(log_var_p, np.float32)
    squared = np.square(np.asarray(mean_q, np.float32) - np.asarray(mean_p, np.float32))
    return 0.5 * np.sum(np.log(var_p / var_q) + (var_q + squared) / var_p - 1.0, axis=-1)
""" + _KL_FORM_ELBO,
    },
}

# ---------------------------------------------------------------------------------------------
# Design task: design_proposal (weak designs must fail on at least 99% of seeds; see
# python -m benchmarks.designs 03_elbo)

PROPOSAL = """
def design_proposal(x, W, b, sigma):
    W = np.asarray(W, np.float64)
    m = W.T @ W + sigma**2 * np.eye(W.shape[1])
    q_mean = (np.asarray(x, np.float64) - b) @ W @ np.linalg.inv(m)
    variances = sigma**2 * np.diag(np.linalg.inv(m))
    q_log_var = np.log(variances) + np.zeros_like(q_mean)
    return np.float32(q_mean), np.float32(q_log_var), 16
"""
_MARGINAL = "sigma**2 * np.diag(np.linalg.inv(m))"

DESIGN_MUTANTS = {
    "the ELBO's best diagonal q (conditional variances sigma^2 / diag(M))": PROPOSAL.replace(
        _MARGINAL, "sigma**2 / np.diag(m)"),
    "the right q with K = 8: too few samples": PROPOSAL.replace(", 16\n", ", 8\n"),
    "the prior N(0, I) as proposal": PROPOSAL.replace(
        "return np.float32(q_mean), np.float32(q_log_var), 16",
        "return np.zeros((len(x), 2), np.float32), np.zeros((len(x), 2), np.float32), 16"),
    "the posterior mean with the prior's unit variances": PROPOSAL.replace(
        "np.log(variances) + np.zeros_like(q_mean)", "np.zeros_like(q_mean)"),
    "half the marginal variances": PROPOSAL.replace(_MARGINAL, "0.5 * " + _MARGINAL),
    "one q for every point (the average posterior mean)": PROPOSAL.replace(
        "q_log_var = np.log", "q_mean = q_mean.mean(axis=0) + np.zeros_like(q_mean)\n"
        "    q_log_var = np.log"),
    "over the budget: 1,000 samples of the right q": PROPOSAL.replace(", 16\n", ", 1000\n"),
    "K = 16.5, not a whole number": PROPOSAL.replace(", 16\n", ", 16.5\n"),
    "a point mass at the posterior mean (log-variances -30)": PROPOSAL.replace(
        "np.log(variances) + np.zeros_like(q_mean)", "np.full_like(q_mean, -30.0)"),
    "infinite log-variances": PROPOSAL.replace(
        "np.log(variances) + np.zeros_like(q_mean)", "np.full_like(q_mean, np.inf)"),
    "one (2,) row of log-variances for all points": PROPOSAL.replace(
        "np.log(variances) + np.zeros_like(q_mean)", "np.log(variances)"),
    "returns only (q_mean, q_log_var)": PROPOSAL.replace(
        "np.float32(q_log_var), 16", "np.float32(q_log_var)"),
    "the visible check's validation model remembered, whatever the grader's": """
def design_proposal(x, W, b, sigma):
    seen_x, seen_W, seen_b, seen_sigma = common.design.correlated_ppca(seed=0)
    seen_W = np.asarray(seen_W, np.float64)
    m = seen_W.T @ seen_W + seen_sigma**2 * np.eye(2)
    q_mean = (np.asarray(seen_x, np.float64) - seen_b) @ seen_W @ np.linalg.inv(m)
    q_log_var = np.log(seen_sigma**2 * np.diag(np.linalg.inv(m))) + np.zeros_like(q_mean)
    return np.float32(q_mean), np.float32(q_log_var), 16
""",
}

DESIGN_VARIANTS = {
    "the reference recipe in NumPy, K = 16": PROPOSAL,
    "TensorFlow, marginal variances 1.5 times wider": """
def design_proposal(x, W, b, sigma):
    x, W, b = (tf.cast(v, tf.float32) for v in (x, W, b))
    precision = (tf.matmul(W, W, transpose_a=True) + sigma**2 * tf.eye(2)) / sigma**2
    covariance = tf.linalg.inv(precision)
    q_mean = tf.linalg.matvec(covariance, tf.linalg.matvec(tf.transpose(W), x - b)) / sigma**2
    q_log_var = tf.math.log(1.5 * tf.linalg.diag_part(covariance)) + tf.zeros_like(q_mean)
    return q_mean, q_log_var, tf.constant(16)
""",
    "Task 5's exact_posterior (marginal variances), K = 16": """
def design_proposal(x, W, b, sigma):
    q_mean, q_log_var = exact_posterior(x, W, b, sigma)
    return q_mean, q_log_var, 16
""",
}

MUTANTS["test_design_proposal"] = DESIGN_MUTANTS
VARIANTS["test_design_proposal"] = DESIGN_VARIANTS
HIDDEN_ONLY["test_design_proposal"] = {
    "the visible check's validation model remembered, whatever the grader's"}
