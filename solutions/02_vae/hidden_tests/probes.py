"""Probes of 02_vae's hidden tests: the kernel side (see grading/probe_runtime.py). Each calls
the student's functions on the inputs the grader drew for this class run (verdicts.py's
probe_inputs: the arrays, and the seeds, weights and beta of every tiny model built here) and
returns what they gave; nothing here knows the right answers (verdicts.py, in the grader,
decides them from the same inputs).

One mistake costs one task: Task 5's probe runs the student's VAE with Tasks 1-3 lent as data
(answers.earlier): a call of sample_latent, kl_divergence or reconstruction_loss with the
arguments the solution's VAE used on the same tiny VAEs gets the solution's output (for
sample_latent, the solution's recorded sample) and its gradient, so a wrong Task 1, 2 or 3 fails
only its own verdict. Task 5's images and weights are drawn apart from the inputs of Tasks 1-3,
so what is lent never answers an earlier task's probe."""

import importlib.util

import numpy as np

# Probes run in the student's kernel after the student's code, which may have patched the
# imported common.checks (to make a check pass): this module uses its own copy, loaded afresh
# from the read-only file, for redrawn_outputs.
_checks_spec = importlib.util.find_spec("common.checks")
checks = importlib.util.module_from_spec(_checks_spec)
_checks_spec.loader.exec_module(checks)

EARLIER = ("sample_latent", "kl_divergence", "reconstruction_loss")  # lent to Task 5

# ---------------------------------------------------------------------------------------------
# Entry names shared with verdicts.py (some carry the drawn sizes, so the messages name them).


def seeded_sample_name(seed):
    return f"two calls with seed={seed}"


def drawn_sample_name(count, mean, log_var):
    def numbers(values):
        return ", ".join(f"{float(v):.2f}" for v in np.ravel(values))

    return (f"sample_latent for {count:,} codes with z_mean = ({numbers(mean)}) and z_log_var = "
            f"({numbers(log_var)})")


def encoder_outputs_name(latent_dim, count):
    return f"build_vae_encoder({latent_dim}) outputs for {count} random images"


def decoder_outputs_name(latent_dim, count):
    return f"build_vae_decoder({latent_dim}) outputs for {count} random codes"


def redrawn_name(latent_dim, count):
    return (f"z_log_var of build_vae_encoder({latent_dim}) for {count} images, with its weights "
            "drawn at random")


def cvae_small_name(latent_dim, num_classes, count):
    return f"build_cvae({latent_dim}, {num_classes}) encoder outputs for {count} images"


def cvae_second_image_name(latent_dim, num_classes):
    return (f"build_cvae({latent_dim}, {num_classes}) encoder outputs for the second image with "
            "the first image's label")


def cvae_redrawn_name(latent_dim, num_classes, count):
    return (f"z_log_var of the build_cvae({latent_dim}, {num_classes}) encoder for {count} "
            "images, weights drawn at random")


def cvae_decoder_name(latent_dim, num_classes, count):
    return f"build_cvae({latent_dim}, {num_classes}) decoder outputs for {count} random codes"


def kl_step_name(beta, learning_rate):
    return (f"one SGD step (learning rate {learning_rate:g}) with beta = {beta:g} and a decoder "
            "that ignores z")


# ---------------------------------------------------------------------------------------------
# Measurement helpers (TensorFlow and Keras are imported inside).


def _cached(build):
    """A function of no argument returning build()'s value, computed once (its error too)."""
    box = []

    def get():
        if not box:
            try:
                box.append((True, build()))
            except Exception as error:
                box.append((False, error))
        ok, value = box[0]
        if not ok:
            raise value
        return value

    return get


def _seeded(build, seed):
    """_cached(build), built after keras.utils.set_random_seed(seed) (initial weights)."""
    def run():
        import keras

        keras.utils.set_random_seed(seed)
        return build()

    return _cached(run)


def _shapes(shape):
    """A Keras shape, or a list of shapes, as {"count": n, "0": dims, ...} with None as -1."""
    shapes = list(shape) if isinstance(shape, list) else [shape]
    record = {"count": len(shapes)}
    for i, one in enumerate(shapes):
        record[str(i)] = np.array([-1 if d is None else int(d) for d in one], dtype=np.int64)
    return record


