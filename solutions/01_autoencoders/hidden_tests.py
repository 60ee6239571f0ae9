"""Hidden tests of 01_autoencoders. Probes run in the student's sandboxed kernel after the notebook
and record outputs; verdicts run in the grader and decide from them (see grading/verdicts.py).
Each verdict redoes the visible checks of its cell on the probe's data, then the hidden ones.

Verdicts compare with contracts computed here in NumPy (the inputs are regenerated from the same
seeds), not with one architecture's numbers: every correct network and noise generator passes.
Probes import Keras and TensorFlow inside their bodies: the grader never needs them."""

import numpy as np

from common import checks

# ---------------------------------------------------------------------------------------------
# Helpers shared by probes and verdicts (NumPy only)


def _raised(got, name: str, hint: str) -> None:
    """Fail with the student's error and a hint when computing `name` raised."""
    if got.error(name):
        raise AssertionError(f"{name}: your code raised {got.error(name)} Hint: {hint}")


def _shape_text(shape) -> str:
    """(None, 28, 28, 1) from a recorded shape, -1 standing for None."""
    dims = ["None" if int(d) < 0 else str(int(d)) for d in np.ravel(shape)]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


# ---------------------------------------------------------------------------------------------
# Task 1: pca_reconstruct


def _pca_data():
    """The visible test's data (training images on a 3-D plane through mean_image, 6 test
    images), plus training images with noise in every direction."""
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(16, 3)))[0]
    offsets = rng.normal(size=(40, 3))
    spread = np.linalg.qr(offsets - offsets.mean(axis=0))[0] * np.array([5.0, 3.0, 1.0])
    mean_image = rng.uniform(2.0, 4.0, size=16)
    train = (mean_image + spread @ basis.T).astype(np.float32).reshape(40, 4, 4, 1)
    test = (mean_image + rng.normal(size=(6, 16))).astype(np.float32).reshape(6, 4, 4, 1)
    noisy_train = train + rng.normal(size=train.shape).astype(np.float32)
    return basis, mean_image, train, test, noisy_train


def _pca_axes_data():
    """The visible test's images whose principal directions are single pixels: pixel order[j]
    has the j-th largest spread, so k components keep the pixels order[:k]."""
    rng = np.random.default_rng(1)
    order = rng.permutation(16)
    offsets = rng.normal(size=(40, 16))
    spread = np.linalg.qr(offsets - offsets.mean(axis=0))[0] * np.arange(16.0, 0.0, -1.0)
    mean = rng.uniform(2.0, 4.0, size=16)
    train = (mean + spread[:, np.argsort(order)]).astype(np.float32)
    test = (mean + 3.0 * rng.normal(size=(6, 16))).astype(np.float32)
    return order, mean, train, test


def _kept(pixels) -> np.ndarray:
    mask = np.zeros(16)
    mask[pixels] = 1.0
    return mask


_PCA_DEFAULT_HINT = ("subtract the mean of x_train (not of x_test) before the SVD and before "
                     "projecting x_test, add it back afterwards, and keep the top rows of Vt "
                     "(largest singular values) of the TRAINING data.")


def _pca_mistake(result, k: int) -> str:
    """The hint naming the typical mistake that gives `result` on the axes data (as the
    visible test does), else the general hint."""
    order, mean, train, test = _pca_axes_data()
    centred, own_mean = test - mean, test.mean(axis=0)
    uncentred = np.linalg.svd(train, full_matrices=False)[2][:k]
    of_test = np.linalg.svd(centred, full_matrices=False)[2][:k]
    mistakes = {
        "the training mean is not added back: D(z) = W^T z + mu.": centred * _kept(order[:k]),
        "x_test is not centred before the projection: E(x) = W (x - mu), mu the mean of "
        "x_train.": test * _kept(order[:k]) + mean,
        "nothing is centred: subtract the mean of x_train before the SVD and before projecting "
        "x_test, and add it back afterwards.": test @ uncentred.T @ uncentred,
        "x_test is centred on its own mean: use the mean of x_train (one test image alone would "
        "have no spread at all).": own_mean + (test - own_mean) * _kept(order[:k]),
        "the components come from x_test: fit the mean and the SVD on x_train only.":
            mean + centred @ of_test.T @ of_test,
        "these are the COLUMNS of Vt: the principal directions are its ROWS, vt[:n_components] "
        "(shape (k, D)), not vt[:, :n_components].": mean + centred * _kept(np.argsort(order)[:k]),
        "these are the directions of SMALLEST spread: keep the rows of Vt with the largest "
        "singular values (np.linalg.svd sorts them first; np.linalg.eigh sorts eigenvalues in "
        "ascending order).": mean + centred * _kept(order[-k:]),
        f"this is the reconstruction with {k + 1} components: keep exactly n_components rows, "
        "vt[:n_components].": mean + centred * _kept(order[:k + 1]),
        f"this is the reconstruction with {k - 1} components: keep exactly n_components rows, "
        "vt[:n_components].": mean + centred * _kept(order[:k - 1]),
        "x_test comes back unchanged: keep only the top n_components directions.": test,
    }
    try:
        flat = np.reshape(result, (len(test), -1)).astype(np.float64)
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


