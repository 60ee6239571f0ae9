"""Verdicts of 01_autoencoders' hidden tests: the grader side (see grading/verdicts.py).
`probe_inputs` draws each class run's inputs from its seed, beside the visible tests' fixed
cases; each verdict redoes the visible checks of its cell on the probe's records, then the hidden
ones, and checks cases drawn from the seed, so a record of another class run fails.

Verdicts compare with contracts computed here in NumPy float64 from the inputs (PCA by SVD, the
closed forms of the penalties and of interpolation, the Jacobians of the probe encoders), not
with one architecture's numbers: every correct network and noise generator passes."""

import contextlib
import io

import numpy as np

from common import checks, datasets, design
from grading.verdicts import trial_outcome

from .probes import model_names


def _raised(got, name: str, hint: str) -> None:
    """Fail with the student's error and a hint when computing `name` raised."""
    if got.error(name):
        raise AssertionError(f"{name}: your code raised {got.error(name)} Hint: {hint}")


def _shape_text(shape) -> str:
    """(None, 28, 28, 1) from a recorded shape, -1 standing for None."""
    dims = ["None" if int(d) < 0 else str(int(d)) for d in np.ravel(shape)]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


def _permutation(rng, n: int) -> np.ndarray:
    """A random order of n items, never the identity."""
    order = rng.permutation(n)
    return np.roll(order, 1) if np.array_equal(order, np.arange(n)) else order


# ---------------------------------------------------------------------------------------------
# Task 1: pca_reconstruct


def _plane_data(rng, shape=(4, 4, 1), num_train=40, num_test=6, spreads=(5.0, 3.0, 1.0)):
    """Training images on a plane through mean_image (spreads along the basis columns), test
    images around it, and training images with noise in every direction. With rng
    default_rng(0) and the defaults: the visible test's data."""
    pixels = int(np.prod(shape))
    basis = np.linalg.qr(rng.normal(size=(pixels, len(spreads))))[0]
    offsets = rng.normal(size=(num_train, len(spreads)))
    spread = np.linalg.qr(offsets - offsets.mean(axis=0))[0] * np.array(spreads)
    mean_image = rng.uniform(2.0, 4.0, size=pixels)
    train = (mean_image + spread @ basis.T).astype(np.float32).reshape(num_train, *shape)
    test = (mean_image + rng.normal(size=(num_test, pixels))).astype(np.float32).reshape(
        num_test, *shape)
    noisy_train = train + rng.normal(size=train.shape).astype(np.float32)
    return basis, mean_image, train, test, noisy_train


def _axes_data(rng, shape=(4, 4, 1), num_train=40, num_test=6):
    """Images whose principal directions are single pixels: pixel order[j] has the j-th largest
    spread, so k components keep the pixels order[:k]. With rng default_rng(1) and the
    defaults: the visible test's data."""
    pixels = int(np.prod(shape))
    order = rng.permutation(pixels)
    offsets = rng.normal(size=(num_train, pixels))
    spread = np.linalg.qr(offsets - offsets.mean(axis=0))[0] * np.arange(float(pixels), 0.0, -1.0)
    mean = rng.uniform(2.0, 4.0, size=pixels)
    train = (mean + spread[:, np.argsort(order)]).astype(np.float32)
    test = (mean + 3.0 * rng.normal(size=(num_test, pixels))).astype(np.float32)
    return train.reshape(num_train, *shape), test.reshape(num_test, *shape)


def _pca(train, test, k: int) -> np.ndarray:
    """The PCA reconstruction of test from the top k components of train, in float64."""
    flat_train = np.reshape(train, (len(train), -1)).astype(np.float64)
    flat_test = np.reshape(test, (len(test), -1)).astype(np.float64)
    mean = flat_train.mean(axis=0)
    components = np.linalg.svd(flat_train - mean, full_matrices=False)[2][:k]
    return (mean + (flat_test - mean) @ components.T @ components).reshape(np.shape(test))


def _kept(pixels, size: int) -> np.ndarray:
    mask = np.zeros(size)
    mask[pixels] = 1.0
    return mask


def _axes(train, test):
    """(order, mean, flat train, flat test) of axes data: pixels by decreasing spread."""
    flat_train = np.reshape(train, (len(train), -1)).astype(np.float64)
    flat_test = np.reshape(test, (len(test), -1)).astype(np.float64)
    mean = flat_train.mean(axis=0)
    order = np.argsort(-np.sum((flat_train - mean) ** 2, axis=0), kind="stable")
    return order, mean, flat_train, flat_test


_PCA_DEFAULT_HINT = ("subtract the mean of x_train (not of x_test) before the SVD and before "
                     "projecting x_test, add it back afterwards, and keep the top rows of Vt "
                     "(largest singular values) of the TRAINING data.")


def _pca_mistake(result, train, test, k: int) -> str:
    """The hint naming the typical mistake that gives `result` on axes data (as the visible
    test does), else the general hint."""
    order, mean, flat_train, flat_test = _axes(train, test)
    size = flat_test.shape[1]
    centred, own_mean = flat_test - mean, flat_test.mean(axis=0)
    uncentred = np.linalg.svd(flat_train, full_matrices=False)[2][:k]
    of_test = np.linalg.svd(centred, full_matrices=False)[2][:k]
    mistakes = {
        "the training mean is not added back: D(z) = W^T z + mu.":
            centred * _kept(order[:k], size),
        "x_test is not centred before the projection: E(x) = W (x - mu), mu the mean of "
        "x_train.": flat_test * _kept(order[:k], size) + mean,
        "nothing is centred: subtract the mean of x_train before the SVD and before projecting "
        "x_test, and add it back afterwards.": flat_test @ uncentred.T @ uncentred,
        "x_test is centred on its own mean: use the mean of x_train (one test image alone would "
        "have no spread at all).": own_mean + (flat_test - own_mean) * _kept(order[:k], size),
        "the components come from x_test: fit the mean and the SVD on x_train only.":
            mean + centred @ of_test.T @ of_test,
        "these are the COLUMNS of Vt: the principal directions are its ROWS, vt[:n_components] "
        "(shape (k, D)), not vt[:, :n_components].":
            mean + centred * _kept(np.argsort(order)[:k], size),
        "these are the directions of SMALLEST spread: keep the rows of Vt with the largest "
        "singular values (np.linalg.svd sorts them first; np.linalg.eigh sorts eigenvalues in "
        "ascending order).": mean + centred * _kept(order[-k:], size),
        f"this is the reconstruction with {k + 1} components: keep exactly n_components rows, "
        "vt[:n_components].": mean + centred * _kept(order[:k + 1], size),
        f"this is the reconstruction with {k - 1} components: keep exactly n_components rows, "
        "vt[:n_components].": mean + centred * _kept(order[:k - 1], size),
        "x_test comes back unchanged: keep only the top n_components directions.": flat_test,
    }
    try:
        flat = np.reshape(result, (len(flat_test), -1)).astype(np.float64)
    except ValueError:
        return _PCA_DEFAULT_HINT
    for hint, wrong in mistakes.items():
        if flat.shape == wrong.shape and np.allclose(flat, wrong, atol=1e-3):
            return hint
    return _PCA_DEFAULT_HINT