def _model_io(model):
    return {"inputs": _shapes(model.input_shape), "outputs": _shapes(model.output_shape)}


def _outputs(value):
    """A model's output(s) as {"count": n, "0": array, ...}."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    record = {"count": len(values)}
    for i, one in enumerate(values):
        record[str(i)] = one
    return record


def _gradients(model, inputs, seed):
    """As common.checks.check_trainable: which trainable variables a random projection of the
    outputs (drawn from `seed`) reaches, and with a nonzero gradient."""
    import tensorflow as tf

    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
        rng = np.random.default_rng(seed)
        loss = tf.add_n([tf.reduce_sum(o * rng.normal(size=o.shape).astype(np.float32))
                         for o in flat])
    grads = tape.gradient(loss, variables)
    return {"variables": np.array([str(getattr(v, "path", getattr(v, "name", "?")))
                                   for v in variables], dtype=str),
            "reached": np.array([g is not None for g in grads], dtype=bool),
            "nonzero": np.array([g is not None and bool(np.any(tf.convert_to_tensor(g).numpy()))
                                 for g in grads], dtype=bool)}


# ---------------------------------------------------------------------------------------------
# Task 1: sample_latent


def probe_test_sample_latent(answers, inputs):
    import tensorflow as tf

    sample_latent = answers["sample_latent"]

    def many(case):
        count, mean, log_var = case
        return lambda: sample_latent(np.tile(mean, (count, 1)), np.tile(log_var, (count, 1)))

    small = inputs["small"]
    seed = inputs["seed"]

    def gradients():
        means, log_vars, weights = inputs["gradients"]
        mean_variable, log_var_variable = tf.Variable(means), tf.Variable(log_vars)
        with tf.GradientTape() as tape:
            z = sample_latent(mean_variable, log_var_variable)
            objective = tf.reduce_sum(weights * z)
        grad_mean, grad_log_var = tape.gradient(objective, [mean_variable, log_var_variable])
        record = {"z": z, "reached z_mean": grad_mean is not None,
                  "reached z_log_var": grad_log_var is not None}
        if grad_mean is not None:
            record["with respect to z_mean"] = grad_mean
        if grad_log_var is not None:
            record["with respect to z_log_var"] = grad_log_var
        return record

    def in_tf_function():
        means, log_vars = inputs["traced"]
        graph_sample = tf.function(
            sample_latent, input_signature=[tf.TensorSpec((None, means.shape[1]), tf.float32)] * 2)
        return {"first": graph_sample(means, log_vars), "second": graph_sample(means, log_vars)}

    return {
        "sample_latent(z_mean, z_log_var) for inputs of shape (20000, 3)": many(inputs["visible"]),
        drawn_sample_name(*inputs["drawn"]): many(inputs["drawn"]),
        "two calls of sample_latent with seed=None": lambda: {
            "first": sample_latent(small, small), "second": sample_latent(small, small)},
        seeded_sample_name(seed): lambda: {
            "first": sample_latent(small, small, seed=seed),
            "second": sample_latent(small, small, seed=seed)},
        "gradients of sum(weights * z) for z = sample_latent(z_mean, z_log_var)": gradients,
        "sample_latent inside a tf.function with an unknown batch size": in_tf_function,
        "sample_latent for 30,000 codes with z_mean = 3 and z_log_var = -6": many(
            inputs["narrow"]),
    }


# ---------------------------------------------------------------------------------------------
# Task 2: kl_divergence

KL_ZEROS = "kl_divergence(z_mean, z_log_var) for inputs of shape (3, 4)"
KL_KNOWN = "KL for mu = (1, 2), sigma^2 = (1, 1) [2.5] and for mu = 0, sigma^2 = (4, 1) [0.807]"
KL_RANDOM = "kl_divergence(z_mean, z_log_var) for random inputs of shape (7, 5)"
KL_GRADIENTS = "gradients of the summed kl_divergence for the random (7, 5) inputs"
KL_ONE_DIM = "kl_divergence for latent_dim = 1, mu = 3, log(sigma^2) = -2"


def probe_test_kl_divergence(answers, inputs):
    import tensorflow as tf

    kl_divergence = answers["kl_divergence"]

    def gradients():
        means, log_vars = inputs[KL_RANDOM]
        mean_variable, log_var_variable = tf.Variable(means), tf.Variable(log_vars)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(kl_divergence(mean_variable, log_var_variable))
        grad_mean, grad_log_var = tape.gradient(total, [mean_variable, log_var_variable])
        record = {"reached z_mean": grad_mean is not None,
                  "reached z_log_var": grad_log_var is not None}
        if grad_mean is not None:
            record["with respect to z_mean"] = grad_mean
        if grad_log_var is not None:
            record["with respect to z_log_var"] = grad_log_var
        return record

    entries = {name: (lambda args=args: kl_divergence(*args)) for name, args in inputs.items()}
    entries[KL_GRADIENTS] = gradients
    return entries


# ---------------------------------------------------------------------------------------------
# Task 3: reconstruction_loss

RECON_HALF = "loss of p = 0.5 at every pixel (784 log 2 = 543.4 nats)"
RECON_TOP = "loss with p = 0.9 on 392 white pixels and p = 0.2 on 392 black ones"
RECON_EXACT = "loss of a perfect reconstruction (p = x, exactly 0 or 1)"
RECON_WRONG = "loss when x_reconstructed is exactly 0 where x = 1"
RECON_GREY = "reconstruction_loss on random grey images of shape (3, 28, 28, 1)"
RECON_GRADIENT = "gradient of the summed reconstruction_loss on the grey images"


def probe_test_reconstruction_loss(answers, inputs):
    import tensorflow as tf

    reconstruction_loss = answers["reconstruction_loss"]

    def gradient():
        grey, predicted = inputs[RECON_GREY]
        predicted_variable = tf.Variable(predicted)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(reconstruction_loss(grey, predicted_variable))
        result = tape.gradient(total, predicted_variable)
        record = {"reached x_reconstructed": result is not None}
        if result is not None:
            record["with respect to x_reconstructed"] = result
        return record

    entries = {name: (lambda args=args: reconstruction_loss(*args))
               for name, args in inputs.items()}
    entries[RECON_GRADIENT] = gradient
    return entries


# ---------------------------------------------------------------------------------------------
# Task 4: build_vae_encoder and build_vae_decoder

NET_RANGE = "decoder outputs for random codes"


def probe_test_build_vae_networks(answers, inputs):
    build_vae_encoder = answers["build_vae_encoder"]
    build_vae_decoder = answers["build_vae_decoder"]
    latent_dim, seeds = inputs["latent_dim"], inputs["seeds"]
    images, many_images, codes = inputs["images"], inputs["many images"], inputs["codes"]
    encoder = _seeded(lambda: build_vae_encoder(2), seeds[0])
    decoder = _seeded(lambda: build_vae_decoder(2), seeds[1])
    encoder_k = _seeded(lambda: build_vae_encoder(latent_dim), seeds[2])
    decoder_k = _seeded(lambda: build_vae_decoder(latent_dim), seeds[3])
    redrawn = many_images[:len(images)]
    return {
        "build_vae_encoder(2)": lambda: _model_io(encoder()),
        "build_vae_decoder(2)": lambda: _model_io(decoder()),
        NET_RANGE: lambda: decoder()(inputs["decoder range codes"]),
        "encoder gradients": lambda: _gradients(encoder(), images, inputs["projection seed"]),
        "decoder gradients": lambda: _gradients(decoder(), inputs["decoder inputs"],
                                                inputs["projection seed"]),
        encoder_outputs_name(latent_dim, len(many_images)):
            lambda: _outputs(encoder_k()(many_images)),
        decoder_outputs_name(latent_dim, len(codes)): lambda: decoder_k()(codes),
        redrawn_name(latent_dim, len(redrawn)): lambda: checks.redrawn_outputs(
            encoder_k(), redrawn, 1, redraws=8, seed=inputs["redraw seed"]),
    }


# ---------------------------------------------------------------------------------------------
# Task 5: the VAE model

VAE_SETUP = "VAE(encoder, decoder, beta)"
VAE_METRICS = "names of vae.metrics"
VAE_ENCODE = "vae.encode_decode(x) for a batch of images"
VAE_CALL = "vae(x), the reconstruction"
VAE_TRAIN = "vae.train_step(x)"
VAE_TEST = "vae.test_step(x) after a train_step"
VAE_SURE = "vae.train_step(x) with sigma near 0 (so z = z_mean)"
VAE_EPOCH = "an epoch of fit after a train_step, with frozen weights"
VAE_FRESH = "reconstruction_loss of two train steps with frozen weights"
HEADS = ("mean", "log_var")  # the tiny encoder's two Dense heads


def _tiny_vae(VAE, setting, optimizer=None):
    """The test cell's tiny VAE (dense networks) with the weights, seed and beta of `setting`;
    also its Dense layers by name ("mean", "log_var", "decoder")."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(setting["seed"])
    image = keras.Input((28, 28, 1))
    flat = layers.Flatten()(image)
    dense = {"mean": layers.Dense(2), "log_var": layers.Dense(2),
             "decoder": layers.Dense(784, activation="sigmoid")}
    encoder = keras.Model(image, [dense["mean"](flat), dense["log_var"](flat)])
    code = keras.Input((2,))
    decoder = keras.Model(code, layers.Reshape((28, 28, 1))(dense["decoder"](code)))
    for name, layer in dense.items():
        layer.set_weights([setting["weights"][f"{name} kernel"],
                           setting["weights"][f"{name} bias"]])
    vae = VAE(encoder, decoder, beta=setting["beta"])
    vae.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3), run_eagerly=True)
    return vae, dense


