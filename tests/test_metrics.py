"""common.metrics: the reference classifier, classifier scores, the Fréchet classifier distance,
and the negative ELBO / IWAE estimates on toy VAEs whose exact likelihood is known."""

import shutil
import types

import keras
import numpy as np
import pytest
import scipy.linalg
from scipy.special import expit, logsumexp

import common
from common import datasets, metrics


@pytest.fixture(scope="module")
def mnist_test():
    _, (x_test, y_test) = datasets.load_mnist("bundled")
    return x_test, y_test


# ------------------------------------------------------------------ classifier and its scores


def test_reference_classifier_is_cached_and_accurate(mnist_test):
    x_test, y_test = mnist_test
    model = metrics.reference_classifier()
    assert metrics.reference_classifier() is model, "loaded once, then cached"
    predictions = metrics.classifier_probabilities(x_test).argmax(axis=1)
    accuracy = (predictions == y_test).mean()
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f}; data/README.md promises >= 0.97"


def test_package_exports_metrics():
    assert common.metrics is metrics and "metrics" in common.__all__


def test_scores_of_real_digits_are_confident_and_cover_every_class(mnist_test):
    scores = metrics.classifier_scores(mnist_test[0])
    assert scores.class_histogram.shape == (10,)
    assert np.isclose(scores.class_histogram.sum(), 1.0)
    assert scores.confidence > 0.95
    assert scores.min_class_share == scores.class_histogram.min() > 0.08, "all 10 digits present"
    assert scores.num_images == 1000 and scores.meets()
    assert "confidence" in str(scores)


def test_scores_of_uniform_noise_are_low(mnist_test):
    noise = np.random.default_rng(0).uniform(size=(1000, 28, 28, 1)).astype(np.float32)
    scores = metrics.classifier_scores(noise)
    real = metrics.classifier_scores(mnist_test[0])
    assert scores.confidence < real.confidence - 0.2, f"noise scored {scores}"
    assert scores.min_class_share < 0.05, "noise does not look like ten balanced digits"
    assert not scores.meets()


def test_a_collapsed_generator_is_caught(mnist_test):
    x_test, y_test = mnist_test
    only_ones = x_test[y_test == 1]
    scores = metrics.classifier_scores(only_ones)
    assert scores.confidence > 0.9 and scores.min_class_share == 0.0
    assert np.argmax(scores.class_histogram) == 1 and not scores.meets()


def test_images_in_minus_one_one_and_other_shapes_score_the_same(mnist_test):
    x = mnist_test[0][:200]
    reference = metrics.classifier_scores(x)
    for variant in (2.0 * x - 1.0, x[..., 0], x.reshape(200, 784)):
        scores = metrics.classifier_scores(variant)
        assert np.isclose(scores.confidence, reference.confidence, atol=1e-5)
        assert np.allclose(scores.class_histogram, reference.class_histogram)
    explicit = metrics.classifier_scores(2.0 * x - 1.0, value_range=(-1, 1))
    assert np.isclose(explicit.confidence, reference.confidence, atol=1e-5)


@pytest.mark.parametrize("images, message", [
    (np.full((4, 28, 28, 1), 255.0), r"\[0, 1\] or \[-1, 1\].*255"),
    (np.full((4, 28, 28, 1), -3.0), r"\[0, 1\] or \[-1, 1\].*tanh"),
    (np.full((4, 28, 28, 1), np.nan), "NaN"),
    (np.zeros((4, 32, 32, 1)), r"shaped \(N, 28, 28, 1\)"),
    (np.zeros((0, 28, 28, 1)), "no images"),
])
def test_bad_images_are_refused_clearly(images, message):
    with pytest.raises(ValueError, match=message):
        metrics.classifier_scores(images)


def test_explicit_range_is_enforced(mnist_test):
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[-1, 1\]"):
        metrics.classifier_scores(2.0 * mnist_test[0][:10] - 1.0, value_range=(0, 1))