_PCA_AXES = ("pca_reconstruct(train, test, 3) for 40 training images with known principal "
             "directions")
_PCA_PLANE = "pca_reconstruct(train, test, {k}) for 40 training images on a 3-D plane"
_PCA_TRAIN = "pca_reconstruct(train, train[:5], 3) for training images on the 3-D plane"
_PCA_FULL = "pca_reconstruct(noisy train, test, 16) with as many components as pixels"
_PCA_SHIFTED = "pca_reconstruct(train, test + 50, 3) for test images far from the training mean"


def _pca_inputs(seed: int) -> dict:
    """{key: (name, (x_train, x_test, n_components))}: the visible test's cases, then cases on
    a plane and on axes drawn from the seed (image size, counts, dimension, spreads)."""
    _, _, train, test, noisy_train = _plane_data(np.random.default_rng(0))
    axes_train, axes_test = _axes_data(np.random.default_rng(1))
    cases = {f"plane {k}": (_PCA_PLANE.format(k=k), (train, test, k)) for k in (1, 2, 3)}
    cases["train"] = (_PCA_TRAIN, (train, train[:5], 3))
    cases["full"] = (_PCA_FULL, (noisy_train, test, 16))
    cases["shifted"] = (_PCA_SHIFTED, (train, test + np.float32(50.0), 3))
    cases["axes"] = (_PCA_AXES, (axes_train, axes_test, 3))

    rng = np.random.default_rng([seed, 1])
    shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)), 1)
    dims = int(rng.integers(2, 5))
    spreads = np.sort(rng.choice(np.arange(1.0, 8.0), size=dims, replace=False))[::-1]
    num_train, num_test = int(rng.integers(30, 61)), int(rng.integers(4, 9))
    _, _, train, test, _ = _plane_data(rng, shape, num_train, num_test, tuple(spreads))
    where = f"{num_train} training images of shape {shape} on a random {dims}-D plane"
    for k in (dims, dims - 1):
        cases[f"drawn plane {k}"] = (f"pca_reconstruct(train, test, {k}) for {where}",
                                     (train, test, k))
    cases["drawn train"] = (f"pca_reconstruct(train, train[:4], {dims}) for {where}",
                            (train, train[:4], dims))
    rng = np.random.default_rng([seed, 2])
    shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)), 1)
    k = int(rng.integers(3, 6))
    axes_train, axes_test = _axes_data(rng, shape, num_test=int(rng.integers(4, 9)))
    cases["drawn axes"] = (f"pca_reconstruct(train, test, {k}) for 40 training images of shape "
                           f"{shape} with known principal directions", (axes_train, axes_test, k))
    return cases


def _pca_format(got, name: str, shape, hint: str = "flatten each example for the SVD, then "
                                                  "reshape the result to x_test.shape.") -> None:
    checks.check_shape(got[name], shape, name=name, hint=hint)
    checks.check_dtype(got[name], "float32", name=name,
                       hint="cast the result with .astype(np.float32).")


def verdict_test_pca_reconstruct(got, ref, inputs):
    basis, mean_image, _, _, _ = _plane_data(np.random.default_rng(0))

    def projected(images, k):
        """Centre on the training mean, project on the first k basis columns, add it back."""
        flat = images.reshape(len(images), 16) - mean_image
        return (mean_image + flat @ basis[:, :k] @ basis[:, :k].T).reshape(images.shape)

    # The order of the visible checks: 3 components first, where every mistake shows.
    expected = {inputs[f"plane {k}"][0]: projected(inputs[f"plane {k}"][1][1], k)
                for k in (3, 2, 1)}
    expected[_PCA_TRAIN] = inputs["train"][1][1]
    expected[_PCA_FULL] = inputs["full"][1][1]
    expected[_PCA_SHIFTED] = projected(inputs["shifted"][1][1], 3)
    hints = {
        _PCA_PLANE.format(k=1): "keep the rows of Vt with the LARGEST singular values: "
                                "np.linalg.svd sorts them first, so take vt[:n_components].",
        _PCA_TRAIN: "3 components reconstruct points of a 3-D plane exactly, once the data is "
                    "centred on the training mean.",
        _PCA_FULL: "with as many components as pixels PCA keeps every direction and "
                   "reconstructs every image exactly.",
        _PCA_SHIFTED: "centre x_test on the mean of x_train (not on its own mean), project, "
                      "then add the training mean back.",
    }
    for name, target in expected.items():
        _pca_format(got, name, target.shape)
    for key in ("axes", "drawn axes"):
        name, (train, test, k) = inputs[key]
        axes = got[name]
        checks.check_shape(axes, test.shape, name=name, hint="reshape the result to x_test.shape.")
        order, mean, _, flat_test = _axes(train, test)
        checks.check_close(axes, (mean + (flat_test - mean) * _kept(order[:k], len(mean)))
                           .reshape(test.shape), atol=1e-3, name=name,
                           hint=_pca_mistake(axes, train, test, k))
    for name, target in expected.items():
        atol = 1e-2 if name == _PCA_SHIFTED else 1e-3
        checks.check_close(got[name], target, atol=atol, name=name,
                           hint=hints.get(name, _PCA_DEFAULT_HINT))
    test = inputs["plane 1"][1][1]
    errors = [float(np.mean((got[_PCA_PLANE.format(k=k)].astype(np.float64) - test) ** 2))
              for k in (1, 2, 3)]
    assert errors[0] >= errors[1] - 1e-6 >= errors[2] - 2e-6, (
        f"pca_reconstruct: expected a test error that does not grow with n_components; got "
        f"mean squared errors {[round(e, 6) for e in errors]} for k = 1, 2, 3. Hint: keep the "
        "components with the largest singular values first.")
    drawn = [key for key in inputs if key.startswith("drawn plane")]
    for key in [*drawn, "drawn train"]:
        name, (train, test, k) = inputs[key]
        _pca_format(got, name, test.shape)
        hint = (f"{k} components reconstruct points of a {k}-D plane exactly, once the data is "
                "centred on the training mean." if key == "drawn train" else
                "keep the rows of Vt with the LARGEST singular values: np.linalg.svd sorts them "
                "first, so take vt[:n_components]." if key == drawn[-1] else _PCA_DEFAULT_HINT)
        checks.check_close(got[name], _pca(train, test, k), atol=1e-3, name=name, hint=hint)


