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


def autoencoder_problems(encoder, decoder, code_size: int,
                         budget: Budget = AUTOENCODER) -> list[str]:
    """Why (encoder, decoder) is not a valid autoencoder design: shapes, budget, layers."""
    problems = []
    for role, model in (("encoder", encoder), ("decoder", decoder)):
        if not hasattr(model, "to_json"):
            return [f"the {role} is not a Keras model (got {type(model).__name__})"]
        problems += [f"{role}: {p}" for p in config_problems(model.to_json())]
    if problems:
        return problems
    shapes = {"encoder input": (encoder.inputs, (None, 28, 28, 1)),
              "encoder output (the code)": (encoder.outputs, (None, code_size)),
              "decoder input": (decoder.inputs, (None, code_size)),
              "decoder output": (decoder.outputs, (None, 28, 28, 1))}
    for what, (tensors, expected) in shapes.items():
        got = [tuple(t.shape) for t in tensors]
        if got != [expected]:
            problems.append(f"the {what} must have shape {expected}, not "
                            f"{got[0] if len(got) == 1 else got}")
    used = parameters(encoder, decoder)
    if used > budget.parameters:
        problems.append(f"the design has {used:,} weights; the budget is {budget.parameters:,}")
    return problems


def train_autoencoder(encoder, decoder, images, learning_rate: float, budget: Budget = AUTOENCODER,
                      seed: int = 0, callbacks=()):
    """Train encoder and decoder together to reconstruct `images` (the first
    `budget.train_images`): mean squared error, Adam at `learning_rate`, `budget.epochs` epochs
    of batches of `budget.batch_size`, shuffled by `seed`. Returns the Keras history."""
    import keras

    if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate)
            and 0 < learning_rate <= 1):
        raise ValueError(f"the learning rate must be a number in (0, 1]; got {learning_rate!r}")
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
    used = parameters(encoder, decoder)
    if used < budget.parameters // 3:
        advice.append(f"the design uses {used:,} of its {budget.parameters:,} weights: wider "
                      "hidden layers learn more in a few epochs.")
    steps = budget.epochs * math.ceil(budget.train_images / budget.batch_size)
    if isinstance(learning_rate, (int, float)) and learning_rate < 3e-4:
        advice.append(f"training lasts {steps} steps: with a learning rate of {learning_rate:g} "
                      "Adam barely leaves the random start (try 1e-3 to 3e-3).")
    if isinstance(learning_rate, (int, float)) and learning_rate > 2e-2:
        advice.append(f"a learning rate of {learning_rate:g} is large for Adam: the error may "
                      "jump around instead of falling.")
    return advice or ["compare a few widths and learning rates: the check prints each try's "
                      "error against PCA's."]


def try_autoencoder(design, code_size: int, x_train, x_validation, seed: int = 0,
                    budget: Budget = AUTOENCODER) -> dict:
    """Train a design the way the grader does, on `x_train`, and measure it on `x_validation`:
    {"mse", "parameters", "seconds", "reconstructions"}. `design(code_size)` returns
    (encoder, decoder, learning_rate); the networks are rebuilt from their configuration."""
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
            "seconds": seconds, "reconstructions": reconstructions}