def test_fcd_is_zero_for_identical_sets_and_grows_with_noise(mnist_test):
    x = mnist_test[0][:500]
    assert metrics.frechet_classifier_distance(x, x) < 1e-3 * metrics.frechet_classifier_distance(
        x, np.clip(x + 0.1, 0, 1))
    rng = np.random.default_rng(0)
    distances = [metrics.frechet_classifier_distance(
        x, np.clip(x + rng.normal(0.0, std, x.shape), 0.0, 1.0).astype(np.float32))
        for std in (0.05, 0.2, 0.5)]
    assert 0.0 < distances[0] < distances[1] < distances[2], distances
    halves = metrics.frechet_classifier_distance(x, mnist_test[0][500:])
    noise = metrics.frechet_classifier_distance(x, rng.uniform(size=(500, 28, 28, 1)))
    assert halves < 0.2 * noise, "two halves of the real test set are close, noise is far"


def test_fcd_accepts_tanh_images_and_needs_two_of_each(mnist_test):
    x = mnist_test[0][:300]
    assert metrics.frechet_classifier_distance(x, 2.0 * x - 1.0) < 1e-3
    with pytest.raises(ValueError, match="at least 2"):
        metrics.frechet_classifier_distance(x, x[:1])


def test_matrix_square_root_trace_agrees_with_scipy_sqrtm():
    rng = np.random.default_rng(0)
    for dim, samples in ((5, 50), (20, 200)):
        a = np.cov(rng.normal(size=(samples, dim)) @ rng.normal(size=(dim, dim)), rowvar=False)
        b = np.cov(rng.normal(size=(samples, dim)), rowvar=False)
        expected = np.trace(np.real(scipy.linalg.sqrtm(a @ b)))
        assert np.isclose(metrics._sqrtm_trace(a, b), expected, rtol=1e-8)


def test_fcd_guard_handles_singular_covariances():
    rank_one = np.outer(np.arange(1.0, 5.0), np.arange(1.0, 5.0))
    assert np.isclose(metrics._sqrtm_trace(rank_one, rank_one), np.trace(rank_one), rtol=1e-6)
    zeros = np.zeros((4, 4))
    assert abs(metrics._sqrtm_trace(zeros, zeros)) < 1e-9
    few = np.cov(np.random.default_rng(1).normal(size=(3, 10)), rowvar=False)  # rank 2 of 10
    assert np.isfinite(metrics._sqrtm_trace(few, few))
    assert np.isclose(metrics._sqrtm_trace(few, few), np.trace(few), rtol=1e-6)


def test_corrupt_classifier_weights_name_the_file(tmp_path, monkeypatch):
    for name in ("SHA256SUMS", metrics.CLASSIFIER_FILE):
        shutil.copy(datasets.data_dir() / name, tmp_path / name)
    content = bytearray((tmp_path / metrics.CLASSIFIER_FILE).read_bytes())
    content[5000] ^= 0xFF
    (tmp_path / metrics.CLASSIFIER_FILE).write_bytes(bytes(content))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    metrics.reference_classifier.cache_clear()
    try:
        with pytest.raises(datasets.DataIntegrityError, match="reference_classifier.*corrupt"):
            metrics.reference_classifier()
    finally:
        metrics.reference_classifier.cache_clear()


# ------------------------------------------------------------------------------ VAE likelihood

LATENT_GRID = np.linspace(-8.0, 8.0, 4001)