# ---------------------------------------------------------------------------------------------
# Tasks 2 and 3: the autoencoder builders


def _builder_inputs(seed: int, salt: int) -> list:
    """Two models to build: latent_dim 3 on the visible test's images and codes (std 10), then
    a latent size, images and codes (std 100) drawn from the seed; each with its own Keras
    seed, order of the images for decoder(encoder(x)), and projection of the outputs whose
    gradient is taken."""
    visible = np.random.default_rng(0)
    images = visible.uniform(size=(4, 28, 28, 1)).astype(np.float32)
    wild_codes = visible.normal(0.0, 10.0, size=(16, 3)).astype(np.float32)
    rng = np.random.default_rng([seed, salt])
    cases = [{"latent_dim": 3, "images": images, "wild_codes": wild_codes, "wild_std": 10.0}]
    latent_dim = int(rng.integers(4, 13))
    cases.append({"latent_dim": latent_dim,
                  "images": rng.uniform(size=(int(rng.integers(4, 9)), 28, 28, 1)).astype(
                      np.float32),
                  "wild_codes": rng.normal(0.0, 100.0, size=(int(rng.integers(6, 13)),
                                                             latent_dim)).astype(np.float32),
                  "wild_std": 100.0})
    for case in cases:
        case.update(seed=int(rng.integers(2**31)), projection=int(rng.integers(2**31)),
                    order=_permutation(rng, len(case["images"])))
    return cases


def _shape_hint(part: str, input_shape: tuple, output_shape: tuple, latent_dim: int,
                conv: bool) -> str:
    """A hint naming the likely cause of a wrong input or output shape of `part` (as the
    visible tests give it)."""
    if part == "encoder":
        if input_shape != (None, 28, 28, 1):
            return "start the encoder with keras.Input(shape=(28, 28, 1))."
        if len(output_shape) != 2:
            return ("the code must be a flat vector of latent_dim numbers: Flatten the "
                    + ("7 x 7 feature maps" if conv else "image first")
                    + " and end the encoder with Dense(latent_dim).")
        return "end the encoder with Dense(latent_dim), using the argument, not a fixed size."
    if part == "decoder":
        if input_shape != (None, latent_dim):
            return "start the decoder with keras.Input(shape=(latent_dim,)), using the argument."
        if len(output_shape) != 4:
            return "end the decoder with an image: Reshape((28, 28, 1)) after the last Dense."
        if output_shape[1:3] != (28, 28):
            size = f"the decoder's images are {output_shape[1]} x {output_shape[2]}, not 28 x 28: "
            if not conv:
                return size + "reshape the 784 outputs with Reshape((28, 28, 1))."
            return size + ("with padding='valid' a stride-2 Conv2DTranspose of kernel 3 maps n "
                           "pixels to 2n + 1 (7 -> 15 -> 31): use padding='same' in every "
                           "strided layer, so that each exactly doubles the size "
                           "(7 -> 14 -> 28), after a Reshape to 7 x 7 for two stride-2 layers.")
        return "end the decoder with a single channel: the image is (28, 28, 1)."
    return ("build the autoencoder as keras.Model(x, decoder(encoder(x))) with "
            "x = keras.Input(shape=(28, 28, 1)).")