def probe_test_pca_reconstruct(answers):
    pca_reconstruct = answers["pca_reconstruct"]
    _, _, train, test, noisy_train = _pca_data()
    records = {_PCA_PLANE.format(k=k): (lambda k=k: pca_reconstruct(train.copy(), test.copy(), k))
               for k in (1, 2, 3)}
    records[_PCA_TRAIN] = lambda: pca_reconstruct(train.copy(), train[:5].copy(), 3)
    records[_PCA_FULL] = lambda: pca_reconstruct(noisy_train, test.copy(), 16)
    records[_PCA_SHIFTED] = lambda: pca_reconstruct(train.copy(), test + np.float32(50.0), 3)
    _, _, axes_train, axes_test = _pca_axes_data()
    records[_PCA_AXES] = lambda: pca_reconstruct(axes_train.reshape(40, 4, 4, 1),
                                                 axes_test.reshape(6, 4, 4, 1), 3)
    return records


def verdict_test_pca_reconstruct(got, ref):
    basis, mean_image, train, test, _ = _pca_data()

    def projected(images, k):
        """Centre on the training mean, project on the first k basis columns, add it back."""
        flat = images.reshape(len(images), 16) - mean_image
        return (mean_image + flat @ basis[:, :k] @ basis[:, :k].T).reshape(images.shape)

    # The order of the visible checks: 3 components first, where every mistake shows.
    expected = {_PCA_PLANE.format(k=k): projected(test, k) for k in (3, 2, 1)}
    expected[_PCA_TRAIN] = train[:5]
    expected[_PCA_FULL] = test
    expected[_PCA_SHIFTED] = projected(test + np.float32(50.0), 3)
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
    default_hint = _PCA_DEFAULT_HINT
    for name, target in expected.items():
        checks.check_shape(got[name], target.shape, name=name,
                           hint="flatten each example for the SVD, then reshape the result to "
                                "x_test.shape.")
        checks.check_dtype(got[name], "float32", name=name,
                           hint="cast the result with .astype(np.float32).")
    order, axes_mean, _, axes_test = _pca_axes_data()
    axes = got[_PCA_AXES]
    checks.check_shape(axes, (6, 4, 4, 1), name=_PCA_AXES,
                       hint="reshape the result to x_test.shape.")
    checks.check_close(axes, (axes_mean + (axes_test - axes_mean) * _kept(order[:3])).reshape(
        6, 4, 4, 1), atol=1e-3, name=_PCA_AXES, hint=_pca_mistake(axes, 3))
    for name, target in expected.items():
        atol = 1e-2 if name == _PCA_SHIFTED else 1e-3
        checks.check_close(got[name], target, atol=atol, name=name,
                           hint=hints.get(name, default_hint))
    errors = [float(np.mean((got[_PCA_PLANE.format(k=k)].astype(np.float64) - test) ** 2))
              for k in (1, 2, 3)]
    assert errors[0] >= errors[1] - 1e-6 >= errors[2] - 2e-6, (
        f"pca_reconstruct: expected a test error that does not grow with n_components; got "
        f"mean squared errors {[round(e, 6) for e in errors]} for k = 1, 2, 3. Hint: keep the "
        "components with the largest singular values first.")


# ---------------------------------------------------------------------------------------------
# Tasks 2 and 3: the autoencoder builders