def _weights(model):
    return [np.array(v.numpy(), copy=True) for v in model.trainable_variables]


def _floats(logs):
    return {str(key): float(value) for key, value in dict(logs).items()}


def _with_tasks_1_to_3(answers, run):
    """run, calling the student's VAE with the solution's sample_latent, kl_divergence and
    reconstruction_loss lent as data, gradients included: a mistake in Tasks 1-3 costs only its
    own task."""
    def entry():
        with answers.earlier(*EARLIER, differentiable=True):
            return run()

    return entry


def probe_test_vae_model(answers, inputs):
    """Every entry makes its own calls of the lent functions: no two entries call sample_latent
    with the same arguments (encode_decode and vae(x) get batches of their own sizes, each other
    entry a tiny VAE of its own weights), so that each gets the sample the solution drew there."""
    import keras

    VAE = answers["VAE"]
    batch = inputs["batch"]
    vae = _cached(lambda: _tiny_vae(VAE, inputs["main"])[0])

    def setup():
        model = vae()
        return {"beta": model.beta,
                "encoder is a keras.Model": isinstance(model.encoder, keras.Model),
                "decoder is a keras.Model": isinstance(model.decoder, keras.Model)}

    def encode_decode():
        x_out, z_mean, z_log_var, x_reconstructed = vae().encode_decode(inputs["encode batch"])
        return {"z_mean": z_mean, "x_reconstructed": x_reconstructed}

    def train_step():
        model = vae()
        encoder_before, decoder_before = _weights(model.encoder), _weights(model.decoder)
        logs = _floats(model.train_step(batch))
        return {"logs": logs,
                "trackers": {m.name: float(m.result()) for m in model.metrics},
                "encoder weights moved": [not np.array_equal(b, a) for b, a in
                                          zip(encoder_before, _weights(model.encoder))],
                "decoder weights moved": [not np.array_equal(b, a) for b, a in
                                          zip(decoder_before, _weights(model.decoder))]}

    def test_step():
        model = vae()
        before = _weights(model.encoder) + _weights(model.decoder)
        logs = model.test_step(batch)
        after = _weights(model.encoder) + _weights(model.decoder)
        return {"keys": np.array(sorted(str(k) for k in dict(logs)), dtype=str),
                "weights changed": [not np.array_equal(b, a) for b, a in zip(before, after)]}

    def sure_step():
        sure, _ = _tiny_vae(VAE, inputs["sure"], optimizer=keras.optimizers.SGD(0.0))
        return {"logs": _floats(sure.train_step(batch))}

    def kl_step(setting):
        def run():
            flat, dense = _tiny_vae(VAE, setting,
                                    optimizer=keras.optimizers.SGD(setting["learning rate"]))
            flat.train_step(batch)
            return {f"{head} {part}": np.array(getattr(dense[head], part).numpy(), copy=True)
                    for head in HEADS for part in ("kernel", "bias")}
        return run

    def epochs():
        frozen, _ = _tiny_vae(VAE, inputs["epoch"], optimizer=keras.optimizers.SGD(0.0))
        first_images, second_images = inputs["epoch images"]
        frozen.train_step(first_images)  # the trackers hold a batch the next epoch must forget
        history = frozen.fit(second_images, batch_size=len(second_images) // 2, epochs=1,
                             shuffle=False, verbose=0).history
        return {"history": {str(k): float(v[-1]) for k, v in history.items()}}

    def fresh_samples():
        noisy, _ = _tiny_vae(VAE, inputs["fresh"], optimizer=keras.optimizers.SGD(0.0))
        values = []
        for _ in range(2):
            noisy.reset_metrics()
            values.append(float(noisy.train_step(batch)["reconstruction_loss"]))
        return np.array(values)

    entries = {VAE_SETUP: setup,
               VAE_METRICS: lambda: np.array(sorted(str(m.name) for m in vae().metrics),
                                             dtype=str),
               VAE_ENCODE: encode_decode,
               VAE_CALL: lambda: vae()(inputs["call batch"]),
               VAE_TRAIN: train_step,
               VAE_TEST: test_step,
               VAE_SURE: sure_step,
               **{kl_step_name(s["beta"], s["learning rate"]): kl_step(s)
                  for s in inputs["kl steps"]},
               VAE_EPOCH: epochs,
               VAE_FRESH: fresh_samples}
    return {name: _with_tasks_1_to_3(answers, run) for name, run in entries.items()}