def _model_verdict(got, builder: str, case: dict, conv: bool) -> None:
    names = model_names(builder, case)
    call, latent_dim = names["call"], case["latent_dim"]
    flat_code = ("the code must be a flat vector of latent_dim numbers: Flatten the "
                 + ("7 x 7 feature maps" if conv else "image first")
                 + " and end the encoder with Dense(latent_dim).")
    _raised(got, names["builds"], "print each model's summary(); " + flat_code)
    expected_shapes = {"encoder": ((None, 28, 28, 1), (None, latent_dim)),
                       "decoder": ((None, latent_dim), (None, 28, 28, 1)),
                       "autoencoder": ((None, 28, 28, 1), (None, 28, 28, 1))}
    shape_hints = {"encoder": flat_code,
                   "decoder": "start the decoder with keras.Input(shape=(latent_dim,)) and end "
                              "with an image shaped (28, 28, 1).",
                   "autoencoder": "build it as keras.Model(x, decoder(encoder(x))) with "
                                  "x = keras.Input(shape=(28, 28, 1))."}
    for part, (input_shape, output_shape) in expected_shapes.items():
        recorded = {}
        for kind in ("input", "output"):
            name = names[f"{part} {kind}"]
            _raised(got, name, "start every model with keras.Input(shape=...): the first entry "
                               "of keras.Sequential([...]), or the inputs of keras.Model(inputs, "
                               "outputs), so that it has one input and one output of known shape.")
            recorded[kind] = tuple(None if int(d) < 0 else int(d) for d in np.ravel(got[name]))
        hint = _shape_hint(part, recorded["input"], recorded["output"], latent_dim, conv)
        for kind, expected in (("input", input_shape), ("output", output_shape)):
            actual = recorded[kind]
            if len(actual) != len(expected) or any(e is not None and a != e
                                                   for a, e in zip(actual, expected)):
                shown = "(" + ", ".join("None" if d is None else str(d) for d in expected) + ")"
                raise AssertionError(f"{part} {kind} shape of {call}: expected {shown}; got "
                                     f"{_shape_text([-1 if d is None else d for d in actual])}. "
                                     f"Hint: {hint}")

    wild, num_wild = names["wild"], len(case["wild_codes"])
    checks.check_shape(got[wild], (num_wild, 28, 28, 1), name=wild, hint=shape_hints["decoder"])
    checks.check_range(got[wild], 0.0, 1.0, name=wild,
                       hint="pixels are in [0, 1], even for extreme codes: end the decoder with "
                            "a sigmoid activation.")
    num_images = len(case["images"])
    checks.check_shape(got[names["codes"]], (num_images, latent_dim), name=names["codes"],
                       hint=flat_code)
    reconstructed = names["reconstructed"]
    checks.check_shape(got[reconstructed], (num_images, 28, 28, 1), name=reconstructed)
    checks.check_range(got[reconstructed], 0.0, 1.0, name=reconstructed,
                       hint="end the decoder with a sigmoid activation.")
    composed = got[names["composed"]]  # decoder(encoder(x)) of the images in case["order"]
    checks.check_close(got[reconstructed][case["order"]], composed, atol=1e-5,
                       name=f"autoencoder(x) compared with decoder(encoder(x)) of {call}",
                       hint="build the autoencoder by calling the SAME encoder and decoder: "
                            "keras.Model(x, decoder(encoder(x))), not new layers.")

    counts = names["weights"]
    _raised(got, counts, "return Keras models, whose trainable_variables can be listed.")
    assert got[f"{counts}/encoder"] > 0 and got[f"{counts}/decoder"] > 0, (
        f"{counts}: expected trainable weights in both the encoder and the decoder; got "
        f"{int(got[f'{counts}/encoder'])} in the encoder and {int(got[f'{counts}/decoder'])} in "
        "the decoder. Hint: is one of them frozen (trainable = False)?")
    extra, missing = int(got[f"{counts}/autoencoder only"]), int(
        got[f"{counts}/missing from the autoencoder"])
    assert extra == 0 and missing == 0, (
        f"{counts}: expected the autoencoder to consist of exactly the encoder's and the "
        f"decoder's weights; got {extra} weight(s) of its own and {missing} encoder or decoder "
        "weight(s) it does not train. Hint: keras.Model(x, decoder(encoder(x))) with the SAME "
        "encoder and decoder, none of them frozen.")
    grads = names["gradients"]
    _raised(got, grads, "every encoder and decoder weight must receive a gradient.")
    norms, paths = got[f"{grads}/norms"], got[f"{grads}/paths"]
    assert norms.size > 0, (f"{grads}: expected trainable variables; got none. Hint: is every "
                            "layer frozen?")
    for problem, bad in (("no gradient", np.isnan(norms)), ("an all-zero gradient", norms == 0),
                         ("a non-finite gradient", np.isinf(norms))):
        assert not bad.any(), (
            f"{grads}: expected a nonzero gradient for every trainable variable; got {problem} "
            f"for {', '.join(str(p) for p in paths[bad])}. Hint: every encoder and decoder "
            "weight must receive a gradient: is that layer connected to the output, or is a "
            "value cut off with numpy()?")
    if conv:
        for part, layer, hint in (
                ("encoder", "Conv2D", "use Conv2D(..., strides=2, padding='same') instead of "
                                      "pooling."),
                ("decoder", "Conv2DTranspose", "transposed convolutions learn the upsampling "
                                               "that UpSampling2D only repeats.")):
            assert got[names[f"strided {part}"]] > 0, (
                f"{builder}: expected the {part} to "
                f"{'downsample' if part == 'encoder' else 'upsample'} with a strided "
                f"layers.{layer} (strides=2); found none. Hint: {hint}")


def verdict_test_build_dense_autoencoder(got, ref, inputs):
    for case in inputs:
        _model_verdict(got, "build_dense_autoencoder", case, conv=False)


def verdict_test_build_conv_autoencoder(got, ref, inputs):
    for case in inputs:
        _model_verdict(got, "build_conv_autoencoder", case, conv=True)


# ---------------------------------------------------------------------------------------------
# Task 4: add_noise


def _noise_inputs(seed: int) -> dict:
    """Batches of images (the visible test's, then ones drawn from the seed with a noise factor
    and seeds of their own), and single calls: grey images (the visible test's, then a grey
    level, noise factor and seed drawn), white images and a float64 array."""
    visible = {"images": np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32),
               "factor": 0.5, "seeds": (1, 2, 3),
               "names": {"noisy": "add_noise(images, 0.5, seed=1)",
                         "input after": "the input images after add_noise(images, 0.5, seed=1)",
                         "again": "add_noise(images, 0.5, seed=1) called a second time",
                         "other seed": "add_noise(images, 0.5, seed=2)",
                         "no noise": "add_noise(images, 0.0, seed=3)"}}
    rng = np.random.default_rng([seed, 4])
    factor = round(float(rng.uniform(0.2, 0.6)), 2)
    first, second, silent = (int(s) for s in rng.choice(10**6, size=3, replace=False))
    images = rng.uniform(size=(int(rng.integers(5, 11)), 28, 28, 1)).astype(np.float32)
    batch = f"{len(images)} random images"
    drawn = {"images": images, "factor": factor, "seeds": (first, second, silent),
             "names": {"noisy": f"add_noise({batch}, {factor:g}, seed={first})",
                       "input after": f"the input images after add_noise({batch}, {factor:g}, "
                                      f"seed={first})",
                       "again": f"add_noise({batch}, {factor:g}, seed={first}) called a second "
                                "time",
                       "other seed": f"add_noise({batch}, {factor:g}, seed={second})",
                       "no noise": f"add_noise({batch}, 0.0, seed={silent})"}}
    level, grey_factor = round(float(rng.uniform(0.4, 0.6)), 2), round(float(
        rng.uniform(0.05, 0.1)), 3)
    grey_seed = int(rng.integers(10**6))
    calls = {
        "grey": ("add_noise(64 grey images of 0.5, 0.1, seed=4)",
                 (np.full((64, 28, 28, 1), 0.5, np.float32), 0.1, 4)),
        "drawn grey": (f"add_noise(64 grey images of {level:g}, {grey_factor:g}, seed={grey_seed})",
                       (np.full((64, 28, 28, 1), level, np.float32), grey_factor, grey_seed)),
        "white": ("add_noise(10 white images, 0.5, seed=5)",
                  (np.ones((10, 28, 28, 1), np.float32), 0.5, 5)),
        "doubles": ("add_noise(float64 array of shape (3, 5) filled with 0.5, 0.2, seed=6)",
                    (np.full((3, 5), 0.5), 0.2, 6)),
    }
    return {"batches": [visible, drawn], "calls": calls}


