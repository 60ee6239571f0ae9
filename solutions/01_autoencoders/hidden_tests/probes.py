"""Probes of 01_autoencoders' hidden tests: the kernel side (see grading/probe_runtime.py). Each
calls the student's functions on the inputs the grader drew for this class run (arrays, the
latent sizes and Keras seeds of the models, the weights of the small probe encoders) and returns
what they gave, or what it measured of the models they built (shapes, outputs, gradient norms,
shared weights, strided layers); nothing here knows the right answers (verdicts.py, in the
grader, decides). No graded test lends an earlier task: each task is probed on its own.

Keras and TensorFlow are imported inside the probes' bodies, so the grader, which imports this
module for the entry names of the models, never needs them."""

from functools import partial

import numpy as np


def _call(function, args):
    """function(*args), each array argument a fresh copy (an answer that changes its input in
    place does not change the next entry's)."""
    return function(*[np.array(a) if isinstance(a, np.ndarray) else a for a in args])


def _calls(function, inputs) -> dict:
    """{name: entry} for inputs {key: (name, args)}."""
    return {name: partial(_call, function, args) for name, args in inputs.values()}


# ---------------------------------------------------------------------------------------------
# Task 1: pca_reconstruct


def probe_test_pca_reconstruct(answers, inputs):
    return _calls(answers["pca_reconstruct"], inputs)


# ---------------------------------------------------------------------------------------------
# Tasks 2 and 3: the autoencoder builders


def model_names(builder: str, case: dict) -> dict:
    """The entry names of one built model (the verdicts read the same names)."""
    call = f"{builder}({case['latent_dim']})"
    images = len(case["images"])
    names = {"call": call, "builds": f"{call} builds",
             "wild": f"decoder of {call} on {len(case['wild_codes'])} random codes with std "
                     f"{case['wild_std']:g}",
             "codes": f"encoder of {call} on {images} random images",
             "reconstructed": f"autoencoder of {call} on {images} random images",
             "composed": f"decoder(encoder(x)) of {call} on the same {images} images in another "
                         "order",
             "gradients": f"gradients of the autoencoder of {call}",
             "weights": f"trainable weights of {call}",
             "strided encoder": f"strided Conv2D layers in the encoder of {call}",
             "strided decoder": f"strided Conv2DTranspose layers in the decoder of {call}"}
    for part in ("encoder", "decoder", "autoencoder"):
        for kind in ("input", "output"):
            names[f"{part} {kind}"] = f"{part} {kind} shape of {call}"
    return names


def _model_records(build, builder: str, case: dict, conv: bool) -> dict:
    """Entries describing build(latent_dim): shapes, outputs, gradients and shared weights.
    The models are built by the first entry (Keras seeded from the inputs); the later ones use
    them."""
    import keras
    import tensorflow as tf

    names = model_names(builder, case)
    latent_dim, images, order = case["latent_dim"], case["images"], case["order"]
    models = {}

    def built():
        keras.utils.set_random_seed(case["seed"])
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
            projection = np.random.default_rng(case["projection"])
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

    records = {names["builds"]: built}
    for part in ("encoder", "decoder", "autoencoder"):
        for kind in ("input", "output"):
            records[names[f"{part} {kind}"]] = partial(shape_of, part, kind)
    records[names["wild"]] = lambda: models["decoder"](case["wild_codes"])
    records[names["codes"]] = lambda: models["encoder"](images)
    records[names["reconstructed"]] = lambda: models["autoencoder"](images)
    records[names["composed"]] = lambda: models["decoder"](models["encoder"](images[order]))
    records[names["gradients"]] = gradients
    records[names["weights"]] = weights
    if conv:
        def strided(part, kind):
            def walk(model):
                for layer in getattr(model, "layers", []):
                    yield layer
                    yield from walk(layer)
            return sum(1 for layer in walk(models[part])
                       if isinstance(layer, kind) and max(layer.strides) > 1)
        records[names["strided encoder"]] = lambda: strided("encoder", keras.layers.Conv2D)
        records[names["strided decoder"]] = lambda: strided("decoder",
                                                            keras.layers.Conv2DTranspose)
    return records


def _builder_records(build, builder: str, inputs, conv: bool) -> dict:
    records = {}
    for case in inputs:
        records.update(_model_records(build, builder, case, conv))
    return records


def probe_test_build_dense_autoencoder(answers, inputs):
    return _builder_records(answers["build_dense_autoencoder"], "build_dense_autoencoder",
                            inputs, conv=False)


def probe_test_build_conv_autoencoder(answers, inputs):
    return _builder_records(answers["build_conv_autoencoder"], "build_conv_autoencoder",
                            inputs, conv=True)


# ---------------------------------------------------------------------------------------------
# Task 4: add_noise


def _noise_records(add_noise, case: dict) -> dict:
    """The entries of one batch of images: noisy images, the input afterwards, the same seed
    again, another seed, and no noise."""
    names, factor, (first, second, silent) = case["names"], case["factor"], case["seeds"]
    images = np.array(case["images"])  # the probe's own copy, watched for changes in place
    return {
        names["noisy"]: lambda: np.array(add_noise(images, factor, seed=first)),  # a copy, at once
        names["input after"]: lambda: images,
        names["again"]: lambda: add_noise(np.array(case["images"]), factor, seed=first),
        names["other seed"]: lambda: add_noise(np.array(case["images"]), factor, seed=second),
        names["no noise"]: lambda: add_noise(np.array(case["images"]), 0.0, seed=silent),
    }