def _toy_vae(num_pixels=6, encoder_scale=0.8, seed=0):
    """A 1-D-latent VAE: p(x|z) = Bernoulli(sigmoid(w z + b)) per pixel, a fixed Gaussian q."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(0, 1.5, num_pixels), rng.normal(0, 0.5, num_pixels)

    def encoder(x):
        x = np.asarray(x).reshape(len(x), -1)
        z_mean = encoder_scale * ((x - 0.5) @ w)[:, None] / (w @ w) * 2.0
        return [z_mean, np.full_like(z_mean, -1.0)]

    def decoder(z):
        return expit(np.asarray(z) @ w[None, :] + b)

    def exact_nll(x):
        logits = LATENT_GRID[:, None] * w + b  # (grid, pixels)
        log_p = x @ np.log(expit(logits)).T + (1 - x) @ np.log(expit(-logits)).T
        log_prior = -0.5 * (LATENT_GRID**2 + np.log(2 * np.pi))
        step = LATENT_GRID[1] - LATENT_GRID[0]
        return -(logsumexp(log_p + log_prior, axis=1) + np.log(step))

    def sample(n):
        z = rng.standard_normal((n, 1))
        return (rng.uniform(size=(n, num_pixels)) < decoder(z)).astype(np.float32)

    return types.SimpleNamespace(encoder=encoder, decoder=decoder), exact_nll, sample


def test_elbo_and_iwae_bound_the_exact_likelihood():
    vae, exact_nll, sample = _toy_vae()
    x = sample(400)
    exact = exact_nll(x).mean()
    elbo = metrics.negative_elbo(vae, x, num_samples=200)
    iwae = {k: metrics.iwae_nll(vae, x, num_samples=k) for k in (1, 10, 1000)}
    assert elbo > exact + 0.05, f"a mismatched q leaves a gap: -ELBO {elbo:.3f}, exact {exact:.3f}"
    assert abs(iwae[1] - elbo) < 0.05, "K=1 IWAE is a one-sample estimate of the ELBO"
    assert iwae[1000] <= iwae[10] <= elbo, iwae
    assert abs(iwae[1000] - exact) < 0.02, f"IWAE(1000) {iwae[1000]:.4f} vs exact {exact:.4f}"


def test_elbo_is_exact_when_q_is_the_true_posterior():
    """Decoder ignoring z: the posterior is the prior, so q = prior makes every bound tight."""
    p = np.array([0.1, 0.5, 0.9, 0.3])
    vae = types.SimpleNamespace(
        encoder=lambda x: [np.zeros((len(x), 2)), np.zeros((len(x), 2))],
        decoder=lambda z: np.tile(p, (len(z), 1)))
    x = np.array([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]], np.float32)
    exact = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1).mean()
    assert np.isclose(metrics.negative_elbo(vae, x), exact, atol=1e-6)
    assert np.isclose(metrics.iwae_nll(vae, x, num_samples=7), exact, atol=1e-6)


def test_keras_encoder_and_decoder_with_image_shapes():
    keras.utils.set_random_seed(0)
    images = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(images))
    z_mean, z_log_var = keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)
    encoder = keras.Model(images, [z_mean, z_log_var, z_mean])  # a third output is ignored
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(784, activation="sigmoid"),
                                keras.layers.Reshape((28, 28, 1))])
    vae = types.SimpleNamespace(encoder=encoder, decoder=decoder)
    x = datasets.binarize(datasets.load_mnist("bundled")[1][0][:64])
    elbo = metrics.negative_elbo(vae, x, num_samples=2)
    assert 784 * 0.3 < elbo < 784 * 2, "an untrained decoder costs about log 2 nats a pixel"
    assert metrics.iwae_nll(vae, x, num_samples=8) <= elbo + 1.0
    assert metrics.negative_elbo(vae, x, num_samples=2) == elbo, "seeded"


def test_vae_contract_violations_are_clear_errors():
    vae, _, sample = _toy_vae()
    x = sample(8)
    logits = types.SimpleNamespace(encoder=vae.encoder, decoder=lambda z: 5.0 * z @ np.ones((1, 6)))
    with pytest.raises(ValueError, match="sigmoid"):
        metrics.negative_elbo(logits, x)
    one_output = types.SimpleNamespace(encoder=lambda x: vae.encoder(x)[0], decoder=vae.decoder)
    with pytest.raises(ValueError, match=r"\[z_mean, z_log_var\]"):
        metrics.iwae_nll(one_output, x)
    with pytest.raises(ValueError, match="binari"):
        metrics.negative_elbo(vae, x * 255)
    with pytest.raises(ValueError, match="num_samples"):
        metrics.iwae_nll(vae, x, num_samples=0)