def _noise_batch_verdict(got, case: dict) -> None:
    names, images = case["names"], case["images"]
    noisy = got[names["noisy"]]
    checks.check_shape(noisy, images.shape, name=names["noisy"])
    checks.check_dtype(noisy, "float32", name=names["noisy"],
                       hint="return the dtype of the input: .astype(images.dtype).")
    checks.check_range(noisy, 0.0, 1.0, name=names["noisy"],
                       hint="clip the noisy images to [0, 1] with np.clip.")
    checks.check_close(got[names["input after"]], images, atol=0, name=names["input after"],
                       hint="do not modify the input in place (no +=); build a new array.")
    checks.check_close(got[names["again"]], noisy, atol=0,
                       name=f"{names['again']}, compared with the first",
                       hint="draw the noise from np.random.default_rng(seed), not from the "
                            "unseeded global generator.")
    other = got[names["other seed"]]
    first, second, _ = case["seeds"]
    assert other.shape != noisy.shape or not np.allclose(other, noisy), (
        f"add_noise: expected different images for seeds {first} and {second}; got the same. "
        "Hint: pass `seed` to np.random.default_rng(seed).")
    checks.check_close(got[names["no noise"]], images, atol=1e-7, name=names["no noise"],
                       hint="x + 0 * noise must be x.")


def _grey_verdict(got, name: str, args) -> None:
    images, factor, _ = args
    level = float(images.flat[0])
    grey = got[name]
    checks.check_shape(grey, images.shape, name=name)
    difference = grey.astype(np.float64) - level
    checks.check_close(difference.std(), factor, rtol=0.05, name=f"std of the noise of {name}",
                       hint="multiply STANDARD normal noise (np.random.default_rng(seed)."
                            "standard_normal or .normal(0, 1)) by noise_factor.")
    checks.check_close(difference.mean(), 0.0, atol=0.005, name=f"mean of the noise of {name}",
                       hint="the noise must have mean 0: use a normal, not a uniform on [0, 1].")
    beyond = float(np.mean(np.abs(difference) > 2 * factor))
    assert 0.035 < beyond < 0.057, (
        f"{name}: expected about 4.6% of the noise beyond 2 noise_factor, as for Gaussian "
        f"noise; got {beyond:.1%}. Hint: draw normal noise (standard_normal), not uniform noise.")


def verdict_test_add_noise(got, ref, inputs):
    visible, drawn = inputs["batches"]
    calls = inputs["calls"]
    _noise_batch_verdict(got, visible)
    _grey_verdict(got, *calls["grey"])
    name = calls["white"][0]
    white = got[name]
    checks.check_shape(white, (10, 28, 28, 1), name=name)
    checks.check_range(white, 0.0, 1.0, name=name,
                       hint="clip the noisy images to [0, 1] with np.clip.")
    clipped = float(np.mean(white == 1.0))
    assert 0.4 < clipped < 0.6, (
        f"{name}: expected about half of the pixels clipped to exactly 1.0 (noise above 0); "
        f"got {clipped:.1%}. Hint: add zero-mean noise, then np.clip(..., 0, 1).")
    name = calls["doubles"][0]
    doubles = got[name]
    checks.check_shape(doubles, (3, 5), name=name,
                       hint="keep the shape of the input, whatever it is.")
    checks.check_dtype(doubles, "float64", name=name,
                       hint="return the dtype of the input: .astype(images.dtype), not a fixed "
                            "float32.")
    _noise_batch_verdict(got, drawn)
    _grey_verdict(got, *calls["drawn grey"])


# ---------------------------------------------------------------------------------------------
# Task 5: l1_activity_penalty

_L1_CODES = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, -1.0]], np.float32)


def _l1_inputs(seed: int) -> dict:
    """The visible test's codes (alone, repeated, in a gradient and in a graph), zero codes,
    and codes and a weight drawn from the seed."""
    rng = np.random.default_rng([seed, 5])
    shape = (int(rng.integers(16, 49)), int(rng.integers(5, 16)))
    weight = round(float(rng.uniform(0.005, 0.1)), 3)
    return {
        "values": {
            "value": ("l1_activity_penalty([[1, -2, 0], [3, 0, -1]], weight=0.5)",
                      (_L1_CODES, 0.5)),
            "doubled": ("l1_activity_penalty of the same codes repeated twice in the batch, "
                        "weight=0.5", (np.concatenate([_L1_CODES, _L1_CODES]), 0.5)),
            "random": (f"l1_activity_penalty({shape[0]} random codes of {shape[1]} units, "
                       f"{weight:g})", (rng.normal(size=shape).astype(np.float32), weight)),
            "zero": ("l1_activity_penalty(zero codes of shape (4, 5), 3.0)",
                     (np.zeros((4, 5), np.float32), 3.0)),
        },
        "gradient": {"args": (_L1_CODES, 0.5),
                     "reaches": "a gradient of l1_activity_penalty(codes, 0.5) reaches the codes",
                     "values": "gradient of l1_activity_penalty(codes, 0.5) with respect to the "
                               "codes"},
        "graph": ("l1_activity_penalty(codes, 0.1) inside a compiled tf.function",
                  (_L1_CODES, 0.1)),
    }


def _l1(codes, weight) -> float:
    return float(weight * np.abs(codes.astype(np.float64)).sum(axis=1).mean())


