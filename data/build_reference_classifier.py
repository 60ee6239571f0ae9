"""Train the reference MNIST classifier used by common.metrics and write its weights to data/.

    python data/build_reference_classifier.py           # train (about 2-4 minutes on 2 CPU cores)
    python data/build_reference_classifier.py --check   # only evaluate the committed weights

Trains `common.metrics.build_classifier_model()` on the bundled MNIST training split
(data/mnist_5k.npz: 4,000 digits) with seeded shifts of up to 2 pixels as augmentation, plus
"outlier exposure": each epoch also shows 2,000 fresh non-digits (uniform noise, smoothed noise
blobs, digits with shuffled pixels or shuffled 7x7 tiles) with a uniform target over the 10
classes, so that noise and scrambled strokes get low confidence instead of a confident "8".
Deterministic ops and fixed seeds; then writes data/reference_classifier.weights.h5, records
its sha256 in data/SHA256SUMS and prints its accuracy on the bundled test split (1,000 digits).
Update the classifier's section of data/README.md with the printed figures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
DATA_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DATA_DIR.parent))  # the pack's `common`, also when not installed

import numpy as np  # noqa: E402

from common import datasets, metrics  # noqa: E402

SEED = 20240101
EPOCHS = 30
BATCH_SIZE = 64
MAX_SHIFT = 2  # pixels, each direction
OUTLIERS_PER_EPOCH = 2000
OUTLIER_KINDS = ("uniform noise", "smoothed noise", "shuffled pixels", "shuffled tiles")


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by a random whole-pixel offset in [-MAX_SHIFT, MAX_SHIFT]^2, zero fill."""
    padded = np.pad(images, ((0, 0), (MAX_SHIFT, MAX_SHIFT), (MAX_SHIFT, MAX_SHIFT), (0, 0)))
    rows, cols = rng.integers(0, 2 * MAX_SHIFT + 1, size=(2, len(images)))
    out = np.empty_like(images)
    for row in range(2 * MAX_SHIFT + 1):
        for col in range(2 * MAX_SHIFT + 1):
            chosen = (rows == row) & (cols == col)
            out[chosen] = padded[chosen, row:row + 28, col:col + 28]
    return out


def outliers(kind: str, digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Non-digit images in [0, 1], as many as `digits`, of one kind (see OUTLIER_KINDS)."""
    from scipy import ndimage

    n = len(digits)
    if kind == "uniform noise":
        return rng.uniform(size=digits.shape).astype(np.float32) * rng.uniform(0.2, 1.0, (
            n, 1, 1, 1)).astype(np.float32)
    if kind == "smoothed noise":
        blobs = ndimage.gaussian_filter(rng.standard_normal(digits.shape), sigma=(0, 1.5, 1.5, 0))
        blobs = (blobs - blobs.mean(axis=(1, 2, 3), keepdims=True)) / blobs.std(
            axis=(1, 2, 3), keepdims=True)
        threshold = rng.uniform(0.0, 1.5, (n, 1, 1, 1))
        return np.clip(blobs - threshold, 0.0, 1.0).astype(np.float32)
    if kind == "shuffled pixels":
        flat = digits.reshape(n, -1)
        return np.take_along_axis(flat, rng.permuted(np.tile(np.arange(784), (n, 1)), axis=1),
                                  axis=1).reshape(digits.shape)
    if kind == "shuffled tiles":
        tiles = digits.reshape(n, 4, 7, 4, 7, 1).transpose(0, 1, 3, 2, 4, 5).reshape(n, 16, 7, 7)
        order = rng.permuted(np.tile(np.arange(16), (n, 1)), axis=1)
        tiles = np.take_along_axis(tiles, order[:, :, None, None], axis=1)
        return tiles.reshape(n, 4, 4, 7, 7).transpose(0, 1, 3, 2, 4).reshape(digits.shape)
    raise ValueError(kind)


def outlier_batch(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An equal mix of every outlier kind, made from `digits` (which it does not modify)."""
    parts = np.array_split(digits, len(OUTLIER_KINDS))
    return np.concatenate([outliers(kind, part, rng) for kind, part in zip(OUTLIER_KINDS, parts)])


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images whose most likely class is the label."""
    return float((model.predict(x, batch_size=500, verbose=0).argmax(axis=1) == y).mean())


def train() -> Path:
    """Train deterministically and save the weights; returns their path."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(source="bundled")
    rng = np.random.default_rng(SEED)
    model = metrics.build_classifier_model()
    steps = EPOCHS * ((len(x_train) + OUTLIERS_PER_EPOCH) // BATCH_SIZE)
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy")
    targets = np.concatenate([np.eye(10, dtype=np.float32)[y_train],
                              np.full((OUTLIERS_PER_EPOCH, 10), 0.1, np.float32)])
    for epoch in range(EPOCHS):
        sources = x_train[rng.choice(len(x_train), OUTLIERS_PER_EPOCH, replace=False)]
        x_epoch = np.concatenate([shifted(x_train, rng), outlier_batch(sources, rng)])
        order = rng.permutation(len(x_epoch))
        history = model.fit(x_epoch[order], targets[order], batch_size=BATCH_SIZE, epochs=1,
                            shuffle=False, verbose=0)
        if epoch % 5 == 4 or epoch == EPOCHS - 1:
            print(f"epoch {epoch + 1:2d}/{EPOCHS}: loss {history.history['loss'][0]:.4f}, "
                  f"test accuracy {accuracy(model, x_test, y_test):.4f}", flush=True)
    path = DATA_DIR / metrics.CLASSIFIER_FILE
    lean = metrics.build_classifier_model()  # Uncompiled: the file holds no optimizer state.
    lean.set_weights(model.get_weights())
    lean.save_weights(str(path))
    return path


def write_sum(path: Path) -> str:
    """Record the file's sha256 in data/SHA256SUMS, keeping the other entries."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums_file = DATA_DIR / "SHA256SUMS"
    entries = dict(reversed(line.split()) for line in sums_file.read_text().splitlines()
                   if line.strip())
    entries[path.name] = digest
    sums_file.write_text("".join(f"{d}  {n}\n" for n, d in sorted(entries.items())))
    return digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only verify and evaluate the committed weights")
    args = parser.parse_args()
    if not args.check:
        path = train()
        digest = write_sum(path)
        print(f"{path.name}: {path.stat().st_size:,} bytes, sha256 {digest}")
    model = metrics.reference_classifier()  # Checks the sha256 recorded in SHA256SUMS.
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(source="bundled")
    print(f"accuracy: bundled train split {accuracy(model, x_train, y_train):.4f}, "
          f"bundled test split {accuracy(model, x_test, y_test):.4f} "
          f"({len(x_test):,} digits), {model.count_params():,} parameters")
    rng = np.random.default_rng(SEED + 1)  # Fresh outliers made from test digits.
    for kind in OUTLIER_KINDS:
        probabilities = model.predict(outliers(kind, x_test, rng), batch_size=500, verbose=0)
        print(f"mean confidence on {kind} (from test digits): "
              f"{probabilities.max(axis=1).mean():.3f}")


if __name__ == "__main__":
    main()
