"""Design tasks: the budget a student's design trains under and the rules it keeps, the same in
the notebook's check, the lecture demo and the grader's own trial of the design.

A design is judged by what it reaches, not by its code: the grader rebuilds the networks from
their Keras configuration (standard layers only: no custom or Lambda layer, no weights set in
advance), trains them itself under the budget with seeds it chooses, and measures the outcome."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """What one training of a design may use."""

    parameters: int  # trainable and non-trainable weights of all its networks together
    epochs: int
    batch_size: int
    train_images: int

    @property
    def steps(self) -> int:
        """Optimiser steps of one training: `epochs` passes over the `train_images` in batches
        of `batch_size`, the last batch of a pass holding what is left."""
        return self.epochs * math.ceil(self.train_images / self.batch_size)


AUTOENCODER = Budget(parameters=500_000, epochs=5, batch_size=64, train_images=3000)
AUTOENCODER_CODE_SIZE = 16
AUTOENCODER_TARGET = 0.92  # design MSE / PCA MSE with as many components, on held-out digits

MODELS = {"Sequential", "Functional"}
LAYERS = {
    "InputLayer", "Dense", "Conv2D", "Conv2DTranspose", "Flatten", "Reshape", "Activation",
    "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "Dropout", "SpatialDropout2D", "GaussianNoise", "MaxPooling2D",
    "AveragePooling2D", "UpSampling2D", "ZeroPadding2D", "Cropping2D", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Concatenate", "Embedding"}
PARTS = {  # what a layer's configuration may name besides layers
    "keras": {"DTypePolicy", "Sequential"},
    "keras.initializers": {"Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
                           "TruncatedNormal", "GlorotNormal", "GlorotUniform", "HeNormal",
                           "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal",
                           "VarianceScaling"},
    "keras.regularizers": {"L1", "L2", "L1L2"},
    "keras.constraints": {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"},
    "keras.layers": LAYERS,
    "keras.src.models.functional": {"Functional"},
    "keras.models": MODELS,
}
MAX_CONFIG_CHARACTERS = 1_000_000


def config_problems(text: str) -> list[str]:
    """What keeps a model configuration (`model.to_json()`) from being rebuilt as a design:
    only Keras' standard layers, initialisers, regularisers and constraints, and no weights
    given in advance (a Constant initialiser holds one number). Empty when it can be."""
    if not isinstance(text, str) or len(text) > MAX_CONFIG_CHARACTERS:
        return [f"the configuration is not a text of at most {MAX_CONFIG_CHARACTERS:,} characters"]
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        return ["the configuration is not valid JSON (use model.to_json())"]
    problems: list[str] = []

    def visit(node, depth: int) -> None:
        if depth > 60:
            problems.append("the configuration is nested too deeply")
            return
        if isinstance(node, list):
            for item in node:
                visit(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        name = node.get("class_name")
        if name is not None and name != "__keras_tensor__":
            module = node.get("module")
            allowed = PARTS.get(module, set()) if isinstance(module, str) else set()
            if name not in allowed or node.get("registered_name") not in (None, name):
                shown = name if isinstance(name, str) and name.isidentifier() and len(name) < 40 \
                    else "a class"
                problems.append(f"{shown} is not one of Keras' standard layers or settings "
                                "(no custom, Lambda or subclassed layers in a design)")
                return
            if name == "Constant" and not isinstance(node.get("config", {}).get("value"),
                                                     (int, float)):
                problems.append("a Constant initialiser may hold one number, not weights")
                return
        for key, value in node.items():
            if key == "activation" and isinstance(value, dict):
                problems.append("activations are named by text (\"relu\"), not by a function")
            else:
                visit(value, depth + 1)

    visit(tree, 0)
    return sorted(set(problems))


def rebuild(text: str):
    """A fresh, untrained Keras model from a configuration that has no `config_problems`."""
    import keras

    problems = config_problems(text)
    if problems:
        raise ValueError("; ".join(problems))
    return keras.models.model_from_json(text)


def parameters(*models) -> int:
    """Weights of all the models together."""
    return int(sum(model.count_params() for model in models))


def _number(value) -> float | None:
    """`value` as a float when it is one finite real number (a Python or NumPy int or float, a
    0-d array or tensor), else None."""
    try:
        array = np.asarray(value)
    except Exception:  # whatever a design returned: it is not a number
        return None
    if array.ndim != 0 or array.dtype.kind not in "iuf" or not math.isfinite(float(array)):
        return None
    return float(array)


def learning_rate_problems(learning_rate, name: str = "the learning rate") -> list[str]:
    """Why `learning_rate` is not one number in (0, 1] for Adam (empty when it is)."""
    value = _number(learning_rate)
    if value is None or not 0 < value <= 1:
        return [f"{name} must be a number in (0, 1]; got {learning_rate!r}"[:200]]
    return []


def network_problems(networks: dict, shapes: dict, budget: Budget) -> list[str]:
    """Why `networks` ({role: Keras model}) are not a valid design: layers outside the rules,
    shapes other than `shapes` ({what: (role, "inputs" or "outputs", expected shape)}), more
    weights than the budget. Empty when they are valid."""
    return _layer_problems(networks) or _shape_problems(networks, shapes, budget)


def _layer_problems(networks: dict) -> list[str]:
    """Why `networks` ({role: Keras model}) cannot be read as a design: not Keras models, or
    layers outside the rules (their shapes can wait). Empty when they can."""
    problems = []
    for role, model in networks.items():
        if not hasattr(model, "to_json"):
            return [f"the {role} is not a Keras model (got {type(model).__name__})"]
        problems += [f"{role}: {p}" for p in config_problems(model.to_json())]
    return problems


def _shape_problems(networks: dict, shapes: dict, budget: Budget) -> list[str]:
    """network_problems of networks that have no `_layer_problems`: shapes and budget."""
    problems = []
    for what, (role, side, expected) in shapes.items():
        got = [tuple(t.shape) for t in getattr(networks[role], side)]
        if got != [expected]:
            problems.append(f"the {what} must have shape {expected}, not "
                            f"{got[0] if len(got) == 1 else got}")
    used = parameters(*networks.values())
    if used > budget.parameters:
        problems.append(f"the design has {used:,} weights; the budget is {budget.parameters:,}")
    return problems


def autoencoder_problems(encoder, decoder, code_size: int,
                         budget: Budget = AUTOENCODER) -> list[str]:
    """Why (encoder, decoder) is not a valid autoencoder design: shapes, budget, layers."""
    return network_problems(
        {"encoder": encoder, "decoder": decoder},
        {"encoder input": ("encoder", "inputs", (None, 28, 28, 1)),
         "encoder output (the code)": ("encoder", "outputs", (None, code_size)),
         "decoder input": ("decoder", "inputs", (None, code_size)),
         "decoder output": ("decoder", "outputs", (None, 28, 28, 1))}, budget)


def train_autoencoder(encoder, decoder, images, learning_rate: float, budget: Budget = AUTOENCODER,
                      seed: int = 0, callbacks=()):
    """Train encoder and decoder together to reconstruct `images` (the first
    `budget.train_images`): mean squared error, Adam at `learning_rate`, `budget.epochs` epochs
    of batches of `budget.batch_size`, shuffled by `seed`. Returns the Keras history."""
    import keras

    problems = learning_rate_problems(learning_rate)
    if problems:
        raise ValueError(problems[0])
    keras.utils.set_random_seed(int(seed))
    images = np.asarray(images, np.float32)[:budget.train_images]
    inputs = keras.Input((28, 28, 1))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    autoencoder.compile(optimizer=keras.optimizers.Adam(float(learning_rate)), loss="mse")
    return autoencoder.fit(images, images, epochs=budget.epochs, batch_size=budget.batch_size,
                           shuffle=True, verbose=0, callbacks=list(callbacks))


def reconstruct(encoder, decoder, images, batch_size: int = 500) -> np.ndarray:
    """decoder(encoder(images)), with the codes rounded to float16 in between: the code is the
    only path from input to output, and it carries numbers, not hidden bits."""
    codes = np.asarray(encoder.predict(np.asarray(images, np.float32), batch_size=batch_size,
                                       verbose=0))
    codes = codes.astype(np.float16).astype(np.float32)
    return np.asarray(decoder.predict(codes, batch_size=batch_size, verbose=0), np.float32)


def mse(reconstructions, images) -> float:
    """Mean squared error per pixel."""
    difference = np.asarray(reconstructions, np.float64) - np.asarray(images, np.float64)
    return float(np.mean(difference ** 2))


def autoencoder_digits() -> tuple[np.ndarray, np.ndarray]:
    """(training digits, validation digits) for trying a design in a notebook: the first
    `AUTOENCODER.train_images` images of MNIST's training split and the 1,000 after them (the
    grader draws its own, and holds its test digits out)."""
    import contextlib
    import io

    from common import datasets

    with contextlib.redirect_stdout(io.StringIO()):
        (pool, _), _ = datasets.load_mnist()
    size = AUTOENCODER.train_images
    return pool[:size], pool[size:size + 1000]


def _activations(model) -> list[str]:
    found = []

    def visit(node):
        if isinstance(node, dict):
            if isinstance(node.get("activation"), str):
                found.append(node["activation"])
            if node.get("class_name") in ("ReLU", "LeakyReLU", "ELU", "PReLU", "Activation"):
                found.append(str(node.get("config", {}).get("activation", "relu")))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(json.loads(model.to_json()))
    return found


def _rate_advice(learning_rate, steps: int, low: float, high: float, slow: str,
                 fast: str) -> list[str]:
    """Advice on an Adam learning rate for a training of `steps` steps: below `low`, that it is
    too slow for them (`slow`: what then happens, and what to try); above `high`, that it is
    large for Adam (`fast`: what then happens). Empty for a rate in between, or one that is
    not a number (learning_rate_problems says so)."""
    rate = _number(learning_rate)
    if rate is not None and rate < low:
        return [f"training lasts {steps} steps: with a learning rate of {rate:g} {slow}"]
    if rate is not None and rate > high:
        return [f"a learning rate of {rate:g} is large for Adam: {fast}"]
    return []


def _weights_advice(used: int, budget: Budget) -> list[str]:
    """Advice for a design that uses under a third of its weight budget (`used` weights)."""
    if used < budget.parameters // 3:
        return [f"the design uses {used:,} of its {budget.parameters:,} weights: wider hidden "
                "layers learn more in a few epochs."]
    return []


def autoencoder_advice(encoder, decoder, learning_rate, budget: Budget = AUTOENCODER) -> list[str]:
    """What usually holds a design back, as far as its configuration shows (for a failure
    message: the causes to look at first)."""
    advice = []
    nonlinear = [a for a in _activations(encoder) + _activations(decoder) if a != "linear"]
    if not nonlinear:
        advice.append("every layer is linear, and the best a linear autoencoder can reach is "
                      "PCA itself: give the hidden layers a nonlinear activation.")
    last = _activations(decoder)[-1:] or ["linear"]
    if last[0] not in ("sigmoid", "hard_sigmoid"):
        advice.append("pixels lie in [0, 1]: an output activation with that range (sigmoid) "
                      "learns faster than a linear output.")
    advice += _weights_advice(parameters(encoder, decoder), budget)
    advice += _rate_advice(learning_rate, budget.steps, 3e-4, 2e-2,
                           "Adam barely leaves the random start (try 1e-3 to 3e-3).",
                           "the error may jump around instead of falling.")
    return advice or ["compare a few widths and learning rates: the check prints each try's "
                      "error against PCA's."]


def try_autoencoder(design, code_size: int, x_train, x_validation, seed: int = 0,
                    budget: Budget = AUTOENCODER) -> dict:
    """Train a design the way the grader does, on `x_train`, and measure it on `x_validation`:
    {"mse", "parameters", "seconds", "reconstructions", "networks": the trained (encoder,
    decoder)}. `design(code_size)` returns (encoder, decoder, learning_rate); the networks are
    rebuilt from their configuration."""
    encoder, decoder, learning_rate = design(code_size)
    problems = autoencoder_problems(encoder, decoder, code_size, budget)
    if problems:
        raise AssertionError("the design breaks the rules: " + "; ".join(problems))
    encoder, decoder = rebuild(encoder.to_json()), rebuild(decoder.to_json())
    start = time.perf_counter()
    train_autoencoder(encoder, decoder, x_train, learning_rate, budget, seed)
    seconds = time.perf_counter() - start
    reconstructions = reconstruct(encoder, decoder, x_validation)
    return {"mse": mse(reconstructions, x_validation), "parameters": parameters(encoder, decoder),
            "seconds": seconds, "reconstructions": reconstructions, "networks": (encoder, decoder)}


# ---- 05_beyond_vae ----
# The design task of 05: an outlier score that beats raw log p(x) where likelihood fails. The
# case's digit model is counted, not trained (every pixel an independent Bernoulli per class), so
# the notebook's check and the grader build the same kind of case in a fraction of a second.

OUTLIER_TARGET = 0.95  # ROC AUC of the design's score on the case (raw log p(x): about 0.52)
OUTLIER_TRAIN = 2000  # training digits the case's digit model counts
OUTLIER_COUNTS = {"digits": 200, "simple images": 100, "clothes": 100}  # in, out, out


def shift_images(rng, images) -> np.ndarray:
    """Every image (N, 28, 28) moved by -1, 0 or 1 pixel along each axis (drawn from `rng`),
    the rows and columns that come in left black: (N, 784) float32."""
    images = np.asarray(images, np.float32).reshape(-1, 28, 28)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    moves = rng.integers(0, 3, size=(len(images), 2))
    return np.stack([padded[k, dy:dy + 28, dx:dx + 28] for k, (dy, dx) in enumerate(moves)
                     ]).reshape(-1, 784)


def simple_images(rng, count: int) -> np.ndarray:
    """`count` binary images that are no digits but simple: a few dots, a horizontal bar, a
    filled rectangle or a plus sign, drawn from `rng`: (count, 784) float32."""
    images = np.zeros((count, 28, 28), np.float32)
    for image, kind in zip(images, rng.integers(0, 4, size=count)):
        if kind == 0:  # a nearly blank image: up to three dots
            dots = int(rng.integers(0, 4))
            image[rng.integers(6, 22, dots), rng.integers(6, 22, dots)] = 1.0
        elif kind == 1:  # a horizontal bar, 1 to 3 pixels thick
            thick, length = int(rng.integers(1, 4)), int(rng.integers(8, 21))
            row, column = int(rng.integers(5, 23 - thick)), int(rng.integers(4, 25 - length))
            image[row:row + thick, column:column + length] = 1.0
        elif kind == 2:  # a filled rectangle
            height, width = (int(v) for v in rng.integers(3, 7, size=2))
            row, column = int(rng.integers(6, 22 - height)), int(rng.integers(6, 22 - width))
            image[row:row + height, column:column + width] = 1.0
        else:  # a plus sign
            arm, thick = int(rng.integers(3, 7)), int(rng.integers(1, 3))
            row, column = int(rng.integers(6 + arm, 22 - arm)), int(rng.integers(6 + arm, 22 - arm))
            image[row - arm:row + arm + 1, column:column + thick] = 1.0
            image[row:row + thick, column - arm:column + arm + 1] = 1.0
    return images.reshape(count, 784)


def pixel_model(images, labels, smoothing: float = 1.0) -> dict:
    """A conditional generative model counted from binary digits: p(x | y) a product of
    independent Bernoulli pixels whose probabilities are the class's smoothed pixel frequencies,
    p(y) the class frequencies. {"log_on", "log_off": (10, 784), "log_prior": (10,)}."""
    images, labels = np.asarray(images, np.float64).reshape(len(images), -1), np.asarray(labels)
    counts = np.array([np.sum(labels == c) for c in range(10)], np.float64)
    on = np.stack([images[labels == c].sum(axis=0) for c in range(10)])
    probability = (on + smoothing) / (counts[:, None] + 2 * smoothing)
    return {"log_on": np.log(probability), "log_off": np.log1p(-probability),
            "log_prior": np.log(np.maximum(counts, 1) / counts.sum())}


def pixel_log_likelihoods(model: dict, images) -> np.ndarray:
    """log p(x | y) of binary images under `pixel_model`'s model, for every class y: (N, 10).
    (log p(x) itself is Task 1's log_marginal of these and model["log_prior"]: the notebook's
    check uses the student's, the grader its own.)"""
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    return x @ model["log_on"].T + (1.0 - x) @ model["log_off"].T


def outlier_case(seed: int, log_marginal, split: str = "validation") -> dict:
    """An outlier-detection case where likelihood fails: shuffled binary images, each moved by
    up to a pixel, of digits (in-distribution) and of two kinds of outliers, simple images
    (`simple_images`, which log p(x) rates too likely) and clothes (Fashion-MNIST, which it
    rates unlikely), with log p(x) under a `pixel_model` counted from OUTLIER_TRAIN training
    digits (moved the same way), log p(x) = log_marginal(log p(x | y), log p(y)) (05's Task 1).
    `split` "validation" (the notebook's check: digits and clothes of the training splits the
    model did not count) or "grader" (the test splits).
    {"images", "log_px", "train_images", "train_log_px"} (what a score may use) and
    {"outlier": bool (N,), "kind": (N,) text}."""
    import contextlib
    import io

    from common import datasets

    if split not in ("validation", "grader"):
        raise ValueError(f"split must be 'validation' or 'grader'; got {split!r}")
    rng = np.random.default_rng([int(seed), 27, 5])
    with contextlib.redirect_stdout(io.StringIO()):
        (digits, labels), (test_digits, _) = datasets.load_mnist(source="bundled")
        (clothes, _), (test_clothes, _) = datasets.load_fashion_mnist(source="bundled")
    digits = datasets.binarize(digits).reshape(len(digits), 784)
    if split == "validation":
        fitted = np.arange(OUTLIER_TRAIN)
        pool, clothes_pool = digits[OUTLIER_TRAIN:], datasets.binarize(clothes)
    else:
        fitted = rng.permutation(len(digits))[:OUTLIER_TRAIN]
        pool, clothes_pool = datasets.binarize(test_digits), datasets.binarize(test_clothes)
    train_images = shift_images(rng, digits[fitted])
    model = pixel_model(train_images, labels[fitted])
    counts = OUTLIER_COUNTS
    groups = {
        "digits": shift_images(rng, pool[rng.permutation(len(pool))[:counts["digits"]]]),
        "simple images": shift_images(rng, simple_images(rng, counts["simple images"])),
        "clothes": shift_images(rng, clothes_pool[
            rng.permutation(len(clothes_pool))[:counts["clothes"]]])}
    images = np.concatenate(list(groups.values()))
    kind = np.concatenate([[name] * len(group) for name, group in groups.items()])
    order = rng.permutation(len(images))
    images, kind = images[order], kind[order]
    def log_px(x):
        return np.asarray(log_marginal(pixel_log_likelihoods(model, x), model["log_prior"]),
                          np.float64)

    return {"images": images, "log_px": log_px(images), "train_images": train_images,
            "train_log_px": log_px(train_images), "outlier": kind != "digits", "kind": kind}


def outlier_score_problems(scores, count: int) -> list[str]:
    """Why `scores` is not a score per image for `count` images (empty when it is)."""
    try:
        scores = np.asarray(scores, np.float64)
    except (TypeError, ValueError):
        return [f"the score must be an array of numbers; got {type(scores).__name__}"]
    if scores.shape != (count,):
        return [f"expected one score per image, shape ({count},); got shape {scores.shape}"]
    if not np.all(np.isfinite(scores)):
        return [f"{int(np.sum(~np.isfinite(scores)))} scores are not finite numbers (nan or inf)"]
    return []


def scores_agree(scores, again, index) -> bool:
    """Whether the scores `again` of the images `index`, scored in another batch, are those
    they got in the first (`scores`), up to float rounding."""
    scores, again = np.asarray(scores, np.float64), np.asarray(again, np.float64)
    spread = float(np.std(scores)) if len(scores) > 1 else 1.0
    return again.shape == (len(index),) and bool(np.all(
        np.abs(again - scores[np.asarray(index)]) <= 1e-5 * np.abs(again) + 1e-4 * spread + 1e-9))


def outlier_advice(aucs: dict) -> list[str]:
    """What usually holds a score back, from its AUC on each kind of outlier ({"simple
    images": auc, "clothes": auc})."""
    advice = []
    simple, clothes = aucs.get("simple images", 1.0), aucs.get("clothes", 1.0)
    if simple < 0.75:
        advice.append(f"the simple images still look typical to your score (AUC {simple:.2f} on "
                      "them): a few strokes on a black background are cheap for any model of "
                      "pixels. Compare log p(x) with what the image's simplicity alone would "
                      "predict, not with a fixed level.")
    if clothes < 0.75:
        advice.append(f"the clothes now look typical to your score (AUC {clothes:.2f} on them): "
                      "turning log p(x) around, or dropping it, loses what it did well. Keep "
                      "log p(x) and correct it.")
    if not advice:
        advice.append("both kinds of outliers are partly caught: a two-sided test on log p(x) "
                      "misses simple images that land inside the digits' range. Correct log p(x) "
                      "for the image's simplicity (the written question's part (b)).")
    return advice


# ---- 03_elbo ----
# The design task of 03: an importance-sampling proposal for probabilistic PCA whose exact
# posterior is a correlated Gaussian, so no diagonal q equals it. The bound is computed from the
# proposal's parameters and the model alone, with no training: the grader draws the samples.

PROPOSAL_MAX_SAMPLES = 16  # importance samples K a design may use per point
PROPOSAL_TARGET = 0.10  # nats: mean over the points of log p(x) - IWAE_K, the design's target
PROPOSAL_CORRELATION = 0.9  # |correlation| of z_1 and z_2 under the exact posterior p(z|x)
PROPOSAL_POINTS = 20  # points x of one case
PROPOSAL_LOG_VAR_LIMIT = 30.0  # a proposal's log-variances lie in [-30, 30]


def correlated_ppca(seed: int, num_points: int = PROPOSAL_POINTS, data_dim: int = 5):
    """A probabilistic PCA model with a 2-D latent whose exact posterior has its two latents
    correlated by PROPOSAL_CORRELATION in magnitude (W's columns are not orthogonal), and points
    drawn from it: (x (num_points, data_dim), W (data_dim, 2), b (data_dim,), sigma), float32
    arrays and a float, all drawn from `seed`."""
    rng = np.random.default_rng([int(seed), 3, 27])
    lengths = rng.uniform(1.5, 3.0, size=2)
    sigma = float(rng.uniform(0.3, 0.45))
    # Under p(z|x) the latents are correlated as minus those of W^T W + sigma^2 I: choose the
    # angle between the columns that makes that correlation PROPOSAL_CORRELATION.
    spread = np.sqrt(np.prod(lengths**2 + sigma**2)) / np.prod(lengths)
    cosine = rng.choice([-1.0, 1.0]) * PROPOSAL_CORRELATION * spread
    basis, _ = np.linalg.qr(rng.normal(size=(data_dim, 2)))
    second = cosine * basis[:, 0] + np.sqrt(1.0 - cosine**2) * basis[:, 1]
    W = np.stack([lengths[0] * basis[:, 0], lengths[1] * second], axis=1)
    b = rng.normal(size=data_dim)
    z = rng.normal(size=(num_points, 2))
    x = z @ W.T + b + sigma * rng.normal(size=(num_points, data_dim))
    return np.float32(x), np.float32(W), np.float32(b), sigma


def proposal_problems(q_mean, q_log_var, num_samples, batch: int, latent_dim: int,
                      max_samples: int = PROPOSAL_MAX_SAMPLES) -> list[str]:
    """Why (q_mean, q_log_var, num_samples) is not a valid proposal for `batch` points with
    `latent_dim` latents: shapes, finite log-variances within the limit, K an integer in
    [1, max_samples]. Empty when it is valid."""
    problems = []
    for name, value in (("q_mean", q_mean), ("q_log_var", q_log_var)):
        try:
            array = np.asarray(value, np.float64)
        except (TypeError, ValueError):
            problems.append(f"{name} is not an array of numbers (got {type(value).__name__})")
            continue
        if array.shape != (batch, latent_dim):
            problems.append(f"{name} must have shape ({batch}, {latent_dim}), one row per point; "
                            f"got {array.shape}")
        elif not np.all(np.isfinite(array)):
            problems.append(f"{name} holds values that are not finite numbers (nan or inf)")
        elif name == "q_log_var" and np.abs(array).max() > PROPOSAL_LOG_VAR_LIMIT:
            problems.append(f"the log-variances must lie in [-{PROPOSAL_LOG_VAR_LIMIT:g}, "
                            f"{PROPOSAL_LOG_VAR_LIMIT:g}]; got {np.abs(array).max():.3g} in size")
    try:
        count = np.asarray(num_samples, np.float64)
        whole = count.shape == () and np.isfinite(count) and float(count).is_integer()
    except (TypeError, ValueError):
        whole = False
    if not whole:
        problems.append(f"num_samples must be a whole number; got {num_samples!r}"[:200])
    elif not 1 <= int(count) <= max_samples:
        problems.append(f"num_samples is {int(count)}; the budget is 1 to {max_samples} importance "
                        "samples per point")
    return problems


def proposal_gaps(model, q_mean, q_log_var, log_normal_pdf, exact_log_marginal, iwae_bound,
                  max_samples: int = PROPOSAL_MAX_SAMPLES, repeats: int = 250,
                  seed: int = 0) -> np.ndarray:
    """Mean over the points of log p(x) - IWAE_K for K = 1 ... max_samples: `repeats` draws of
    max_samples samples z ~ q per point, and IWAE_K from the first K of each draw, with the
    notebook's own log_normal_pdf, exact_log_marginal and iwae_bound. (max_samples,)."""
    x, W, b, sigma = model
    q_mean, q_log_var = np.float32(q_mean), np.float32(q_log_var)
    rng = np.random.default_rng([int(seed), 3])
    noise = rng.normal(size=(repeats * max_samples, *q_mean.shape))
    z = np.float32(q_mean + np.exp(0.5 * q_log_var) * noise)  # (draws, batch, d)
    to_np = lambda v: np.asarray(v.numpy() if hasattr(v, "numpy") else v, np.float64)  # noqa: E731
    log_var_x = np.full(W.shape[0], 2.0 * np.log(sigma), np.float32)
    log_weights = (to_np(log_normal_pdf(x, np.float32(z @ W.T + b), log_var_x))
                   + to_np(log_normal_pdf(z, np.zeros_like(z), np.zeros_like(z)))
                   - to_np(log_normal_pdf(z, q_mean, q_log_var)))
    log_weights = log_weights.reshape(repeats, max_samples, len(x)).transpose(1, 0, 2)
    log_px = to_np(exact_log_marginal(x, W, b, sigma))
    gaps = []
    for k in range(1, max_samples + 1):
        bound = to_np(iwae_bound(np.float32(log_weights[:k].reshape(k, -1))))
        gaps.append(float(np.mean(log_px - bound.reshape(repeats, len(x)).mean(axis=0))))
    return np.array(gaps)


def try_proposal(design, model, log_normal_pdf, exact_log_marginal, iwae_bound,
                 repeats: int = 250, seed: int = 0) -> dict:
    """Measure a design on `model` (x, W, b, sigma) as the grader does: {"gap": log p(x) -
    IWAE_K at the design's K, mean over the points, "gaps": the same for K = 1 ...
    PROPOSAL_MAX_SAMPLES, "num_samples", "q_mean", "q_log_var"}."""
    x, W, b, sigma = model
    result = design(x, W, b, sigma)
    if not (isinstance(result, (tuple, list)) and len(result) == 3):
        raise AssertionError("design_proposal: expected a tuple (q_mean, q_log_var, num_samples); "
                             f"got {type(result).__name__}")
    to_np = lambda v: np.asarray(v.numpy() if hasattr(v, "numpy") else v)  # noqa: E731
    q_mean, q_log_var, num_samples = (to_np(v) for v in result)
    problems = proposal_problems(q_mean, q_log_var, num_samples, len(x), W.shape[1])
    if problems:
        raise AssertionError("design_proposal breaks the rules: " + "; ".join(problems))
    gaps = proposal_gaps(model, q_mean, q_log_var, log_normal_pdf, exact_log_marginal,
                         iwae_bound, repeats=repeats, seed=seed)
    return {"gap": float(gaps[int(num_samples) - 1]), "gaps": gaps,
            "num_samples": int(num_samples), "q_mean": q_mean, "q_log_var": q_log_var}


def proposal_advice(gaps, num_samples: int, target: float = PROPOSAL_TARGET) -> list[str]:
    """What usually holds a proposal back, read from its gaps at K = 1 ... PROPOSAL_MAX_SAMPLES
    (the K = 1 gap is its ELBO's, KL(q || p(z|x)))."""
    gaps = np.asarray(gaps, np.float64)
    advice = []
    reaching = np.flatnonzero(gaps <= target)
    if reaching.size and num_samples < reaching[0] + 1:
        advice.append(f"your q reaches the target from K = {reaching[0] + 1} on: use more of the "
                      "sample budget.")
    elif gaps[0] < 1.5 and gaps[-1] > 0.4 * gaps[0]:
        advice.append(f"your q has a good ELBO (gap {gaps[0]:.2f} nats at K = 1) but the bound "
                      f"barely tightens with K ({gaps[-1]:.2f} at K = {len(gaps)}): the importance "
                      "weights are heavy-tailed, which is what a q narrower than p(z|x) in some "
                      "direction gives. The q that maximises the ELBO is not the best proposal.")
    elif gaps[0] > 20:
        advice.append(f"your q is far from p(z|x) (gap {gaps[0]:.1f} nats at K = 1): almost every "
                      "sample lands where p(z|x) is tiny. Centre q where the posterior is, and "
                      "give it widths of the posterior's size.")
    elif gaps[-1] > target:
        advice.append(f"the gap falls from {gaps[0]:.2f} (K = 1) to {gaps[-1]:.2f} nats (K = "
                      f"{len(gaps)}): compare q's centre and widths with the posterior's, "
                      "direction by direction (its marginals), and try a few widths around them.")
    return advice or ["compare a few widths of q: the check prints the gap at each K."]


# ---- 04_gan ----
# The design task of 04: a small GAN for the 2-D ring of 8 Gaussians (datasets.toy_ring). The
# grader rebuilds the two networks from their configurations and trains them with its own GAN
# loop (hidden_tests/trials.py); the notebook's check trains them with the student's own GAN class
# (Task 4) and reads the outcome with the student's own modes_covered (Task 5), so nothing here
# computes a graded answer.

GAN_BUDGET = Budget(parameters=40_000, epochs=40, batch_size=128, train_images=6400)
GAN_LATENT_DIM = 2  # the noise z fed to the generator
GAN_BETA_1 = 0.5  # Adam's beta_1 for both networks (the DCGAN paper's)
GAN_RADIUS = 0.25  # a sample is on a mode when within this distance of its centre (5 std)
GAN_MODE_CAP = 1 / 8  # the most of the samples one mode counts for in the coverage
GAN_TARGET = 0.50  # coverage: the share of samples on a mode, at most GAN_MODE_CAP per mode
GAN_SAMPLES = 2000  # samples drawn from the trained generator to measure it


def gan_rate_problems(d_learning_rate, g_learning_rate) -> list[str]:
    """Why the two learning rates are not numbers in (0, 1] (empty when they are)."""
    return (learning_rate_problems(d_learning_rate, "d_learning_rate")
            + learning_rate_problems(g_learning_rate, "g_learning_rate"))


def gan_problems(generator, discriminator, latent_dim: int = GAN_LATENT_DIM,
                 budget: Budget = GAN_BUDGET) -> list[str]:
    """Why (generator, discriminator) is not a valid GAN design for the ring: shapes, budget,
    layers."""
    return network_problems(
        {"generator": generator, "discriminator": discriminator},
        {"generator input (the noise z)": ("generator", "inputs", (None, latent_dim)),
         "generator output (a point)": ("generator", "outputs", (None, 2)),
         "discriminator input (a point)": ("discriminator", "inputs", (None, 2)),
         "discriminator output (a logit)": ("discriminator", "outputs", (None, 1))}, budget)


def gan_design_parts(result) -> tuple:
    """(generator, discriminator, d_learning_rate, g_learning_rate) from what design_gan
    returned, or AssertionError saying what it should return."""
    if not (isinstance(result, (tuple, list)) and len(result) == 4):
        raise AssertionError("design_gan: expected a tuple (generator, discriminator, "
                             f"d_learning_rate, g_learning_rate); got {type(result).__name__}"
                             + (f" of {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return tuple(result)


def try_gan(design, gan_class, latent_dim: int = GAN_LATENT_DIM, seed: int = 0,
            budget: Budget = GAN_BUDGET) -> dict:
    """Train a design as the grader does, with `gan_class` (the notebook's GAN of Task 4, one
    discriminator step per generator step, Adam with beta_1 GAN_BETA_1 at the design's learning
    rates), on budget.train_images ring points drawn from `seed`, and draw GAN_SAMPLES points
    from the trained generator: {"samples", "parameters", "seconds", "d_learning_rate",
    "g_learning_rate"}. `design(latent_dim)` returns (generator, discriminator,
    d_learning_rate, g_learning_rate); the networks are rebuilt from their configuration."""
    import keras

    from common import datasets

    generator, discriminator, d_rate, g_rate = gan_design_parts(design(latent_dim))
    problems = gan_problems(generator, discriminator, latent_dim, budget)
    problems += gan_rate_problems(d_rate, g_rate)
    if problems:
        raise AssertionError("the design breaks the rules: " + "; ".join(problems))
    keras.utils.set_random_seed(int(seed))
    generator, discriminator = rebuild(generator.to_json()), rebuild(discriminator.to_json())
    gan = gan_class(generator, discriminator, latent_dim=latent_dim, d_steps=1)
    gan.compile(d_optimizer=keras.optimizers.Adam(float(d_rate), beta_1=GAN_BETA_1),
                g_optimizer=keras.optimizers.Adam(float(g_rate), beta_1=GAN_BETA_1),
                steps_per_execution=25)
    gan.d_optimizer.build(discriminator.trainable_variables)
    gan.g_optimizer.build(generator.trainable_variables)
    points = datasets.toy_ring(budget.train_images, seed=int(seed) + 1)
    start = time.perf_counter()
    gan.fit(datasets.make_dataset(points, budget.batch_size, seed=int(seed), drop_remainder=True),
            epochs=budget.epochs, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    noise = np.random.default_rng([int(seed), 4]).normal(size=(GAN_SAMPLES, latent_dim))
    samples = np.asarray(generator(noise.astype(np.float32), training=False), np.float32)
    return {"samples": samples, "parameters": parameters(generator, discriminator),
            "seconds": seconds, "d_learning_rate": float(d_rate), "g_learning_rate": float(g_rate)}


def mode_shares(modes_covered, samples, centers, radius: float = GAN_RADIUS) -> np.ndarray:
    """Each centre's share of all the samples within `radius`, found with the notebook's own
    `modes_covered(samples, centers, radius, min_fraction)` (Task 5) asked about one centre at a
    time: the largest count c for which the centre holds at least c samples, over the number of
    samples. (len(centers),)."""
    samples = np.asarray(samples, np.float32)
    centers = np.asarray(centers, np.float32)
    if not np.all(np.isfinite(samples)):
        return np.zeros(len(centers))
    shares = []
    for center in centers:
        low, high = 0, len(samples)
        while low < high:  # the centre holds at least `low` samples
            middle = (low + high + 1) // 2
            if modes_covered(samples, center[None], radius,
                             min_fraction=(middle - 0.5) / len(samples)) == 1:
                low = middle
            else:
                high = middle - 1
        shares.append(low / len(samples))
    return np.array(shares)


def coverage(shares) -> float:
    """The share of the samples that sit on a mode, each mode counting for at most GAN_MODE_CAP
    of them: about 1 for a generator that draws every mode equally and nothing else, at most
    6/8 for one that misses two modes."""
    return float(np.minimum(np.asarray(shares, np.float64), GAN_MODE_CAP).sum())


def gan_advice(generator, discriminator, d_learning_rate, g_learning_rate, covered: int,
               budget: Budget = GAN_BUDGET) -> list[str]:
    """What usually holds a ring GAN back, from its configuration and the number of modes its
    samples covered (for a failure message: the causes to look at first)."""
    advice = []
    hidden = [a for a in _activations(generator) if a != "linear"]
    if not hidden:
        advice.append("the generator is linear: it can only stretch the Gaussian noise into "
                      "another Gaussian, never tear it into 8 separate modes. Give its hidden "
                      "layers a nonlinear activation.")
    used = {"generator": generator.count_params(), "discriminator": discriminator.count_params()}
    if used["generator"] < 1000:
        advice.append(f"the generator has {used['generator']:,} weights: too few to fold the noise "
                      "into 8 separate clusters (try two hidden layers of a few dozen units).")
    if used["discriminator"] < used["generator"] / 4:
        advice.append(f"the discriminator ({used['discriminator']:,} weights) is much smaller than "
                      f"the generator ({used['generator']:,}): a critic that cannot tell where the "
                      "modes are cannot show the generator where to go.")
    steps = budget.epochs * (budget.train_images // budget.batch_size)
    for name, rate in (("discriminator", d_learning_rate), ("generator", g_learning_rate)):
        advice += _rate_advice(rate, steps, 1e-4, 2e-2,
                               f"the {name} barely moves from its random start.",
                               f"the {name} overshoots and the game oscillates instead of "
                               "settling.")
    if g_learning_rate > 2 * d_learning_rate:
        advice.append("the generator learns faster than the critic: that is the mode-collapse "
                      "experiment above. Let the critic keep up.")
    if covered < 8 and not advice:
        advice.append(f"{covered} of 8 modes covered: the generator collapsed onto part of the "
                      "ring. Let the critic keep up, or give both networks more room.")
    return advice or ["most samples must sit on a mode, not on the paths between modes: compare "
                      "a few learning rates and widths, and look at the scatter plot."]


# ---- 06_beyond_gan ----
# The design task of 06: a generator that turns a digit's edge map into the digit (pix2pix's
# task, trained here with its L1 term only), under a weight budget, graded on its mean L1 error
# on held-out pairs. Images are in [-1, 1] as in the notebook; errors are reported with pixels
# in [0, 1] (half the error in [-1, 1] units), like the notebook's figures.

TRANSLATOR = Budget(parameters=50_000, epochs=3, batch_size=32, train_images=2000)
TRANSLATOR_TARGET = 0.048  # mean |G(x) - y| on held-out pairs, pixels in [0, 1], outputs clipped
TRANSLATOR_HELD_OUT = 500  # held-out pairs the error is measured on


def translator_l1(outputs, digits) -> float:
    """The mean absolute error of `outputs` (clipped to [-1, 1]) against `digits`, both in
    [-1, 1], reported with pixels in [0, 1]; inf when the outputs are not finite."""
    outputs = np.asarray(outputs, np.float64)
    if not np.all(np.isfinite(outputs)):
        return float("inf")
    return float(np.mean(np.abs(np.clip(outputs, -1.0, 1.0) - np.asarray(digits, np.float64))) / 2)


def translator_problems(generator, budget: Budget = TRANSLATOR) -> list[str]:
    """Why `generator` is not a valid translator design: a Keras model of standard layers from
    edge maps (None, 28, 28, 1) to digits (None, 28, 28, 1), within the weight budget."""
    return network_problems(
        {"generator": generator},
        {"generator's input (the edge map)": ("generator", "inputs", (None, 28, 28, 1)),
         "generator's output (the digit)": ("generator", "outputs", (None, 28, 28, 1))}, budget)


def translator_design_parts(result) -> tuple:
    """(generator, learning_rate) from what design_translator returned, or AssertionError saying
    what it should return."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError("design_translator: expected a tuple (generator, learning_rate); got "
                             f"{type(result).__name__}"
                             + (f" of {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return tuple(result)


def translator_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(training edge maps, training digits, validation edge maps, validation digits) for trying
    a design in a notebook, in [-1, 1]: the first `TRANSLATOR.train_images` digits of MNIST's
    training split and the `TRANSLATOR_HELD_OUT` after them (the grader draws its own pairs)."""
    import contextlib
    import io

    from common import datasets

    with contextlib.redirect_stdout(io.StringIO()):
        (pool, _), _ = datasets.load_mnist()
    size = TRANSLATOR.train_images
    train = pool[:size] * 2.0 - 1.0
    validation = pool[size:size + TRANSLATOR_HELD_OUT] * 2.0 - 1.0
    return (datasets.edge_map(train), train, datasets.edge_map(validation), validation)


def try_translator(design, edges_train, digits_train, edges_validation, digits_validation,
                   seed: int = 0, budget: Budget = TRANSLATOR) -> dict:
    """Train a design as the grader does (L1 loss only, Adam at the design's learning rate,
    `budget.epochs` epochs in batches of `budget.batch_size`; the generator rebuilt from its
    configuration) on the first `budget.train_images` pairs, and measure it on the validation
    pairs: {"l1", "parameters", "seconds", "outputs", "generator"}."""
    import keras

    generator, learning_rate = translator_design_parts(design())
    problems = translator_problems(generator, budget) + learning_rate_problems(learning_rate)
    if problems:
        raise AssertionError("the design breaks the rules: " + "; ".join(problems))
    keras.utils.set_random_seed(int(seed))
    generator = rebuild(generator.to_json())
    generator.compile(optimizer=keras.optimizers.Adam(float(learning_rate)),
                      loss="mean_absolute_error")
    size = budget.train_images
    start = time.perf_counter()
    generator.fit(np.asarray(edges_train, np.float32)[:size],
                  np.asarray(digits_train, np.float32)[:size], epochs=budget.epochs,
                  batch_size=budget.batch_size, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    outputs = np.asarray(generator.predict(np.asarray(edges_validation, np.float32),
                                           batch_size=250, verbose=0), np.float32)
    return {"l1": translator_l1(outputs, digits_validation), "parameters": parameters(generator),
            "seconds": seconds, "outputs": np.clip(outputs, -1.0, 1.0), "generator": generator}


def _has_skip(generator) -> bool:
    """Whether some layer of the model merges two paths (Concatenate, Add, ...)."""
    merging = {"Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum"}
    return any(type(layer).__name__ in merging for layer in generator.layers)


def translator_advice(generator, learning_rate, budget: Budget = TRANSLATOR) -> list[str]:
    """What usually holds a translator back, as far as its configuration shows (for a failure
    message: the causes to look at first)."""
    advice = []
    activations = _activations(generator)
    if not [a for a in activations if a != "linear"]:
        advice.append("every layer is linear: a linear filter can thicken the outline but cannot "
                      "decide which side of it is ink. Give the hidden layers a nonlinear "
                      "activation.")
    last = activations[-1:] or ["linear"]
    if last[0] in ("sigmoid", "hard_sigmoid", "relu", "softplus", "exponential"):
        advice.append(f"the output activation ({last[0]}) cannot go below 0, but the digits are in "
                      "[-1, 1] and the background, most of every image, is -1: use a linear "
                      "output (or one with that range).")
    if last[0] in ("tanh", "hard_tanh", "soft_sign"):
        advice.append(f"a {last[0]} output saturates at the background's -1 early in training, "
                      "and its gradient then vanishes (the notebook's note on the U-Net's last "
                      "layer): try a linear output.")
    used = parameters(generator)
    if used < 1000:
        advice.append(f"the generator has {used:,} weights: too few to tell a stroke's inside "
                      "from its outside (try a few convolutions of 16 to 32 channels).")
    advice += _rate_advice(learning_rate, budget.steps, 3e-4, 1e-2,
                           "Adam barely leaves the random start (try 1e-3 to 3e-3).",
                           "the error may jump around instead of falling.")
    if not _has_skip(generator) and any(
            getattr(layer, "strides", (1, 1)) != (1, 1) for layer in generator.layers):
        advice.append("the network shrinks the image and grows it back without a skip "
                      "connection: the outline's exact position must then pass through the "
                      "bottleneck. A skip (Concatenate or Add of an earlier map) or a network "
                      "that keeps the full resolution keeps it.")
    return advice or ["compare a few widths, depths and learning rates: the check prints each "
                      "try's error against the target."]


# ---- 02_vae ----
# The design task of 02: a VAE for binarised digits whose held-out negative ELBO (nats per image)
# must get under a bound after a short, fixed training. The notebook's check trains a design with
# the student's own VAE class (Task 5); the grader trains it with its own loop (the hidden
# tests' trials.py). Nothing here computes a term of the ELBO.

VAE_BUDGET = Budget(parameters=500_000, epochs=10, batch_size=64, train_images=3000)
VAE_MAX_LATENT = 16  # latent dimensions a design may use (1 to 16)
VAE_TARGET = 121.0  # nats per image: the held-out negative ELBO must be at most this


def vae_problems(encoder, decoder, budget: Budget = VAE_BUDGET,
                 max_latent: int = VAE_MAX_LATENT) -> list[str]:
    """Why (encoder, decoder) is not a valid VAE design: the encoder maps images (None, 28, 28,
    1) to the two outputs [z_mean, z_log_var], each (None, k) with 1 <= k <= max_latent; the
    decoder maps codes (None, k) to pixel probabilities (None, 28, 28, 1); standard layers
    only; within the weight budget. Empty when it is valid."""
    networks = {"encoder": encoder, "decoder": decoder}
    problems = _layer_problems(networks)
    if problems:
        return problems  # not models, or layers outside the rules: their shapes can wait
    problems = _shape_problems(
        networks, {"encoder's input": ("encoder", "inputs", (None, 28, 28, 1)),
                   "decoder's output": ("decoder", "outputs", (None, 28, 28, 1))}, budget)
    outputs = [tuple(t.shape) for t in encoder.outputs]
    latent = outputs[0][-1] if outputs and len(outputs[0]) == 2 else None
    if len(outputs) != 2 or latent is None or any(s != (None, latent) for s in outputs):
        problems.append(f"the encoder must have two outputs [z_mean, z_log_var] of the same "
                        f"shape (None, latent_dim), not "
                        f"{outputs[0] if len(outputs) == 1 else outputs}")
    elif not 1 <= latent <= max_latent:
        problems.append(f"the latent size is {latent}; a design may use 1 to {max_latent} "
                        "latent dimensions")
    codes = [tuple(t.shape) for t in decoder.inputs]
    if latent is not None and codes != [(None, latent)]:
        problems.append(f"the decoder's input must have the codes' shape (None, {latent}), not "
                        f"{codes[0] if len(codes) == 1 else codes}")
    return problems


def vae_digits() -> tuple[np.ndarray, np.ndarray]:
    """(training digits, validation digits), binarised, for trying a design in a notebook: the
    first `VAE_BUDGET.train_images` images of MNIST's training split and the 1,000 after them
    (the grader draws its own, and holds its test digits out)."""
    import contextlib
    import io

    from common import datasets

    with contextlib.redirect_stdout(io.StringIO()):
        (pool, _), _ = datasets.load_mnist()
    size = VAE_BUDGET.train_images
    return datasets.binarize(pool[:size]), datasets.binarize(pool[size:size + 1000])


def try_vae(design, VAE, x_train, x_validation, seed: int = 0, budget: Budget = VAE_BUDGET,
            repeats: int = 4) -> dict:
    """Train a design under the budget with your own `VAE` class (Task 5: beta = 1, Adam at the
    design's learning rate) on `x_train`, and measure it on `x_validation` with the same class
    (`evaluate`: the batch mean of reconstruction + KL, through one sampled code per image,
    averaged over `repeats` passes): {"nelbo", "reconstruction", "kl", "latent_dim",
    "parameters", "seconds", "vae"}. `design()` returns (encoder, decoder, learning_rate); the
    networks are rebuilt from their configuration, untrained, as the grader does."""
    import keras

    encoder, decoder, learning_rate = design()
    problems = vae_problems(encoder, decoder, budget) + learning_rate_problems(learning_rate)
    if problems:
        raise AssertionError("the design breaks the rules: " + "; ".join(problems))
    keras.utils.set_random_seed(int(seed))
    encoder, decoder = rebuild(encoder.to_json()), rebuild(decoder.to_json())
    vae = VAE(encoder, decoder, beta=1.0)
    vae.compile(optimizer=keras.optimizers.Adam(float(learning_rate)))
    start = time.perf_counter()
    vae.fit(np.asarray(x_train, np.float32)[:budget.train_images], epochs=budget.epochs,
            batch_size=budget.batch_size, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    logs = [vae.evaluate(np.asarray(x_validation, np.float32), batch_size=500, verbose=0,
                         return_dict=True) for _ in range(repeats)]
    mean = {name: float(np.mean([float(log[name]) for log in logs]))
            for name in ("loss", "reconstruction_loss", "kl_loss")}
    return {"nelbo": mean["loss"], "reconstruction": mean["reconstruction_loss"],
            "kl": mean["kl_loss"], "latent_dim": int(encoder.outputs[0].shape[-1]),
            "parameters": parameters(encoder, decoder), "seconds": seconds, "vae": vae}


def vae_advice(encoder, decoder, learning_rate, budget: Budget = VAE_BUDGET) -> list[str]:
    """What usually holds a VAE design back, as far as its configuration shows (for a failure
    message: the causes to look at first)."""
    advice = []
    last = _activations(decoder)[-1:] or ["linear"]
    if last[0] != "sigmoid":
        advice.append("the decoder must end with pixel probabilities: a sigmoid last. Without it "
                      "the outputs are logits, and the loss (on probabilities, limited to "
                      "[1e-7, 1 - 1e-7]) gets no gradient from most pixels.")
    hidden = [a for a in _activations(encoder)[:-2] + _activations(decoder)[:-1]
              if a != "linear"]
    if not hidden:
        advice.append("every hidden layer is linear: the decoder is then one logistic layer of "
                      "a linear function of the code. Give the hidden layers a nonlinear "
                      "activation (relu, elu).")
    try:
        latent = int(encoder.outputs[0].shape[-1])
    except (AttributeError, IndexError, TypeError):
        latent = VAE_MAX_LATENT
    if latent < VAE_MAX_LATENT // 2:
        advice.append(f"a code of {latent} numbers is a narrow bottleneck: the KL term switches "
                      "off the dimensions a design does not need, so more of them (up to "
                      f"{VAE_MAX_LATENT}) costs little and can carry more of each digit.")
    advice += _weights_advice(parameters(encoder, decoder), budget)
    advice += _rate_advice(learning_rate, budget.steps, 2e-3, 2e-2,
                           "Adam is still far from its best when the budget ends (try 2e-3 to "
                           "5e-3).", "the loss may jump around instead of falling.")
    return advice or ["compare a few widths, latent sizes and learning rates: the check prints "
                      "each try's negative ELBO against the target."]