def verdict_test_l1_activity_penalty(got, ref, inputs):
    values = inputs["values"]
    name, args = values["value"]
    checks.check_shape(got[name], (), name=name,
                       hint="return one number for the whole batch: reduce over both axes.")
    checks.check_close(got[name], _l1(*args), atol=1e-5, name=name,
                       hint="per code sum_j |h_j| is 3 and 4, their batch mean 3.5, times 0.5 "
                            "gives 1.75. Getting 3.75 means squares (L2) instead of absolute "
                            "values; 3.5 a sum over the batch instead of a mean; 0.583 a mean "
                            "over every entry instead of a sum over code units.")
    name, args = values["doubled"]
    checks.check_shape(got[name], (), name=name,
                       hint="return one number for the whole batch: reduce over both axes.")
    checks.check_close(got[name], _l1(*args), atol=1e-5, name=name,
                       hint="average over the batch (axis 0) so the penalty does not grow with "
                            "the batch size.")
    gradient = inputs["gradient"]
    codes, weight = gradient["args"]
    reaches = gradient["reaches"]
    _raised(got, reaches, "use keras.ops on the tensor, not NumPy.")
    assert bool(got[reaches]), (
        f"{reaches}: expected a gradient; got none. Hint: use keras.ops on the tensor, not "
        "NumPy (np.abs or np.asarray cuts the graph).")
    checks.check_close(got[gradient["values"]], weight * np.sign(codes) / len(codes), atol=1e-5,
                       name=gradient["values"],
                       hint="the derivative of weight * mean_b sum_j |h_bj| is "
                            "weight * sign(h) / batch_size.")
    name, args = inputs["graph"]
    _raised(got, name, "l1_activity_penalty must work on TensorFlow tensors inside a "
                       "compiled training step: use keras.ops, not NumPy.")
    checks.check_shape(got[name], (), name=name, hint="return one number for the whole batch.")
    checks.check_close(got[name], _l1(*args), atol=1e-5, name=name,
                       hint="use keras.ops throughout so the same code runs in a graph.")
    name, args = values["random"]
    checks.check_shape(got[name], (), name=name, hint="return one number for the whole batch.")
    checks.check_close(got[name], _l1(*args), rtol=0, atol=1e-5, name=name,
                       hint="weight times the batch mean of sum_j |h_j|.")
    name, args = values["zero"]
    checks.check_shape(got[name], (), name=name, hint="return one number for the batch.")
    checks.check_close(got[name], 0.0, atol=0, name=name,
                       hint="zero codes must give a zero penalty: no constant terms.")


# ---------------------------------------------------------------------------------------------
# Task 5b: contractive_penalty

_CP_KERNEL = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, -1.0]], np.float32)
_CP_BIAS = np.array([0.5, -1.0], np.float32)


def _cp_inputs(seed: int) -> dict:
    """The visible test's linear encoder and image encoder with their inputs, and two tanh
    layers whose sizes, weights and inputs are drawn from the seed."""
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    rng = np.random.default_rng([seed, 6])
    sizes = [int(rng.integers(4, 7)), int(rng.integers(3, 6)), int(rng.integers(2, 5))]
    batch = int(rng.integers(4, 9))
    weights = [rng.normal(0.0, 0.8, size=(sizes[0], sizes[1])).astype(np.float32),
               rng.normal(0.0, 0.3, size=sizes[1]).astype(np.float32),
               rng.normal(0.0, 0.8, size=(sizes[1], sizes[2])).astype(np.float32),
               rng.normal(0.0, 0.3, size=sizes[2]).astype(np.float32)]
    mlp = f"two tanh layers {sizes[0]} -> {sizes[1]} -> {sizes[2]}, {batch} inputs"
    return {
        "linear": {
            "weights": [_CP_KERNEL, _CP_BIAS], "x": x, "tiled": np.tile(x, (3, 1)),
            "names": {"value": "contractive_penalty(linear encoder with kernel [[1, 2], [3, 0], "
                               "[0, -1]], 4 inputs)",
                      "tiled": "contractive_penalty(the same linear encoder, the 4 inputs "
                               "repeated 3 times)",
                      "gradient": "gradient of contractive_penalty(linear encoder, x) with "
                                  "respect to its kernel"}},
        "images": {"kernel": np.random.default_rng(1).normal(size=(16, 3)).astype(np.float32),
                   "x": np.random.default_rng(2).uniform(size=(5, 4, 4, 1)).astype(np.float32),
                   "name": "contractive_penalty(Flatten + linear Dense(3), 5 images 4 x 4 x 1)"},
        "mlp": {"weights": weights,
                "x": rng.normal(size=(batch, sizes[0])).astype(np.float32),
                "names": {"value": f"contractive_penalty({mlp})",
                          "graph": f"contractive_penalty({mlp}) inside a tf.function",
                          "float64": f"contractive_penalty({mlp}) for a float64 NumPy array"}},
    }


def _cp_mlp_value(mlp: dict) -> float:
    """The penalty of the two tanh layers, from their Jacobians computed in NumPy."""
    w1, b1, w2, b2 = (w.astype(np.float64) for w in mlp["weights"])
    x = mlp["x"].astype(np.float64)
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    # J_b = diag(1 - h2^2) w2^T diag(1 - h1^2) w1^T, shape (codes, inputs) per example
    jacobians = np.einsum("bj,kj,bk,ik->bji", 1 - h2 ** 2, w2, 1 - h1 ** 2, w1)
    return float(np.mean(np.sum(jacobians ** 2, axis=(1, 2))))


_CP_FLOAT32 = ("convert x with tf.convert_to_tensor(x, tf.float32): a NumPy array is float64 by "
               "default, and a Jacobian taken with respect to a float64 x is float64. The penalty "
               "must be float32, like the loss it is added to.")
_CP_VARIABLE = ("do not turn x into a tf.Variable (a tf.function cannot create a new variable at "
                "each call): convert it with tf.convert_to_tensor(x, tf.float32) and let the tape "
                "record it with tape.watch(x).")


def _cp_check(got, name: str, expected: float, hint: str) -> None:
    _raised(got, name, hint)
    checks.check_shape(got[name], (), name=name,
                       hint="return one number for the whole batch: sum over the code units and "
                            "the input axes, then average over the batch.")
    checks.check_dtype(got[name], "float32", name=name, hint=_CP_FLOAT32)
    checks.check_close(got[name], expected, rtol=1e-4, atol=1e-4, name=name, hint=hint)


