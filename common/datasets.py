"""Datasets, offline first: bundled subsets in data/, Keras' full sets when online."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import re
import socket
from pathlib import Path

import numpy as np

from common import modes

SOURCES = ("auto", "bundled", "keras")
DOWNLOAD_TIMEOUT_SECONDS = 10
BUNDLED_FILES = {"MNIST": "mnist_5k.npz", "Fashion-MNIST": "fashion_mnist_12k.npz"}
REBUILD_HINT = ("Fix: restore it with `git checkout -- data/` or rebuild it with "
                "`python data/build_data.py` (see data/README.md).")

_failed_downloads: set[str] = set()  # Try each download once per session, not on every call.


class DataIntegrityError(RuntimeError):
    """A bundled data file is missing or does not match its recorded sha256 sum."""


def data_dir() -> Path:
    """Folder of the bundled data: COURSE_DATA_DIR if set, else the pack's data/."""
    return Path(os.environ.get("COURSE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))


def describe_source() -> str:
    """One phrase saying where `source="auto"` will load data from."""
    if modes.offline():
        return "bundled subsets (offline)"
    return "Keras full datasets if cached or downloadable, else bundled subsets"


@functools.cache
def _verified_sha256(path: Path, size: int, mtime: float) -> str:
    # Keyed on size and mtime so an edited file is hashed again.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expected_sums() -> dict[str, str]:
    sums_file = data_dir() / "SHA256SUMS"
    if not sums_file.exists():
        raise DataIntegrityError(f"{sums_file} is missing, so bundled data cannot be verified. "
                                 + REBUILD_HINT)
    pairs = (line.split() for line in sums_file.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def verify_bundled(filename: str) -> Path:
    """Path of a bundled file after checking its sha256; a clear error if missing or corrupt."""
    path = data_dir() / filename
    expected = _expected_sums().get(filename)
    if expected is None:
        raise DataIntegrityError(f"{filename} has no entry in {data_dir() / 'SHA256SUMS'}. "
                                 + REBUILD_HINT)
    if not path.exists():
        raise DataIntegrityError(f"Bundled data file {path} is missing. " + REBUILD_HINT)
    stat = path.stat()
    actual = _verified_sha256(path, stat.st_size, stat.st_mtime)
    if actual != expected:
        raise DataIntegrityError(
            f"Bundled data file {path} is corrupt: sha256 {actual[:12]}… but expected "
            f"{expected[:12]}…. " + REBUILD_HINT)
    return path


def _load_bundled(name: str):
    with np.load(verify_bundled(BUNDLED_FILES[name])) as arrays:
        return ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))


def _load_keras(name: str):
    import keras

    loader = {"MNIST": keras.datasets.mnist,
              "Fashion-MNIST": keras.datasets.fashion_mnist}[name].load_data
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)  # Keras' downloader sets none itself.
    try:
        # Keras prints the download's address and a progress bar; _load's one line says what
        # was used (and why, when the download failed).
        with contextlib.redirect_stdout(io.StringIO()):
            return loader()
    finally:
        socket.setdefaulttimeout(previous)


_FAILURES = [  # (pattern in the error text, what it means for a student)
    (r"Name or service not known|name resolution|nodename nor servname|getaddrinfo",
     "no internet connection (the download server's name could not be looked up)"),
    (r"timed out|timeout", "the download server did not answer in time"),
    (r"Network is unreachable|No route to host|Connection refused|Connection reset",
     "no network connection to the download server"),
    (r"CERTIFICATE_VERIFY_FAILED|SSL", "a secure connection could not be made (a proxy or "
                                       "firewall may be in the way)"),
    (r"HTTP Error (\d+)", r"the download server answered HTTP \1"),
    (r"No space left on device", "the disk is full"),
]