def _model_records(build, builder: str, latent_dim: int, wild_std: float, num_wild: int,
                   conv: bool) -> dict:
    """Entries describing build(latent_dim): shapes, outputs, gradients and shared weights.
    The models are built by the first entry; the later ones use them."""
    import keras
    import tensorflow as tf

    call = f"{builder}({latent_dim})"
    rng = np.random.default_rng(latent_dim)
    images = rng.uniform(size=(4, 28, 28, 1)).astype(np.float32)
    wild_codes = rng.normal(0.0, wild_std, size=(num_wild, latent_dim)).astype(np.float32)
    models = {}

    def built():
        keras.utils.set_random_seed(latent_dim)
        parts = build(latent_dim)
        if not isinstance(parts, (tuple, list)) or len(parts) != 3:
            raise TypeError(f"expected a tuple (encoder, decoder, autoencoder); got "
                            f"{type(parts).__name__}")
        models["encoder"], models["decoder"], models["autoencoder"] = parts
        return True

    def shape_of(part, kind):
        shape = getattr(models[part], f"{kind}_shape")
        if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
            if len(shape) != 1:
                raise ValueError(f"the {part} has {len(shape)} {kind}s; expected one")
            shape = shape[0]
        return np.array([-1 if d is None else int(d) for d in shape], np.int64)

    def gradients():
        variables = models["autoencoder"].trainable_variables
        with tf.GradientTape() as tape:
            outputs = models["autoencoder"](images, training=True)
            flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
            projection = np.random.default_rng(0)
            loss = tf.add_n([tf.reduce_sum(o * projection.normal(size=o.shape).astype(np.float32))
                             for o in flat])
        grads = tape.gradient(loss, variables)
        return {"norms": np.array([np.nan if g is None else float(tf.norm(tf.cast(g, tf.float32)))
                                   for g in grads], np.float64),
                "paths": np.array([str(v.path) for v in variables] or [""], dtype=str)}

    def weights():
        ids = {part: {id(v) for v in models[part].trainable_variables}
               for part in ("encoder", "decoder", "autoencoder")}
        parts = ids["encoder"] | ids["decoder"]
        return {"encoder": len(ids["encoder"]), "decoder": len(ids["decoder"]),
                "autoencoder only": len(ids["autoencoder"] - parts),
                "missing from the autoencoder": len(parts - ids["autoencoder"])}

    records = {f"{call} builds": built}
    for part in ("encoder", "decoder", "autoencoder"):
        for kind in ("input", "output"):
            records[f"{part} {kind} shape of {call}"] = (
                lambda part=part, kind=kind: shape_of(part, kind))
    records[f"decoder of {call} on {num_wild} random codes with std {wild_std:g}"] = (
        lambda: models["decoder"](wild_codes))
    records[f"encoder of {call} on 4 random images"] = lambda: models["encoder"](images)
    records[f"autoencoder of {call} on 4 random images"] = lambda: models["autoencoder"](images)
    records[f"decoder(encoder(x)) of {call} on the same 4 images"] = (
        lambda: models["decoder"](models["encoder"](images)))
    records[f"gradients of the autoencoder of {call}"] = gradients
    records[f"trainable weights of {call}"] = weights
    if conv:
        def strided(part, kind):
            def walk(model):
                for layer in getattr(model, "layers", []):
                    yield layer
                    yield from walk(layer)
            return sum(1 for layer in walk(models[part])
                       if isinstance(layer, kind) and max(layer.strides) > 1)
        records[f"strided Conv2D layers in the encoder of {call}"] = (
            lambda: strided("encoder", keras.layers.Conv2D))
        records[f"strided Conv2DTranspose layers in the decoder of {call}"] = (
            lambda: strided("decoder", keras.layers.Conv2DTranspose))
    return records


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


def _model_verdict(got, builder: str, latent_dim: int, wild_std: float, num_wild: int,
                   conv: bool) -> None:
    call = f"{builder}({latent_dim})"
    flat_code = ("the code must be a flat vector of latent_dim numbers: Flatten the "
                 + ("7 x 7 feature maps" if conv else "image first")
                 + " and end the encoder with Dense(latent_dim).")
    _raised(got, f"{call} builds", "print each model's summary(); " + flat_code)
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
            name = f"{part} {kind} shape of {call}"
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

    wild = f"decoder of {call} on {num_wild} random codes with std {wild_std:g}"
    checks.check_shape(got[wild], (num_wild, 28, 28, 1), name=wild, hint=shape_hints["decoder"])
    checks.check_range(got[wild], 0.0, 1.0, name=wild,
                       hint="pixels are in [0, 1], even for extreme codes: end the decoder with "
                            "a sigmoid activation.")
    codes = f"encoder of {call} on 4 random images"
    checks.check_shape(got[codes], (4, latent_dim), name=codes, hint=flat_code)
    reconstructed = f"autoencoder of {call} on 4 random images"
    checks.check_shape(got[reconstructed], (4, 28, 28, 1), name=reconstructed)
    checks.check_range(got[reconstructed], 0.0, 1.0, name=reconstructed,
                       hint="end the decoder with a sigmoid activation.")
    composed = got[f"decoder(encoder(x)) of {call} on the same 4 images"]
    checks.check_close(got[reconstructed], composed, atol=1e-5,
                       name=f"autoencoder(x) compared with decoder(encoder(x)) of {call}",
                       hint="build the autoencoder by calling the SAME encoder and decoder: "
                            "keras.Model(x, decoder(encoder(x))), not new layers.")

    counts = f"trainable weights of {call}"
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
    grads = f"gradients of the autoencoder of {call}"
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
            name = f"strided {layer} layers in the {part} of {call}"
            assert got[name] > 0, (
                f"{builder}: expected the {part} to "
                f"{'downsample' if part == 'encoder' else 'upsample'} with a strided "
                f"layers.{layer} (strides=2); found none. Hint: {hint}")