def verdict_test_contractive_penalty(got, ref, inputs):
    linear, image, mlp = inputs["linear"], inputs["images"], inputs["mlp"]
    kernel = linear["weights"][0].astype(np.float64)
    frobenius = float(np.sum(kernel ** 2))  # each example's Jacobian is kernel^T
    watch = ("a Jacobian of None means the tape did not record x: convert it with "
             "tf.convert_to_tensor(x, tf.float32) and call tape.watch(x) before encoder(x), "
             "inside the `with tf.GradientTape() as tape:` block.")
    _raised(got, linear["names"]["value"], watch)
    _cp_check(got, linear["names"]["value"], frobenius,
              "each example's Jacobian is kernel^T, so the penalty is ||kernel||_F^2 = 15. "
              "Getting 60 means a sum over the batch instead of a mean; 2.5 a mean over the "
              "Jacobian's entries instead of a sum; 19 = ||sum_i grad h_i||^2, the gradient of "
              "the summed code (tape.gradient) instead of one gradient per code unit "
              "(tape.batch_jacobian); 3.87 or 5.4 norms that are not squared; 0 a tape that never "
              "watched x; any other value: differentiate the code with respect to the input x, "
              "not the encoder's weights.")
    _cp_check(got, linear["names"]["tiled"], frobenius,
              "average over the batch so the penalty does not grow with it.")
    _cp_check(got, image["name"], float(np.sum(image["kernel"].astype(np.float64) ** 2)),
              "sum the squared Jacobian over EVERY axis except the batch axis: the code units and "
              "all input axes (4, 4, 1).")
    _cp_check(got, mlp["names"]["value"], _cp_mlp_value(mlp),
              "differentiate the encoder's output at each example of x (call encoder(x) inside "
              "the tape, after tape.watch(x)); the Jacobian of a deeper encoder is the product "
              "of its layers' Jacobians: let tape.batch_jacobian(codes, x) compute it, then sum "
              "its squares per example.")
    _cp_check(got, mlp["names"]["float64"], _cp_mlp_value(mlp), _CP_FLOAT32)
    graph = mlp["names"]["graph"]
    _cp_check(got, graph, _cp_mlp_value(mlp),
              _CP_VARIABLE if "Variable" in str(got.error(graph) or "") else
              "the penalty must also run inside a compiled train_step (a tf.function): use "
              "TensorFlow operations only, no .numpy(), NumPy functions or float() on tensors.")
    name = linear["names"]["gradient"]
    _raised(got, name, "stay in TensorFlow operations (no .numpy(), np.sum or float()) "
                       "so that training can differentiate the penalty with respect to "
                       "the encoder's weights.")
    checks.check_close(got[name], 2 * kernel, atol=1e-4, name=name,
                       hint="the derivative of ||kernel||_F^2 is 2 * kernel: compute the penalty "
                            "from the tape's Jacobian with TensorFlow operations.")


# ---------------------------------------------------------------------------------------------
# Task 6: interpolate


