"""Numbers that say how good a generative model is: scores and the Fréchet distance of
generated digits under a small reference MNIST classifier, and the test negative ELBO and
importance-weighted log-likelihood of a VAE, in nats per image.

The classifier is loaded lazily (first use), from `data/reference_classifier.weights.h5`,
checked against `data/SHA256SUMS` and rebuilt by `python data/build_reference_classifier.py`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from common import datasets
from common.checks import to_numpy

CLASSIFIER_FILE = "reference_classifier.weights.h5"
NUM_CLASSES = 10
FEATURE_LAYER = "features"
IMAGE_SHAPE = (28, 28, 1)
_RANGE_TOLERANCE = 1e-3  # Float slop allowed outside [0, 1] / [-1, 1].
_LOG_EPSILON = 1e-7  # Probabilities are clipped to [eps, 1 - eps] before the log.


# --------------------------------------------------------------------------- the classifier


def build_classifier_model():
    """The reference classifier's architecture (untrained): a small CNN on (28, 28, 1) images
    in [0, 1], a 128-unit ReLU feature layer named "features", and 10 softmax outputs.
    Initialisers and dropout are seeded, so building it never touches the global RNG."""
    import keras
    from keras import layers

    def init(seed):
        return keras.initializers.GlorotUniform(seed=seed)

    inputs = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init(1))(
        inputs)
    x = layers.MaxPooling2D()(x)  # 14 x 14
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init(2))(x)
    x = layers.MaxPooling2D()(x)  # 7 x 7
    x = layers.Conv2D(128, 3, activation="relu", kernel_initializer=init(3))(x)  # 5 x 5
    x = layers.MaxPooling2D()(x)  # 2 x 2
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3, seed=4)(x)
    features = layers.Dense(128, activation="relu", kernel_initializer=init(5),
                            name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3, seed=6)(features)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", kernel_initializer=init(7),
                           name="probabilities")(x)
    return keras.Model(inputs, outputs, name="reference_classifier")


@functools.cache
def reference_classifier():
    """The trained reference MNIST classifier (a Keras model: images in [0, 1] -> 10 class
    probabilities), loaded once from data/ after its sha256 is checked, then cached."""
    model = build_classifier_model()
    model.load_weights(str(datasets.verify_bundled(CLASSIFIER_FILE)))
    return model


@functools.cache
def _classifier_heads():
    """One model giving both the penultimate features and the class probabilities."""
    import keras

    model = reference_classifier()
    return keras.Model(model.inputs, [model.get_layer(FEATURE_LAYER).output, model.outputs[0]])


def as_unit_images(images, value_range: tuple[float, float] | None = None,
                   name: str = "images") -> np.ndarray:
    """Images as float32 (N, 28, 28, 1) in [0, 1], the classifier's input convention.

    Accepts (N, 28, 28, 1), (N, 28, 28) or (N, 784) arrays or tensors. `value_range=None`
    (default) assumes [0, 1] unless some pixel is negative, in which case it assumes [-1, 1]
    (tanh outputs) and maps x -> (x + 1) / 2; pass (0, 1) or (-1, 1) to say which. Anything
    else (0..255 pixels, logits, NaN) is refused with a ValueError."""
    array = to_numpy(images).astype(np.float32)
    if array.shape[1:] in ((784,), (28, 28)):
        array = array.reshape(-1, *IMAGE_SHAPE)
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{name}: expected MNIST-sized images shaped (N, 28, 28, 1), (N, 28, 28)"
                         f" or (N, 784); got shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"{name}: got no images.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: {int((~np.isfinite(array)).sum())} pixel(s) are NaN or "
                         "infinite; check the model that produced them (a diverged training?).")
    low, high = float(array.min()), float(array.max())
    if value_range is None:
        value_range = (-1.0, 1.0) if low < -_RANGE_TOLERANCE else (0.0, 1.0)
    if tuple(value_range) not in ((0, 1), (-1, 1)):
        raise ValueError(f"value_range must be None, (0, 1) or (-1, 1); got {value_range!r}.")
    lower, upper = value_range
    if low < lower - _RANGE_TOLERANCE or high > upper + _RANGE_TOLERANCE:
        raise ValueError(
            f"{name}: pixel values must lie in [0, 1] or [-1, 1]; got values in [{low:.4g}, "
            f"{high:.4g}]. Divide 0..255 pixels by 255; pass logits through a sigmoid (for "
            "[0, 1]) or tanh (for [-1, 1]).")
    if lower == -1:
        array = (array + 1.0) / 2.0
    return np.clip(array, 0.0, 1.0)


def classifier_outputs(images, value_range: tuple[float, float] | None = None,
                       name: str = "images") -> tuple[np.ndarray, np.ndarray]:
    """(N, 128) penultimate features and (N, 10) class probabilities of the reference
    classifier, from one pass over the images (see `as_unit_images` for the input ranges)."""
    x = as_unit_images(images, value_range, name)
    features, probabilities = _classifier_heads().predict(x, batch_size=500, verbose=0)
    return features.astype(np.float64), probabilities.astype(np.float64)


def classifier_probabilities(images, value_range: tuple[float, float] | None = None
                             ) -> np.ndarray:
    """(N, 10) class probabilities of the reference classifier (see `as_unit_images`)."""
    return classifier_outputs(images, value_range)[1]


def classifier_features(images, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """(N, 128) penultimate-layer features of the reference classifier."""
    return classifier_outputs(images, value_range)[0]


@dataclasses.dataclass(frozen=True)
class ClassifierScores:
    """How the reference classifier sees a batch of generated digits."""

    confidence: float  # mean over images of the largest class probability
    class_histogram: np.ndarray  # (10,) share of images whose most likely class is each digit
    min_class_share: float  # the smallest entry of class_histogram
    num_images: int

    def meets(self, confidence: float = 0.85, min_class_share: float = 0.05) -> bool:
        """True when confident enough and no digit is rarer than `min_class_share`."""
        return self.confidence >= confidence and self.min_class_share >= min_class_share

    def __str__(self) -> str:
        rarest = int(np.argmin(self.class_histogram))
        return (f"confidence {self.confidence:.3f} | smallest class share "
                f"{self.min_class_share:.1%} (digit {rarest}) | {self.num_images:,} images")


def classifier_scores(images, value_range: tuple[float, float] | None = None
                      ) -> ClassifierScores:
    """Confidence (mean max-probability), class histogram and smallest class share of images
    under the reference classifier. Images in [0, 1], or [-1, 1] when any pixel is negative
    (see `as_unit_images`); anything else is a ValueError."""
    return scores_from_probabilities(classifier_probabilities(images, value_range))


def scores_from_probabilities(probabilities: np.ndarray) -> ClassifierScores:
    """`ClassifierScores` from (N, 10) class probabilities already computed."""
    probabilities = np.asarray(probabilities)
    counts = np.bincount(probabilities.argmax(axis=1), minlength=NUM_CLASSES)
    histogram = counts / counts.sum()
    return ClassifierScores(confidence=float(probabilities.max(axis=1).mean()),
                            class_histogram=histogram, min_class_share=float(histogram.min()),
                            num_images=len(probabilities))


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a covariance; round-off negatives in its spectrum become 0."""
    values, vectors = np.linalg.eigh((sigma + sigma.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _sqrtm_trace(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
    """tr (sigma_a sigma_b)^(1/2) for covariances, computed stably.

    sigma_a sigma_b is similar to the symmetric PSD matrix A sigma_b A with A = sigma_a^(1/2), so
    the trace of its principal square root is the sum of the square roots of that matrix's
    eigenvalues. Two symmetric eigendecompositions replace `scipy.linalg.sqrtm` of the
    non-symmetric product: the same value (its real part; a test checks they agree) without
    complex round-off, and singular covariances (dead ReLU features, fewer images than
    features) need no ridge: their tiny negative eigenvalues are clipped to 0."""
    root_a = _psd_sqrt(sigma_a)
    values = np.linalg.eigvalsh(root_a @ sigma_b @ root_a)
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_classifier_distance(real_images, generated_images, *,
                                value_range: tuple[float, float] | None = None) -> float:
    """The FID formula on the reference classifier's 128 penultimate features:
    |mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2)). 0 for identical sets, grows as the
    generated set drifts from the real one. Each set is mapped to [0, 1] on its own (see
    `as_unit_images`; `value_range` applies to the generated set). Compare values only at
    equal set sizes (the estimate is biased for small sets)."""
    real, _ = classifier_outputs(real_images, name="real_images")
    generated, _ = classifier_outputs(generated_images, value_range, name="generated_images")
    return frechet_distance(real, generated)


def frechet_distance(real_features: np.ndarray, generated_features: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two (N, D) feature sets (the formula
    behind `frechet_classifier_distance`, for features already computed)."""
    real = np.asarray(real_features, np.float64)
    generated = np.asarray(generated_features, np.float64)
    if len(real) < 2 or len(generated) < 2:
        raise ValueError("frechet_classifier_distance needs at least 2 images in each set; "
                         f"got {len(real)} real and {len(generated)} generated.")
    mean_difference = real.mean(axis=0) - generated.mean(axis=0)
    sigma_real, sigma_generated = np.cov(real, rowvar=False), np.cov(generated, rowvar=False)
    distance = (mean_difference @ mean_difference + np.trace(sigma_real)
                + np.trace(sigma_generated) - 2.0 * _sqrtm_trace(sigma_real, sigma_generated))
    return max(float(distance), 0.0)  # Round-off can give -1e-9 for identical sets.


# ------------------------------------------------------------------------------ VAE likelihood


def _call(model, inputs):
    """Call a Keras model/layer in inference mode, or any other callable plainly."""
    import keras

    if isinstance(model, keras.layers.Layer):
        return model(inputs, training=False)
    return model(inputs)


def _check_binary_targets(x) -> np.ndarray:
    array = to_numpy(x).astype(np.float32)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"x: expected a batch of images (N, ...); got shape {array.shape}.")
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            f"x: Bernoulli likelihoods need pixels in [0, 1]; got values in "
            f"[{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]. Use the binarised test split, "
            "e.g. common.datasets.binarize(x_test).")
    return array


def _encode(vae, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outputs = _call(vae.encoder, x)
    if not isinstance(outputs, (list, tuple)) or len(outputs) < 2:
        raise ValueError("vae.encoder must return [z_mean, z_log_var] (a list or tuple; a third "
                         f"output such as z is ignored); got {type(outputs).__name__}.")
    z_mean, z_log_var = (to_numpy(o).astype(np.float64) for o in outputs[:2])
    if z_mean.shape != z_log_var.shape or z_mean.shape[0] != len(x):
        raise ValueError(f"vae.encoder: z_mean {z_mean.shape} and z_log_var {z_log_var.shape} "
                         f"must both be shaped (batch, latent_dim) for a batch of {len(x)}.")
    return z_mean, z_log_var


def _log_bernoulli(vae, z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log p(x | z) summed over pixels, one value per image."""
    probabilities = to_numpy(_call(vae.decoder, z.astype(np.float32))).astype(np.float64)
    if probabilities.size != x.size:
        raise ValueError(f"vae.decoder returned shape {probabilities.shape} for images shaped "
                         f"{x.shape}; it must return one probability per pixel.")
    probabilities = probabilities.reshape(x.shape)
    if not np.isfinite(probabilities).all() or probabilities.min() < 0.0 or (
            probabilities.max() > 1.0):
        raise ValueError(
            "vae.decoder must return Bernoulli probabilities in [0, 1] (end with a sigmoid, not "
            f"logits); got values in [{np.nanmin(probabilities):.4g}, "
            f"{np.nanmax(probabilities):.4g}].")
    p = np.clip(probabilities, _LOG_EPSILON, 1.0 - _LOG_EPSILON)
    log_likelihood = x * np.log(p) + (1.0 - x) * np.log1p(-p)
    return log_likelihood.reshape(len(x), -1).sum(axis=1)


def _batches(x: np.ndarray, batch_size: int):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size]


def _check_count(num_samples) -> int:
    if not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int; got {num_samples!r}.")
    return int(num_samples)


def negative_elbo(vae, x, num_samples: int = 1, batch_size: int = 500, seed: int = 0) -> float:
    """Mean negative ELBO over the images `x` in nats per image:
    E_q[-log p(x|z)] (estimated from `num_samples` draws z = mu + sigma * eps) + the
    closed-form D_KL(q(z|x) || N(0, I)). `vae.encoder(x)` must return [z_mean, z_log_var] and
    `vae.decoder(z)` Bernoulli probabilities; `x` holds pixels in [0, 1] (binarised for a
    proper likelihood). Seeded, so the same call gives the same number."""
    x = _check_binary_targets(x)
    num_samples = _check_count(num_samples)
    rng = np.random.default_rng(seed)
    totals = []
    for batch in _batches(x, batch_size):
        z_mean, z_log_var = _encode(vae, batch)
        kl = 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=1)
        reconstruction = np.zeros(len(batch))
        for _ in range(num_samples):
            z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
            reconstruction -= _log_bernoulli(vae, z, batch) / num_samples
        totals.append(reconstruction + kl)
    return float(np.concatenate(totals).mean())


def iwae_nll(vae, x, num_samples: int = 64, batch_size: int = 250, seed: int = 0) -> float:
    """Importance-weighted estimate of the mean negative log-likelihood -log p(x) in nats per
    image (Burda et al., 2016): -log (1/K sum_k p(x|z_k) p(z_k) / q(z_k|x)), z_k ~ q(z|x),
    K = `num_samples`. Never above the negative ELBO in expectation, and tighter as K grows.
    Same model contract as `negative_elbo`."""
    from scipy.special import logsumexp

    x = _check_binary_targets(x)
    num_samples = _check_count(num_samples)
    rng = np.random.default_rng(seed)
    log_2pi = np.log(2.0 * np.pi)
    totals = []
    for batch in _batches(x, batch_size):
        z_mean, z_log_var = _encode(vae, batch)
        log_weights = np.empty((len(batch), num_samples))
        for k in range(num_samples):
            eps = rng.standard_normal(z_mean.shape)
            z = z_mean + np.exp(0.5 * z_log_var) * eps
            log_prior = -0.5 * np.sum(z**2 + log_2pi, axis=1)
            log_posterior = -0.5 * np.sum(eps**2 + log_2pi + z_log_var, axis=1)
            log_weights[:, k] = _log_bernoulli(vae, z, batch) + log_prior - log_posterior
        totals.append(np.log(num_samples) - logsumexp(log_weights, axis=1))
    return float(np.concatenate(totals).mean())