def probe_test_build_dense_autoencoder(answers):
    build = answers["build_dense_autoencoder"]
    return {**_model_records(build, "build_dense_autoencoder", 3, 10.0, 16, conv=False),
            **_model_records(build, "build_dense_autoencoder", 7, 100.0, 8, conv=False)}


def verdict_test_build_dense_autoencoder(got, ref):
    _model_verdict(got, "build_dense_autoencoder", 3, 10.0, 16, conv=False)
    _model_verdict(got, "build_dense_autoencoder", 7, 100.0, 8, conv=False)


def probe_test_build_conv_autoencoder(answers):
    build = answers["build_conv_autoencoder"]
    return {**_model_records(build, "build_conv_autoencoder", 3, 10.0, 16, conv=True),
            **_model_records(build, "build_conv_autoencoder", 7, 100.0, 8, conv=True)}


def verdict_test_build_conv_autoencoder(got, ref):
    _model_verdict(got, "build_conv_autoencoder", 3, 10.0, 16, conv=True)
    _model_verdict(got, "build_conv_autoencoder", 7, 100.0, 8, conv=True)


# ---------------------------------------------------------------------------------------------
# Task 4: add_noise


def _noise_images():
    return np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32)


_NOISY = "add_noise(images, 0.5, seed=1)"
_INPUT_AFTER = "the input images after add_noise(images, 0.5, seed=1)"
_AGAIN = "add_noise(images, 0.5, seed=1) called a second time"
_SEED_2 = "add_noise(images, 0.5, seed=2)"
_NO_NOISE = "add_noise(images, 0.0, seed=3)"
_GREY = "add_noise(64 grey images of 0.5, 0.1, seed=4)"
_WHITE = "add_noise(10 white images, 0.5, seed=5)"
_DOUBLES = "add_noise(float64 array of shape (3, 5) filled with 0.5, 0.2, seed=6)"


def probe_test_add_noise(answers):
    add_noise = answers["add_noise"]
    images = _noise_images()
    return {
        _NOISY: lambda: np.array(add_noise(images, 0.5, seed=1)),  # a copy, taken at once
        _INPUT_AFTER: lambda: images,
        _AGAIN: lambda: add_noise(_noise_images(), 0.5, seed=1),
        _SEED_2: lambda: add_noise(_noise_images(), 0.5, seed=2),
        _NO_NOISE: lambda: add_noise(_noise_images(), 0.0, seed=3),
        _GREY: lambda: add_noise(np.full((64, 28, 28, 1), 0.5, np.float32), 0.1, seed=4),
        _WHITE: lambda: add_noise(np.ones((10, 28, 28, 1), np.float32), 0.5, seed=5),
        _DOUBLES: lambda: add_noise(np.full((3, 5), 0.5), 0.2, seed=6),
    }


