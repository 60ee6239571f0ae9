"""common.datasets: bundled data, checksums, sources, offline behaviour, tf.data, toy ring."""

import shutil

import numpy as np
import pytest

import common
from common import datasets


@pytest.mark.parametrize("loader, sizes", [(datasets.load_mnist, (4000, 1000)),
                                           (datasets.load_fashion_mnist, (10000, 2000))])
def test_loaders_return_float_images_and_int_labels(loader, sizes, capsys):
    (x_train, y_train), (x_test, y_test) = loader()
    assert "bundled" in capsys.readouterr().out
    for x, y, n in ((x_train, y_train, sizes[0]), (x_test, y_test, sizes[1])):
        assert x.shape == (n, 28, 28, 1) and x.dtype == np.float32
        assert 0.0 <= x.min() and x.max() == 1.0
        assert y.shape == (n,) and np.issubdtype(y.dtype, np.integer)
        assert np.bincount(y).tolist() == [n // 10] * 10, "stratified: equal class counts"


def test_bundled_prefix_is_balanced():
    """Notebooks take x_train[:512] in test mode; every class must be in that prefix."""
    (_, y_train), _ = datasets.load_mnist("bundled")
    assert np.bincount(y_train[:512], minlength=10).min() >= 30


def test_train_and_test_are_disjoint():
    (x_train, _), (x_test, _) = datasets.load_mnist("bundled")
    train = {row.tobytes() for row in (x_train * 255).astype(np.uint8)}
    assert not any(row.tobytes() in train for row in (x_test * 255).astype(np.uint8))


def test_unknown_source_is_a_clear_error():
    with pytest.raises(ValueError, match="'web'.*auto, bundled, keras"):
        datasets.load_mnist(source="web")


def test_auto_never_downloads_offline(monkeypatch, capsys):
    def no_network(name):
        raise AssertionError("must not try Keras offline")

    monkeypatch.setattr(datasets, "_load_keras", no_network)
    datasets.load_mnist()
    assert "(offline)" in capsys.readouterr().out


def test_auto_falls_back_once_when_the_download_fails(monkeypatch, capsys):
    calls = []

    def failing(name):
        calls.append(name)
        raise OSError("no route to host")

    monkeypatch.setenv("COURSE_MODE", "demo")
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setattr(datasets, "_load_keras", failing)
    monkeypatch.setattr(datasets, "_failed_downloads", set())
    (x_train, _), _ = datasets.load_mnist()
    assert x_train.shape == (4000, 28, 28, 1)
    assert ("download failed: no network connection to the download server; using bundled "
            "data" in capsys.readouterr().out)
    datasets.load_mnist()
    assert calls == ["MNIST"], "the download is tried once per session"


def test_a_failed_download_prints_one_line_and_no_address(monkeypatch, capsys):
    """Keras' downloader prints the file's address before failing; the data cell shows only
    what was used and why (issue 29)."""
    import keras

    def downloading():
        print("Downloading data from https://example.invalid/mnist.npz")
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setenv("COURSE_MODE", "demo")
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", downloading)
    monkeypatch.setattr(datasets, "_failed_downloads", set())
    datasets.load_mnist()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "https://" not in out, out
    assert "download failed: no internet connection" in out


def test_keras_source_uses_keras_and_reports_it(monkeypatch, capsys):
    fake = ((np.zeros((6, 28, 28), np.uint8), np.arange(6)),
            (np.full((2, 28, 28), 255, np.uint8), np.arange(2)))
    monkeypatch.setattr(datasets, "_load_keras", lambda name: fake)
    (x_train, y_train), (x_test, _) = datasets.load_mnist(source="keras")
    assert x_train.shape == (6, 28, 28, 1) and x_test.max() == 1.0
    assert "Keras full MNIST" in capsys.readouterr().out


def test_keras_source_failure_says_how_to_work_offline(monkeypatch):
    def failing(name):
        raise OSError("offline")

    monkeypatch.setattr(datasets, "_load_keras", failing)
    with pytest.raises(RuntimeError, match="source='bundled'"):
        datasets.load_mnist(source="keras")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    for name in ("SHA256SUMS", "mnist_5k.npz"):
        shutil.copy(datasets.data_dir() / name, tmp_path / name)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_corrupt_file_names_the_file_and_the_fix(data_copy):
    path = data_copy / "mnist_5k.npz"
    content = bytearray(path.read_bytes())
    content[1000] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(datasets.DataIntegrityError, match="mnist_5k.npz is corrupt.*build_data"):
        datasets.load_mnist("bundled")


def test_missing_file_names_the_file_and_the_fix(data_copy):
    (data_copy / "mnist_5k.npz").unlink()
    with pytest.raises(datasets.DataIntegrityError, match="mnist_5k.npz is missing.*git checkout"):
        datasets.load_mnist("bundled")


def test_data_readme_records_every_checksum():
    readme = (datasets.data_dir() / "README.md").read_text()
    for line in (datasets.data_dir() / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert digest in readme and name in readme, f"data/README.md lacks {name}'s sha256"


def test_binarize():
    x = np.array([[0.0, 0.5, 0.51, 1.0]])
    out = datasets.binarize(x)
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 1, 1]]
    assert datasets.binarize(x, threshold=0.2).tolist() == [[0, 1, 1, 1]]