def probe_test_add_noise(answers, inputs):
    add_noise = answers["add_noise"]
    records = {}
    for case in inputs["batches"]:
        records.update(_noise_records(add_noise, case))
    records.update(_calls(add_noise, inputs["calls"]))
    return records


# ---------------------------------------------------------------------------------------------
# Task 5: l1_activity_penalty


def probe_test_l1_activity_penalty(answers, inputs):
    import tensorflow as tf

    l1_activity_penalty = answers["l1_activity_penalty"]
    codes, weight = inputs["gradient"]["args"]

    def gradient():
        variable = tf.Variable(codes)
        with tf.GradientTape() as tape:
            value = l1_activity_penalty(variable, weight)
        try:
            return tape.gradient(value, variable)
        except (AttributeError, TypeError, ValueError):  # a NumPy result is not a tensor
            return None

    def gradient_values():
        values = gradient()
        if values is None:
            raise ValueError("no gradient reaches the codes")
        return values

    graph_name, (graph_codes, graph_weight) = inputs["graph"]
    return {
        **_calls(l1_activity_penalty, inputs["values"]),
        inputs["gradient"]["reaches"]: lambda: gradient() is not None,
        inputs["gradient"]["values"]: gradient_values,
        graph_name: lambda: tf.function(lambda h: l1_activity_penalty(h, graph_weight),
                                        autograph=False)(tf.constant(graph_codes)),
    }


# ---------------------------------------------------------------------------------------------
# Task 5b: contractive_penalty


def probe_test_contractive_penalty(answers, inputs):
    import keras
    import tensorflow as tf

    contractive_penalty = answers["contractive_penalty"]
    layers = keras.layers
    linear, image, mlp = inputs["linear"], inputs["images"], inputs["mlp"]

    def model(input_shape, *stack, weights):
        built = keras.Sequential([keras.Input(input_shape), *stack])
        built.set_weights(weights)
        return built

    built = {}

    def linear_model():  # one model for the entries that use it (each build costs time)
        if "linear" not in built:
            kernel, bias = linear["weights"]
            built["linear"] = model((kernel.shape[0],), layers.Dense(kernel.shape[1]),
                                    weights=[kernel, bias])
        return built["linear"]

    def mlp_model():
        w1, b1, w2, b2 = mlp["weights"]
        return model((w1.shape[0],), layers.Dense(w1.shape[1], activation="tanh"),
                     layers.Dense(w2.shape[1], activation="tanh"), weights=[w1, b1, w2, b2])

    def image_model():
        kernel = image["kernel"]
        return model(image["x"].shape[1:], layers.Flatten(), layers.Dense(kernel.shape[1]),
                     weights=[kernel, np.zeros(kernel.shape[1], np.float32)])

    def gradient():
        encoder = linear_model()
        with tf.GradientTape() as tape:
            value = contractive_penalty(encoder, linear["x"])
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
            tf.constant(mlp["x"]))

    return {
        linear["names"]["value"]: lambda: contractive_penalty(linear_model(),
                                                              np.array(linear["x"])),
        linear["names"]["tiled"]: lambda: contractive_penalty(linear_model(), linear["tiled"]),
        image["name"]: lambda: contractive_penalty(image_model(), np.array(image["x"])),
        mlp["names"]["value"]: lambda: contractive_penalty(mlp_model(), np.array(mlp["x"])),
        mlp["names"]["graph"]: graph,
        mlp["names"]["float64"]: lambda: contractive_penalty(mlp_model(),
                                                             np.array(mlp["x"], np.float64)),
        linear["names"]["gradient"]: gradient,
    }


# ---------------------------------------------------------------------------------------------
# Task 6: interpolate


def probe_test_interpolate(answers, inputs):
    interpolate = answers["interpolate"]
    return {name: partial(_call, interpolate, args) for name, args in inputs.items()}


# ---------------------------------------------------------------------------------------------
# Task 7: probe_accuracy


def _described(probe_accuracy, args) -> dict:
    accuracy = _call(probe_accuracy, args)
    return {"value": accuracy, "type": type(accuracy).__name__,
            "is a float": isinstance(accuracy, (float, np.floating))}


def probe_test_probe_accuracy(answers, inputs):
    probe_accuracy = answers["probe_accuracy"]
    return {name: partial(_described, probe_accuracy, args) for name, args in inputs.values()}


# ---------------------------------------------------------------------------------------------
# Design task: design_autoencoder


def probe_test_design_autoencoder(answers, inputs):
    """The design as data (its networks' configurations and its learning rate), never a
    number it reached: the grader trains it itself (trials.py)."""
    encoder, decoder, learning_rate = answers["design_autoencoder"](int(inputs["code_size"]))
    return {"encoder": encoder.to_json(), "decoder": decoder.to_json(),
            "learning_rate": float(learning_rate)}