def verdict_test_add_noise(got, ref):
    images = _noise_images()
    noisy = got[_NOISY]
    checks.check_shape(noisy, images.shape, name=_NOISY)
    checks.check_dtype(noisy, "float32", name=_NOISY,
                       hint="return the dtype of the input: .astype(images.dtype).")
    checks.check_range(noisy, 0.0, 1.0, name=_NOISY,
                       hint="clip the noisy images to [0, 1] with np.clip.")
    checks.check_close(got[_INPUT_AFTER], images, atol=0, name=_INPUT_AFTER,
                       hint="do not modify the input in place (no +=); build a new array.")
    checks.check_close(got[_AGAIN], noisy, atol=0, name=f"{_AGAIN}, compared with the first",
                       hint="draw the noise from np.random.default_rng(seed), not from the "
                            "unseeded global generator.")
    other = got[_SEED_2]
    assert other.shape != noisy.shape or not np.allclose(other, noisy), (
        "add_noise: expected different images for seeds 1 and 2; got the same. Hint: pass "
        "`seed` to np.random.default_rng(seed).")
    checks.check_close(got[_NO_NOISE], images, atol=1e-7, name=_NO_NOISE,
                       hint="x + 0 * noise must be x.")
    grey = got[_GREY]
    checks.check_shape(grey, (64, 28, 28, 1), name=_GREY)
    difference = grey.astype(np.float64) - 0.5
    checks.check_close(difference.std(), 0.1, rtol=0.05,
                       name=f"std of the noise of {_GREY}",
                       hint="multiply STANDARD normal noise (np.random.default_rng(seed)."
                            "standard_normal or .normal(0, 1)) by noise_factor.")
    checks.check_close(difference.mean(), 0.0, atol=0.005, name=f"mean of the noise of {_GREY}",
                       hint="the noise must have mean 0: use a normal, not a uniform on [0, 1].")
    beyond = float(np.mean(np.abs(difference) > 0.2))
    assert 0.035 < beyond < 0.057, (
        f"{_GREY}: expected about 4.6% of the noise beyond 2 noise_factor, as for Gaussian "
        f"noise; got {beyond:.1%}. Hint: draw normal noise (standard_normal), not uniform noise.")
    white = got[_WHITE]
    checks.check_shape(white, (10, 28, 28, 1), name=_WHITE)
    checks.check_range(white, 0.0, 1.0, name=_WHITE,
                       hint="clip the noisy images to [0, 1] with np.clip.")
    clipped = float(np.mean(white == 1.0))
    assert 0.4 < clipped < 0.6, (
        f"{_WHITE}: expected about half of the pixels clipped to exactly 1.0 (noise above 0); "
        f"got {clipped:.1%}. Hint: add zero-mean noise, then np.clip(..., 0, 1).")
    doubles = got[_DOUBLES]
    checks.check_shape(doubles, (3, 5), name=_DOUBLES,
                       hint="keep the shape of the input, whatever it is.")
    checks.check_dtype(doubles, "float64", name=_DOUBLES,
                       hint="return the dtype of the input: .astype(images.dtype), not a fixed "
                            "float32.")


# ---------------------------------------------------------------------------------------------
# Task 5: l1_activity_penalty

_L1_CODES = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, -1.0]], np.float32)
_L1_VALUE = "l1_activity_penalty([[1, -2, 0], [3, 0, -1]], weight=0.5)"
_L1_DOUBLED = "l1_activity_penalty of the same codes repeated twice in the batch, weight=0.5"
_L1_REACHES = "a gradient of l1_activity_penalty(codes, 0.5) reaches the codes"
_L1_GRADIENT = "gradient of l1_activity_penalty(codes, 0.5) with respect to the codes"
_L1_GRAPH = "l1_activity_penalty(codes, 0.1) inside a compiled tf.function"
_L1_RANDOM = "l1_activity_penalty(32 random codes of 10 units, 0.01)"
_L1_ZERO = "l1_activity_penalty(zero codes of shape (4, 5), 3.0)"


def _l1_random_codes():
    return np.random.default_rng(0).normal(size=(32, 10)).astype(np.float32)


def probe_test_l1_activity_penalty(answers):
    import tensorflow as tf

    l1_activity_penalty = answers["l1_activity_penalty"]

    def gradient():
        variable = tf.Variable(_L1_CODES)
        with tf.GradientTape() as tape:
            value = l1_activity_penalty(variable, 0.5)
        try:
            return tape.gradient(value, variable)
        except (AttributeError, TypeError, ValueError):  # a NumPy result is not a tensor
            return None

    def gradient_values():
        values = gradient()
        if values is None:
            raise ValueError("no gradient reaches the codes")
        return values

    return {
        _L1_VALUE: lambda: l1_activity_penalty(_L1_CODES.copy(), 0.5),
        _L1_DOUBLED: lambda: l1_activity_penalty(np.concatenate([_L1_CODES, _L1_CODES]), 0.5),
        _L1_REACHES: lambda: gradient() is not None,
        _L1_GRADIENT: gradient_values,
        _L1_GRAPH: lambda: tf.function(lambda h: l1_activity_penalty(h, 0.1), autograph=False)(
            tf.constant(_L1_CODES)),
        _L1_RANDOM: lambda: l1_activity_penalty(_l1_random_codes(), 0.01),
        _L1_ZERO: lambda: l1_activity_penalty(np.zeros((4, 5), np.float32), 3.0),
    }