def download_failure(error: BaseException) -> str:
    """Why a download failed, in words a student understands (never cut mid-word)."""
    text = " ".join(str(error).split()) or type(error).__name__
    for pattern, meaning in _FAILURES:
        found = re.search(pattern, text, flags=re.IGNORECASE)
        if found:
            return found.expand(meaning)
    return text if len(text) <= 100 else text[:100].rsplit(" ", 1)[0] + " …"


def _prepare(images: np.ndarray, labels: np.ndarray):
    images = images.astype(np.float32).reshape(-1, 28, 28, 1) / np.float32(255.0)
    return images, labels.astype(np.int64)


def _load(name: str, source: str):
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is not one of {', '.join(SOURCES)}.")
    note = ""
    if source == "keras" or (source == "auto" and not modes.offline()
                             and name not in _failed_downloads):
        try:
            raw, used = _load_keras(name), f"Keras full {name}"
        except Exception as error:  # Any network or cache failure: fall back when allowed.
            if source == "keras":
                raise RuntimeError(f"Could not load {name} through Keras ({error}). Use "
                                   "source='bundled' to work offline.") from error
            _failed_downloads.add(name)
            raw, used = _load_bundled(name), f"bundled {name} subset"
            note = f" (download failed: {download_failure(error)}; using bundled data)"
    else:
        raw, used = _load_bundled(name), f"bundled {name} subset"
        if source == "auto":
            note = " (offline)" if modes.offline() else " (download failed earlier)"
    (x_train, y_train), (x_test, y_test) = raw
    print(f"{name}: {used}{note}, {len(x_train):,} train / {len(x_test):,} test images")
    return _prepare(x_train, y_train), _prepare(x_test, y_test)


def load_mnist(source: str = "auto"):
    """MNIST as `(x_train, y_train), (x_test, y_test)`: float32 (N, 28, 28, 1) in [0, 1],
    int64 labels. `source`: "auto" (Keras when online, else bundled), "bundled" or "keras"."""
    return _load("MNIST", source)


def load_fashion_mnist(source: str = "auto"):
    """Fashion-MNIST, same contract as `load_mnist`."""
    return _load("Fashion-MNIST", source)


def binarize(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Pixels above `threshold` become 1.0, the rest 0.0 (float32, same shape)."""
    return (np.asarray(x) > threshold).astype(np.float32)


def edge_map(images) -> np.ndarray:
    """Edge maps of digits in [-1, 1] (ink > 0): the digit's pixels with a background pixel
    among their 4 neighbours are 1, the rest -1 (06's pix2pix pairs). (N, 28, 28, 1) float32."""
    ink = np.pad(np.asarray(images, np.float32)[..., 0] > 0.0, ((0, 0), (1, 1), (1, 1)))
    interior = (ink[:, 1:-1, 1:-1] & ink[:, :-2, 1:-1] & ink[:, 2:, 1:-1] & ink[:, 1:-1, :-2]
                & ink[:, 1:-1, 2:])
    return (ink[:, 1:-1, 1:-1] & ~interior)[..., None].astype(np.float32) * 2.0 - 1.0


def make_dataset(x, batch_size: int, shuffle: bool = True, seed: int | None = None,
                 drop_remainder: bool = False):
    """A `tf.data.Dataset` of batches of `x` (an array or a tuple of arrays), shuffled each
    epoch with `seed`, batched and prefetched."""
    import tensorflow as tf

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    dataset = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        length = len(x[0]) if isinstance(x, tuple) else len(x)
        dataset = dataset.shuffle(length, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(
        tf.data.AUTOTUNE)


def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The (modes, 2) centres of the toy ring mixture, evenly spaced on a circle."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def toy_ring(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05,
             seed: int | None = None) -> np.ndarray:
    """`n` float32 points from a 2-D mixture of `modes` equal Gaussians on a circle
    (the classic mode-collapse benchmark for GANs)."""
    rng = np.random.default_rng(seed)
    component = rng.integers(modes, size=n)
    points = ring_centers(modes, radius)[component] + rng.normal(0.0, std, size=(n, 2))
    return points.astype(np.float32)