def test_make_dataset_batches_shuffles_and_repeats_with_seed():
    x = np.arange(10, dtype=np.float32)
    batches = [b.numpy() for b in datasets.make_dataset(x, batch_size=4, seed=1)]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == x.tolist()
    assert np.concatenate(batches).tolist() != x.tolist(), "shuffled"
    again = [b.numpy() for b in datasets.make_dataset(x, batch_size=4, seed=1)]
    assert all((a == b).all() for a, b in zip(batches, again)), "same seed, same order"
    ordered = datasets.make_dataset(x, batch_size=4, shuffle=False, drop_remainder=True)
    assert [b.numpy().tolist() for b in ordered] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    pairs = next(iter(datasets.make_dataset((x, x * 2), batch_size=3, seed=0)))
    assert (pairs[1].numpy() == 2 * pairs[0].numpy()).all(), "pairs stay aligned"
    with pytest.raises(ValueError, match="batch_size"):
        datasets.make_dataset(x, batch_size=0)


def test_toy_ring_points_sit_near_evenly_spaced_centres():
    points = datasets.toy_ring(4000, modes=8, radius=2.0, std=0.05, seed=0)
    centers = datasets.ring_centers(8, 2.0)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    distances = np.linalg.norm(points[:, None] - centers[None], axis=-1)
    assert distances.min(axis=1).max() < 0.4
    assert np.bincount(distances.argmin(axis=1), minlength=8).min() > 400, "all modes used"
    assert np.allclose(np.linalg.norm(centers, axis=1), 2.0)
    assert np.array_equal(points, datasets.toy_ring(4000, seed=0)), "seeded"


def test_package_exports():
    assert common.setup is common.runtime.setup and common.budget is common.runtime.budget
    for module in ("datasets", "plotting", "checks", "runtime"):
        assert hasattr(common, module)


@pytest.mark.parametrize("error, meaning", [
    (Exception("URL fetch failure on https://example.invalid/tensorflow/tf-keras-datasets/"
               "mnist.npz: None -- [Errno -2] Name or service not known"),
     "no internet connection (the download server's name could not be looked up)"),
    (TimeoutError("timed out"), "the download server did not answer in time"),
    (Exception("URL fetch failure: 403 -- HTTP Error 403: Forbidden"),
     "the download server answered HTTP 403"),
    (ValueError("a strange failure " + "with many words " * 20), None),
])
def test_download_failure_is_said_in_words(error, meaning):
    said = datasets.download_failure(error)
    if meaning:
        assert said == meaning
    else:  # unknown: its own words, cut between words
        assert said.startswith("a strange failure") and said.endswith("words …")
        assert len(said) <= 102