def verdict_test_l1_activity_penalty(got, ref):
    checks.check_shape(got[_L1_VALUE], (), name=_L1_VALUE,
                       hint="return one number for the whole batch: reduce over both axes.")
    checks.check_close(got[_L1_VALUE], 1.75, atol=1e-5, name=_L1_VALUE,
                       hint="per code sum_j |h_j| is 3 and 4, their batch mean 3.5, times 0.5 "
                            "gives 1.75. Getting 3.75 means squares (L2) instead of absolute "
                            "values; 3.5 a sum over the batch instead of a mean; 0.583 a mean "
                            "over every entry instead of a sum over code units.")
    checks.check_shape(got[_L1_DOUBLED], (), name=_L1_DOUBLED,
                       hint="return one number for the whole batch: reduce over both axes.")
    checks.check_close(got[_L1_DOUBLED], 1.75, atol=1e-5, name=_L1_DOUBLED,
                       hint="average over the batch (axis 0) so the penalty does not grow with "
                            "the batch size.")
    _raised(got, _L1_REACHES, "use keras.ops on the tensor, not NumPy.")
    assert bool(got[_L1_REACHES]), (
        f"{_L1_REACHES}: expected a gradient; got none. Hint: use keras.ops on the tensor, not "
        "NumPy (np.abs or np.asarray cuts the graph).")
    checks.check_close(got[_L1_GRADIENT], 0.5 * np.sign(_L1_CODES) / 2, atol=1e-5,
                       name=_L1_GRADIENT,
                       hint="the derivative of weight * mean_b sum_j |h_bj| is "
                            "weight * sign(h) / batch_size.")
    _raised(got, _L1_GRAPH, "l1_activity_penalty must work on TensorFlow tensors inside a "
                            "compiled training step: use keras.ops, not NumPy.")
    checks.check_shape(got[_L1_GRAPH], (), name=_L1_GRAPH,
                       hint="return one number for the whole batch.")
    checks.check_close(got[_L1_GRAPH], 0.35, atol=1e-5, name=_L1_GRAPH,
                       hint="use keras.ops throughout so the same code runs in a graph.")
    random_codes = _l1_random_codes().astype(np.float64)
    checks.check_shape(got[_L1_RANDOM], (), name=_L1_RANDOM,
                       hint="return one number for the whole batch.")
    checks.check_close(got[_L1_RANDOM], 0.01 * np.abs(random_codes).sum(axis=1).mean(),
                       rtol=0, atol=1e-5, name=_L1_RANDOM,
                       hint="weight times the batch mean of sum_j |h_j|.")
    checks.check_shape(got[_L1_ZERO], (), name=_L1_ZERO, hint="return one number for the batch.")
    checks.check_close(got[_L1_ZERO], 0.0, atol=0, name=_L1_ZERO,
                       hint="zero codes must give a zero penalty: no constant terms.")


# ---------------------------------------------------------------------------------------------
# Task 5b: contractive_penalty

_CP_KERNEL = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, -1.0]], np.float32)
_CP_BIAS = np.array([0.5, -1.0], np.float32)
_CP_LINEAR = "contractive_penalty(linear encoder with kernel [[1, 2], [3, 0], [0, -1]], 4 inputs)"
_CP_TILED = "contractive_penalty(the same linear encoder, the 4 inputs repeated 3 times)"
_CP_IMAGES = "contractive_penalty(Flatten + linear Dense(3), 5 images 4 x 4 x 1)"
_CP_MLP = "contractive_penalty(two tanh layers 5 -> 4 -> 3, 6 inputs)"
_CP_GRAPH = "contractive_penalty(two tanh layers 5 -> 4 -> 3, 6 inputs) inside a tf.function"
_CP_GRADIENT = "gradient of contractive_penalty(linear encoder, x) with respect to its kernel"


def _cp_data():
    """Inputs and weights of the probes (the first ones as in the visible test)."""
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    image_kernel = np.random.default_rng(1).normal(size=(16, 3)).astype(np.float32)
    images = np.random.default_rng(2).uniform(size=(5, 4, 4, 1)).astype(np.float32)
    rng = np.random.default_rng(3)
    mlp = [rng.normal(0.0, 0.8, size=(5, 4)).astype(np.float32),
           rng.normal(0.0, 0.3, size=4).astype(np.float32),
           rng.normal(0.0, 0.8, size=(4, 3)).astype(np.float32),
           rng.normal(0.0, 0.3, size=3).astype(np.float32)]
    mlp_x = rng.normal(size=(6, 5)).astype(np.float32)
    return x, image_kernel, images, mlp, mlp_x