def _interpolation_inputs(seed: int) -> dict:
    """{name: (a, b, num_steps)}: the visible test's cases, then codes drawn from the seed."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    drawn = np.random.default_rng([seed, 7])
    size, steps = int(drawn.integers(8, 33)), int(drawn.integers(5, 13))
    return {
        "interpolate(a, b, 10) for a of shape (2, 3)": (a, b, 10),
        "interpolate(black image, white image, 4)": (np.zeros((28, 28, 1), np.float32),
                                                     np.ones((28, 28, 1), np.float32), 4),
        "interpolate([1, 2], [3, 6], 2)": (np.array([1.0, 2.0]), np.array([3.0, 6.0]), 2),
        "interpolate([0], [1], 3)": (np.array([0.0]), np.array([1.0]), 3),
        f"interpolate(code_a, code_b, {steps}) for codes of {size} numbers":
            (drawn.normal(size=size), drawn.normal(size=size), steps),
    }


def verdict_test_interpolate(got, ref, inputs):
    for name, (a, b, num_steps) in inputs.items():
        path = got[name]
        checks.check_shape(path, (num_steps, *a.shape), name=name,
                           hint="return num_steps points, each with the shape of a; do not "
                                "flatten.")
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        checks.check_close(path[0], a64, atol=1e-6, name=f"first point of {name}",
                           hint="the path starts exactly at a (t = 0).")
        checks.check_close(path[-1], b64, atol=1e-6, name=f"last point of {name}",
                           hint="include the endpoint b: t runs from 0 to 1 inclusive, e.g. "
                                "np.linspace(0, 1, num_steps), not np.arange(0, 1, 1 / "
                                "num_steps).")
        steps = np.diff(path.astype(np.float64), axis=0)
        checks.check_close(steps, np.broadcast_to((b64 - a64) / (num_steps - 1), steps.shape),
                           atol=1e-6, name=f"the steps between consecutive points of {name}",
                           hint="space the points evenly: t_k = k / (num_steps - 1).")
        t = (np.arange(num_steps) / (num_steps - 1)).reshape((-1,) + (1,) * a.ndim)
        checks.check_close(path, (1 - t) * a64 + t * b64, atol=1e-6, name=name,
                           hint="points must be (1 - t_k) a + t_k b with "
                                "t_k = k / (num_steps - 1).")


# ---------------------------------------------------------------------------------------------
# Task 7: probe_accuracy


def _accuracy_inputs(seed: int) -> dict:
    """{key: (name, (features_train, y_train, features_test, y_test))}: the visible test's
    separated classes and random labels, then separated classes drawn from the seed, as images,
    with a drawn number of test labels changed."""
    rng = np.random.default_rng(0)
    class_means = rng.normal(0.0, 3.0, size=(10, 20))
    labels = np.repeat(np.arange(10), 20)
    features_train = class_means[labels] + rng.normal(size=(200, 20))
    features_test = class_means[labels] + rng.normal(size=(200, 20))
    noise_train, noise_test = rng.normal(size=(100, 50)), rng.normal(size=(200, 50))
    noise_labels_train, noise_labels_test = rng.integers(0, 10, 100), rng.integers(0, 10, 200)

    drawn = np.random.default_rng([seed, 8])
    per_class = int(drawn.integers(15, 31))
    count = 10 * per_class
    drawn_means = drawn.normal(0.0, 3.0, size=(10, 16))
    drawn_labels = np.repeat(np.arange(10), per_class)
    changed = drawn.choice(count, size=int(drawn.integers(int(0.2 * count), int(0.8 * count))),
                           replace=False)
    wrong = drawn_labels.copy()
    wrong[changed] = (wrong[changed] + drawn.integers(1, 10, size=len(changed))) % 10
    images = [(drawn_means[drawn_labels] + drawn.normal(size=(count, 16))).reshape(count, 4, 4, 1)
              for _ in range(2)]
    return {
        "separated": ("probe_accuracy on 10 well-separated classes",
                      (features_train, labels, features_test, labels)),
        "chance": ("probe_accuracy on random features with random labels",
                   (noise_train, noise_labels_train, noise_test, noise_labels_test)),
        "changed": (f"probe_accuracy on ({count}, 4, 4, 1) images of 10 well-separated classes "
                    f"with {len(changed)} of the {count} test labels changed",
                    (images[0], drawn_labels, images[1], wrong)),
    }


def verdict_test_probe_accuracy(got, ref, inputs):
    accuracies = {}
    for key, (name, _) in inputs.items():
        _raised(got, name, "flatten each example (reshape(len(x), -1)) before the classifier, "
                           "and use integer labels as indices (np.eye(10)[y_train]).")
        value = got[f"{name}/value"]
        assert bool(got[f"{name}/is a float"]), (
            f"{name}: expected a float accuracy; got {got[f'{name}/type']} {value}. Hint: return "
            "float(np.mean(predictions == y_test)), not a count or a tensor.")
        checks.check_range(value, 0.0, 1.0, name=name,
                           hint="return the FRACTION of correct test predictions, not a count "
                                "or a percentage.")
        accuracies[key] = float(value)
    name = inputs["separated"][0]
    assert accuracies["separated"] >= 0.9, (
        f"{name}: expected at least 0.9; got {accuracies['separated']:.3f}. Hint: return the "
        "accuracy (fraction correct), not the loss or the error rate, and train long enough (a "
        "few hundred full-batch steps).")
    name = inputs["chance"][0]
    assert accuracies["chance"] <= 0.3, (
        f"{name}: expected about 0.1 (chance); got {accuracies['chance']:.3f}. Hint: measure "
        "accuracy on features_test and y_test, not on the training data.")
    name, (_, y_train, _, y_test) = inputs["changed"]
    kept = float(np.mean(y_test == y_train))  # test examples keep their class's label
    # A classifier right on every example of these classes scores `kept` exactly; allow the
    # share of its errors on the separated classes above (at most 0.1), plus 0.02.
    errors = 1.0 - accuracies["separated"]
    low, high = kept - min(0.1, errors + 0.02), kept + min(0.05, errors + 0.02)
    assert low <= accuracies["changed"] <= high, (
        f"{name}: expected about {kept:.3f}, the fraction of test labels left as they were; got "
        f"{accuracies['changed']:.3f}. Hint: flatten the images, and compare the predictions "
        "with y_test.")


# ---------------------------------------------------------------------------------------------
# Design task: an autoencoder that beats PCA under a budget

DEPENDS = {"test_design_autoencoder": ("test_pca_reconstruct",)}  # the visible check's baseline
DESIGN_HELD_OUT = 500  # test-split digits the trial reconstructs


def _mnist():
    with contextlib.redirect_stdout(io.StringIO()):
        return datasets.load_mnist(source="bundled")


def _design_inputs(seed: int) -> dict:
    (x_train, _), (x_test, _) = _mnist()
    rng = np.random.default_rng([seed, 21])
    budget = design.AUTOENCODER
    return {"code_size": design.AUTOENCODER_CODE_SIZE, "grader_only": {
        "seed": int(rng.integers(2**31)),
        "train_index": rng.permutation(len(x_train))[:budget.train_images],
        "heldout_index": rng.permutation(len(x_test))[:DESIGN_HELD_OUT]}}


def design_outcome(got, inputs) -> dict:
    """{"design", "pca", "measure"}: the held-out mean squared errors of the design's
    reconstructions (from the grader's trial, got.trial) and of PCA with as many components,
    fitted here on the same training digits, and their ratio (the target is on it)."""
    trial, grader = got.trial, inputs["grader_only"]
    (x_train, _), (x_test, _) = _mnist()
    train = x_train[np.asarray(grader["train_index"])]
    held_out = x_test[np.asarray(grader["heldout_index"])]
    reconstructions = np.asarray(trial["reconstructions"], np.float64)
    if reconstructions.shape != held_out.shape or not np.all(np.isfinite(reconstructions)):
        raise AssertionError(f"the trained design's reconstructions of {len(held_out)} held-out "
                             f"digits were not finite images of shape {held_out.shape}")
    ours = design.mse(reconstructions, held_out)
    pca = design.mse(_pca(train, held_out, int(inputs["code_size"])), held_out)
    return {"design": ours, "pca": pca, "measure": ours / pca}


def verdict_test_design_autoencoder(got, ref, inputs):
    budget = design.AUTOENCODER
    trial_outcome(got, f"design_autoencoder({design.AUTOENCODER_CODE_SIZE})",
                  f"{budget.epochs} epochs of {budget.train_images:,} digits")
    outcome = design_outcome(got, inputs)
    assert outcome["measure"] <= design.AUTOENCODER_TARGET, (
        f"the grader trained your design with its own seed on {budget.train_images:,} "
        f"digits: its mean squared error on {DESIGN_HELD_OUT} held-out digits is "
        f"{outcome['design']:.4f}, {outcome['measure']:.2f} times PCA's {outcome['pca']:.4f} with "
        f"{inputs['code_size']} components; the target is {design.AUTOENCODER_TARGET} or less. "
        "Hint: see where the design stands in its check cell, and try its hints.")


def probe_inputs(seed):
    return {
        "test_pca_reconstruct": _pca_inputs(seed),
        "test_build_dense_autoencoder": _builder_inputs(seed, 3),
        "test_build_conv_autoencoder": _builder_inputs(seed, 9),
        "test_add_noise": _noise_inputs(seed),
        "test_l1_activity_penalty": _l1_inputs(seed),
        "test_contractive_penalty": _cp_inputs(seed),
        "test_interpolate": _interpolation_inputs(seed),
        "test_probe_accuracy": _accuracy_inputs(seed),
        "test_design_autoencoder": _design_inputs(seed),
    }