# ---------------------------------------------------------------------------------------------
# Task 6: build_cvae

CVAE_PROBABILITIES = "conditional decoder outputs"
CVAE_OTHER = "conditional decoder outputs for the same codes with other labels"
CVAE_CODES = "conditional encoder z_mean for 6 images and their labels"
CVAE_CODES_OTHER = "conditional encoder z_mean for the same images with other labels"


def probe_test_build_cvae(answers, inputs):
    build_cvae = answers["build_cvae"]
    images, labels, other_labels, codes = (inputs[k] for k in
                                           ("images", "labels", "other labels", "codes"))
    latent_dim, num_classes, seeds = inputs["latent_dim"], inputs["num_classes"], inputs["seeds"]
    small_images, small_labels, small_codes = (inputs[k] for k in
                                               ("small images", "small labels", "small codes"))
    networks = _seeded(lambda: tuple(build_cvae(2, 10)), seeds[0])
    small = _seeded(lambda: tuple(build_cvae(latent_dim, num_classes)), seeds[1])
    count = len(small_images)
    return {
        "build_cvae(2, 10) encoder": lambda: _model_io(networks()[0]),
        "build_cvae(2, 10) decoder": lambda: _model_io(networks()[1]),
        CVAE_PROBABILITIES: lambda: networks()[1]([codes, labels]),
        CVAE_OTHER: lambda: networks()[1]([codes, other_labels]),
        CVAE_CODES: lambda: networks()[0]([images, labels])[0],
        CVAE_CODES_OTHER: lambda: networks()[0]([images, other_labels])[0],
        "conditional encoder gradients": lambda: _gradients(networks()[0], [images, labels],
                                                            inputs["projection seed"]),
        "conditional decoder gradients": lambda: _gradients(networks()[1], [codes, labels],
                                                            inputs["projection seed"]),
        cvae_small_name(latent_dim, num_classes, count):
            lambda: _outputs(small()[0]([small_images, small_labels])),
        cvae_second_image_name(latent_dim, num_classes):
            lambda: _outputs(small()[0]([small_images[1:2], small_labels[:1]])),
        cvae_redrawn_name(latent_dim, num_classes, count): lambda: checks.redrawn_outputs(
            small()[0], [small_images, small_labels], 1, redraws=8, seed=inputs["redraw seed"]),
        cvae_decoder_name(latent_dim, num_classes, count):
            lambda: small()[1]([small_codes, small_labels]),
    }


# ---------------------------------------------------------------------------------------------
# Design task: design_vae


def probe_test_design_vae(answers, inputs):
    """The design as data (its networks' configurations and its learning rate), never a
    number it reached: the grader trains it itself (trials.py)."""
    encoder, decoder, learning_rate = answers["design_vae"]()
    return {"encoder": encoder.to_json(), "decoder": decoder.to_json(),
            "learning_rate": float(learning_rate)}