def probe_test_contractive_penalty(answers):
    import keras
    import tensorflow as tf

    contractive_penalty = answers["contractive_penalty"]
    x, image_kernel, images, mlp, mlp_x = _cp_data()
    layers = keras.layers

    def model(input_shape, *stack, weights):
        built = keras.Sequential([keras.Input(input_shape), *stack])
        built.set_weights(weights)
        return built

    built = {}

    def linear():  # one model for the entries that use it (each build costs time)
        if "linear" not in built:
            built["linear"] = model((3,), layers.Dense(2), weights=[_CP_KERNEL, _CP_BIAS])
        return built["linear"]

    def mlp_model():
        return model((5,), layers.Dense(4, activation="tanh"), layers.Dense(3, activation="tanh"),
                     weights=mlp)

    def gradient():
        encoder = linear()
        with tf.GradientTape() as tape:
            value = contractive_penalty(encoder, x)
        try:
            found = tape.gradient(value, encoder.layers[-1].kernel)
        except (AttributeError, TypeError, ValueError):  # a NumPy result is not a tensor
            found = None
        if found is None:
            raise ValueError("no gradient reaches the encoder's kernel")
        return found

    def graph():
        encoder = mlp_model()
        return tf.function(lambda inputs: contractive_penalty(encoder, inputs))(
            tf.constant(mlp_x))

    return {
        _CP_LINEAR: lambda: contractive_penalty(linear(), x.copy()),
        _CP_TILED: lambda: contractive_penalty(linear(), np.tile(x, (3, 1))),
        _CP_IMAGES: lambda: contractive_penalty(
            model((4, 4, 1), layers.Flatten(), layers.Dense(3),
                  weights=[image_kernel, np.zeros(3, np.float32)]), images.copy()),
        _CP_MLP: lambda: contractive_penalty(mlp_model(), mlp_x.copy()),
        _CP_GRAPH: graph,
        _CP_GRADIENT: gradient,
    }


def _cp_mlp_value() -> float:
    """The penalty of the two tanh layers, from their Jacobians computed in NumPy."""
    _, _, _, (w1, b1, w2, b2), x = _cp_data()
    x = x.astype(np.float64)
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    # J_b = diag(1 - h2^2) w2^T diag(1 - h1^2) w1^T, shape (3, 5) per example
    jacobians = np.einsum("bj,kj,bk,ik->bji", 1 - h2 ** 2, w2, 1 - h1 ** 2, w1)
    return float(np.mean(np.sum(jacobians ** 2, axis=(1, 2))))


def _cp_check(got, name: str, expected: float, hint: str) -> None:
    _raised(got, name, hint)
    checks.check_shape(got[name], (), name=name,
                       hint="return one number for the whole batch: sum over the code units and "
                            "the input axes, then average over the batch.")
    checks.check_close(got[name], expected, rtol=1e-4, atol=1e-4, name=name, hint=hint)


def verdict_test_contractive_penalty(got, ref):
    _, image_kernel, _, _, _ = _cp_data()
    watch = ("a Jacobian of None means the tape did not record x: convert it with "
             "tf.convert_to_tensor(x, tf.float32) and call tape.watch(x) before encoder(x), "
             "inside the `with tf.GradientTape() as tape:` block.")
    _raised(got, _CP_LINEAR, watch)
    _cp_check(got, _CP_LINEAR, 15.0,
              "each example's Jacobian is kernel^T, so the penalty is ||kernel||_F^2 = 15. "
              "Getting 60 means a sum over the batch instead of a mean; 2.5 a mean over the "
              "Jacobian's entries instead of a sum; 19 = ||sum_i grad h_i||^2, the gradient of "
              "the summed code (tape.gradient) instead of one gradient per code unit "
              "(tape.batch_jacobian); 3.87 or 5.4 norms that are not squared; 0 a tape that never "
              "watched x; any other value: differentiate the code with respect to the input x, "
              "not the encoder's weights.")
    _cp_check(got, _CP_TILED, 15.0, "average over the batch so the penalty does not grow with it.")
    _cp_check(got, _CP_IMAGES, float(np.sum(image_kernel.astype(np.float64) ** 2)),
              "sum the squared Jacobian over EVERY axis except the batch axis: the code units and "
              "all input axes (4, 4, 1).")
    _cp_check(got, _CP_MLP, _cp_mlp_value(),
              "differentiate the encoder's output at each example of x (call encoder(x) inside "
              "the tape, after tape.watch(x)); the Jacobian of a deeper encoder is the product "
              "of its layers' Jacobians: let tape.batch_jacobian(codes, x) compute it, then sum "
              "its squares per example.")
    _cp_check(got, _CP_GRAPH, _cp_mlp_value(),
              "the penalty must also run inside a compiled train_step (a tf.function): use "
              "TensorFlow operations only, no .numpy() or NumPy functions.")
    _raised(got, _CP_GRADIENT, "stay in TensorFlow operations (no .numpy(), np.sum or float()) "
                               "so that training can differentiate the penalty with respect to "
                               "the encoder's weights.")
    checks.check_close(got[_CP_GRADIENT], 2 * _CP_KERNEL, atol=1e-4, name=_CP_GRADIENT,
                       hint="the derivative of ||kernel||_F^2 is 2 * kernel: compute the penalty "
                            "from the tape's Jacobian with TensorFlow operations.")


# ---------------------------------------------------------------------------------------------
# Task 6: interpolate


def _interpolation_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    codes_a, codes_b = rng.normal(size=16), rng.normal(size=16)
    return {"matrices": (a, b, 10), "images": (np.zeros((28, 28, 1), np.float32),
                                               np.ones((28, 28, 1), np.float32), 4),
            "two steps": (np.array([1.0, 2.0]), np.array([3.0, 6.0]), 2),
            "three steps": (np.array([0.0]), np.array([1.0]), 3),
            "codes": (codes_a, codes_b, 7)}


_INTERPOLATIONS = {
    "matrices": "interpolate(a, b, 10) for a of shape (2, 3)",
    "images": "interpolate(black image, white image, 4)",
    "two steps": "interpolate([1, 2], [3, 6], 2)",
    "three steps": "interpolate([0], [1], 3)",
    "codes": "interpolate(code_a, code_b, 7) for codes of 16 numbers",
}


def probe_test_interpolate(answers):
    interpolate = answers["interpolate"]
    inputs = _interpolation_inputs()
    return {name: (lambda key=key: interpolate(*inputs[key]))
            for key, name in _INTERPOLATIONS.items()}


def verdict_test_interpolate(got, ref):
    inputs = _interpolation_inputs()
    for key, name in _INTERPOLATIONS.items():
        a, b, num_steps = inputs[key]
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


def _probe_data():
    """The visible test's separated classes and random labels, in the same random order."""
    rng = np.random.default_rng(0)
    class_means = rng.normal(0.0, 3.0, size=(10, 20))
    labels = np.repeat(np.arange(10), 20)
    features_train = class_means[labels] + rng.normal(size=(200, 20))
    features_test = class_means[labels] + rng.normal(size=(200, 20))
    noise_train, noise_test = rng.normal(size=(100, 50)), rng.normal(size=(200, 50))
    noise_labels_train, noise_labels_test = rng.integers(0, 10, 100), rng.integers(0, 10, 200)
    half_wrong = labels.copy()
    half_wrong[::2] = (half_wrong[::2] + 1) % 10
    return {
        "separated": (features_train, labels, features_test, labels),
        "chance": (noise_train, noise_labels_train, noise_test, noise_labels_test),
        "half": (features_train[:, :16].reshape(200, 4, 4, 1), labels,
                 features_test[:, :16].reshape(200, 4, 4, 1), half_wrong),
    }


_ACCURACIES = {
    "separated": "probe_accuracy on 10 well-separated classes",
    "chance": "probe_accuracy on random features with random labels",
    "half": "probe_accuracy on (200, 4, 4, 1) images with every other test label changed",
}


def probe_test_probe_accuracy(answers):
    probe_accuracy = answers["probe_accuracy"]
    data = _probe_data()

    def described(key):
        accuracy = probe_accuracy(*data[key])
        return {"value": accuracy, "type": type(accuracy).__name__,
                "is a float": isinstance(accuracy, (float, np.floating))}

    return {name: (lambda key=key: described(key)) for key, name in _ACCURACIES.items()}


def verdict_test_probe_accuracy(got, ref):
    accuracies = {}
    for key, name in _ACCURACIES.items():
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
    assert accuracies["separated"] >= 0.9, (
        f"{_ACCURACIES['separated']}: expected at least 0.9; got {accuracies['separated']:.3f}. "
        "Hint: return the accuracy (fraction correct), not the loss or the error rate, and train "
        "long enough (a few hundred full-batch steps).")
    assert accuracies["chance"] <= 0.3, (
        f"{_ACCURACIES['chance']}: expected about 0.1 (chance); got {accuracies['chance']:.3f}. "
        "Hint: measure accuracy on features_test and y_test, not on the training data.")
    assert 0.4 <= accuracies["half"] <= 0.55, (
        f"{_ACCURACIES['half']}: expected about 0.5; got {accuracies['half']:.3f}. Hint: flatten "
        "the images, and compare the predictions with y_test.")
