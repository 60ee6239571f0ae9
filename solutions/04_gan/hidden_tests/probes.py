"""Probes of 04_gan's hidden tests: the kernel side (see grading/probe_runtime.py). Each calls
the student's functions on the inputs the grader drew for this class run (hidden_tests/verdicts.py,
`probe_inputs`) and returns what they gave; nothing here knows the right answers: verdicts.py, in
the grader, decides. The tiny probe networks take their weights and seeds from those inputs.

Task 4's train_step is run with discriminator_loss and generator_loss lent as data
(`answers.earlier`, gradients included), so a mistake in Task 1 or 2a costs only that task.

TensorFlow and Keras are imported inside the functions: verdicts.py imports this module's names
in a process that never loads them."""

import numpy as np

# --------------------------------------------------------------------------- helpers


def _lazy(build):
    """A function of no argument computing build() once (a failure is raised at every call)."""
    cache = {}

    def get():
        if "value" not in cache:
            cache["value"] = build()
        return cache["value"]

    return get


def _loss(function, *logits):
    """function(*logits) with float32 constant inputs (a lambda for the probe's record)."""

    def call():
        import tensorflow as tf

        return function(*(tf.constant(np.asarray(x, np.float32)) for x in logits))

    return call


def _loss_gradients(function, logits):
    """Gradients of function(*logits.values()) with respect to each logits tensor: {label:
    {"reaches the logits": bool, "value": array}} (a lambda for the probe's record)."""

    def call():
        import tensorflow as tf

        variables = [tf.Variable(np.asarray(x, np.float32)) for x in logits.values()]
        with tf.GradientTape() as tape:
            loss = function(*variables)
        grads = tape.gradient(loss, variables)
        return {label: {"reaches the logits": g is not None,
                        "value": np.zeros(0, np.float32) if g is None else tf.convert_to_tensor(g)}
                for label, g in zip(logits, grads)}

    return call


def _losses(function, inputs):
    """The entries of a loss probe: inputs["losses"] {name: logits tuple} and
    inputs["gradients"] {name: {label: logits}}."""
    entries = {name: _loss(function, *logits) for name, logits in inputs["losses"].items()}
    entries.update({name: _loss_gradients(function, logits)
                    for name, logits in inputs["gradients"].items()})
    return entries


def _io_shape(shape) -> np.ndarray:
    """A Keras shape as an int array, -1 for None; a list of one shape counts as that shape."""
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"expected one tensor; the model has {len(shape)}: {shape}")
        shape = shape[0]
    return np.array([-1 if d is None else int(d) for d in shape], np.int64)


def _gradient_flow(model, inputs, seed):
    """What common.checks.check_trainable looks at: for a random projection of the outputs
    (drawn from `seed`), whether each trainable variable gets a gradient and its largest
    |entry|."""
    import tensorflow as tf

    variables = list(model.trainable_variables)
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
        rng = np.random.default_rng(seed)
        loss = tf.add_n([tf.reduce_sum(o * rng.normal(size=o.shape).astype(np.float32))
                         for o in flat])
    grads = tape.gradient(loss, variables) if variables else []
    return {
        "variables": np.array([str(getattr(v, "path", getattr(v, "name", "?")))
                               for v in variables] or [""], dtype=str)[:len(variables)],
        "has a gradient": np.array([g is not None for g in grads], bool),
        "largest |gradient|": np.array(
            [0.0 if g is None else float(tf.reduce_max(tf.abs(tf.cast(tf.convert_to_tensor(g),
                                                                      tf.float32))))
             for g in grads], np.float64),
    }


def _plain(value):
    """A number as is, anything else as its repr (so a missing attribute is recorded too)."""
    if isinstance(value, (bool, int, float, np.number)):
        return value
    return repr(value)[:200]


def _weights(model):
    return [np.array(v.numpy(), copy=True) for v in model.trainable_variables]


def _largest_change(before, model):
    return max(float(np.abs(b - a).max()) for b, a in zip(before, _weights(model)))


def _seeded(build, seed, *args):
    """build(*args) once, after seeding Keras with `seed` (lazily, for the probe's entries)."""

    def make():
        import keras

        keras.utils.set_random_seed(seed)
        return build(*args)

    return _lazy(make)


def _dense_generator(kernel=None, bias=None):
    """A probe generator z (4,) -> tanh(z @ kernel + bias) as (28, 28, 1) images; a zero
    kernel (the default) gives the same image for every z, a zero bias is the default."""
    import keras
    from keras import layers

    kernel = np.zeros((4, 784), np.float32) if kernel is None else kernel
    bias = np.zeros(784, np.float32) if bias is None else bias
    z = keras.Input(shape=(kernel.shape[0],))
    pixels = layers.Dense(kernel.shape[1], activation="tanh",
                          kernel_initializer=keras.initializers.Constant(kernel),
                          bias_initializer=keras.initializers.Constant(bias))(z)
    return keras.Model(z, layers.Reshape((28, 28, 1))(pixels))


# --------------------------------------------------------------------------- Tasks 1, 2a, 2b


def probe_test_discriminator_loss(answers, inputs):
    return _losses(answers["discriminator_loss"], inputs)


def probe_test_generator_loss(answers, inputs):
    return _losses(answers["generator_loss"], inputs)


def probe_test_minimax_generator_loss(answers, inputs):
    return _losses(answers["minimax_generator_loss"], inputs)


# --------------------------------------------------------------------------- Task 3

GEN = "build_generator(16)"
GEN_IMAGES = "build_generator(16) outputs for 8 random z"
GEN_LARGE = "build_generator(16) outputs for large z (100 times those z)"
GEN_ORDER = "build_generator(16) outputs for those 8 z in another order"
GEN_FLOW = "gradients in build_generator(16)"
GEN5 = "build_generator(5)"
GEN5_IMAGES = "build_generator(5) outputs for 3 random z"
DIS = "build_discriminator()"
DIS_LOGITS = ("build_discriminator() outputs for 28 images (8 random, negated, times 50, "
              "all +1, all -1)")
DIS_ORDER = "build_discriminator() outputs for the 8 random images in another order"
DIS_FLOW = "gradients in build_discriminator()"
DIS_INPUT_GRAD = "largest |d logit / d image| of build_discriminator() for 2 images"


def probe_test_build_networks(answers, inputs):
    import tensorflow as tf

    build_generator = answers["build_generator"]
    build_discriminator = answers["build_discriminator"]
    seed, projection = inputs["weights seed"], inputs["projection seed"]
    z, z5, x, order = inputs["z"], inputs["z5"], inputs["x"], inputs["order"]
    generator = _seeded(build_generator, seed, int(z.shape[1]))
    generator5 = _seeded(build_generator, seed, int(z5.shape[1]))
    discriminator = _seeded(build_discriminator, seed)
    images = np.concatenate([x, -x, 50 * x, np.ones_like(x[:2]), -np.ones_like(x[:2])])

    def input_gradient():
        variable = tf.Variable(x[:2])
        with tf.GradientTape() as tape:
            score = tf.reduce_sum(tf.cast(discriminator()(variable, training=False), tf.float32))
        grad = tape.gradient(score, variable)
        return -1.0 if grad is None else float(tf.reduce_max(tf.abs(grad)))

    return {
        f"{GEN} input shape": lambda: _io_shape(generator().input_shape),
        f"{GEN} output shape": lambda: _io_shape(generator().output_shape),
        GEN_IMAGES: lambda: generator()(z, training=False),
        GEN_LARGE: lambda: generator()(100 * z, training=False),
        GEN_ORDER: lambda: generator()(z[order], training=False),
        GEN_FLOW: lambda: _gradient_flow(generator(), z, projection),
        f"{GEN5} input shape": lambda: _io_shape(generator5().input_shape),
        GEN5_IMAGES: lambda: generator5()(z5, training=False),
        f"{DIS} input shape": lambda: _io_shape(discriminator().input_shape),
        f"{DIS} output shape": lambda: _io_shape(discriminator().output_shape),
        DIS_LOGITS: lambda: discriminator()(images, training=False),
        DIS_ORDER: lambda: discriminator()(x[order], training=False),
        DIS_FLOW: lambda: _gradient_flow(discriminator(), x, projection),
        DIS_INPUT_GRAD: input_gradient,
    }


# --------------------------------------------------------------------------- Task 4

ATTRIBUTES = "GAN(tiny generator, tiny discriminator, latent_dim=3, d_steps=2)"
STEP2 = "one train_step with d_steps=2, d_optimizer SGD(0.1) and g_optimizer SGD(0.1)"
FROZEN_G = "one train_step with d_optimizer SGD(0.1) and g_optimizer SGD(0.0)"
FROZEN_D = "one train_step with d_optimizer SGD(0.0) and g_optimizer SGD(0.1)"
EXACT = "one train_step with d_optimizer SGD(0.1) and g_optimizer SGD(0.2)"
FIT = "fit() for 1 epoch over 10 images in batches of 4, 4 and 2 with d_steps=2"
LOG_KEYS = ("d_loss", "g_loss", "D(x)", "D(G(z))")


def _tiny_gan(GAN, weights, d_learning_rate, g_learning_rate, d_steps=1):
    """The test cell's tiny GAN, its weights from the inputs. The generator's Dense layer sees
    0 * z, so G(z) = its bias for every z, through every step (its kernel gets no gradient):
    the losses' arguments do not depend on the noise."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(weights["seed"])
    z = keras.Input(shape=(3,))
    fake = layers.Dense(4, kernel_initializer="zeros",
                        bias_initializer=keras.initializers.Constant(weights["generator bias"]))(
        layers.Rescaling(0.0)(z))
    tiny_generator = keras.Model(z, layers.Reshape((2, 2, 1))(fake))
    x = keras.Input(shape=(2, 2, 1))
    logit = layers.Dense(
        1, kernel_initializer=keras.initializers.Constant(weights["discriminator kernel"]),
        bias_initializer=keras.initializers.Constant(weights["discriminator bias"]))(
        layers.Flatten()(x))
    tiny_discriminator = keras.Model(x, logit)
    gan = GAN(tiny_generator, tiny_discriminator, latent_dim=3, d_steps=d_steps)
    gan.compile(d_optimizer=keras.optimizers.SGD(d_learning_rate),
                g_optimizer=keras.optimizers.SGD(g_learning_rate))
    return gan


def probe_test_gan_train_step(answers, inputs):
    import tensorflow as tf

    GAN = answers["GAN"]
    real_batch, fit_images = inputs["real batch"], inputs["fit images"]

    def train_once(gan):
        return gan.train_step(tf.constant(real_batch))

    def iterations(gan):
        return {"d_optimizer.iterations": int(gan.d_optimizer.iterations),
                "g_optimizer.iterations": int(gan.g_optimizer.iterations)}

    two_steps = _lazy(lambda: _tiny_gan(GAN, inputs, 0.1, 0.1, d_steps=2))

    def attributes():
        gan = two_steps()
        values = {a: _plain(getattr(gan, a, None)) for a in ("latent_dim", "d_steps")}
        values.update({f"{a} is set": getattr(gan, a, None) is not None
                       for a in ("generator", "discriminator", "d_optimizer", "g_optimizer")})
        return values

    def step_two():
        gan = two_steps()
        logs = train_once(gan)
        return {"log keys": np.array(sorted(str(k) for k in logs) or [""], dtype=str)[:len(logs)],
                **iterations(gan)}

    def movement(d_learning_rate, g_learning_rate):
        def run():
            gan = _tiny_gan(GAN, inputs, d_learning_rate, g_learning_rate)
            generator_before, discriminator_before = (_weights(gan.generator),
                                                      _weights(gan.discriminator))
            train_once(gan)
            return {"largest change of the generator's weights":
                        _largest_change(generator_before, gan.generator),
                    "largest change of the discriminator's weights":
                        _largest_change(discriminator_before, gan.discriminator)}
        return run

    def exact():
        gan = _tiny_gan(GAN, inputs, 0.1, 0.2)
        (_, g_bias), (d_kernel, d_bias) = _weights(gan.generator), _weights(gan.discriminator)
        before = {"discriminator weights before": np.concatenate([d_kernel.ravel(), d_bias]),
                  "generator bias before": g_bias}
        logs = train_once(gan)
        (_, g_bias), (d_kernel, d_bias) = _weights(gan.generator), _weights(gan.discriminator)
        return {**before,
                "discriminator weights after": np.concatenate([d_kernel.ravel(), d_bias]),
                "generator bias after": g_bias,
                "logs": {key: float(logs[key]) for key in LOG_KEYS if key in logs}}

    def fitted():
        gan = _tiny_gan(GAN, inputs, 0.05, 0.05, d_steps=2)
        history = gan.fit(tf.data.Dataset.from_tensor_slices(fit_images).batch(4), epochs=1,
                          verbose=0, shuffle=False)
        keys = sorted(str(k) for k in history.history)
        return {"history keys": np.array(keys or [""], dtype=str)[:len(keys)],
                **iterations(gan)}

    def with_earlier_losses(run):
        """run() with discriminator_loss and generator_loss lent (train_step looks them up by
        name when called), so only train_step itself is graded here."""

        def call():
            with answers.earlier("discriminator_loss", "generator_loss", differentiable=True):
                return run()

        return call

    entries = {ATTRIBUTES: attributes, STEP2: step_two,
               FROZEN_G: movement(0.1, 0.0), FROZEN_D: movement(0.0, 0.1),
               EXACT: exact, FIT: fitted}
    return {name: with_earlier_losses(run) for name, run in entries.items()}


# --------------------------------------------------------------------------- Task 4b


def probe_test_latent_arithmetic(answers, inputs):
    latent_arithmetic = answers["latent_arithmetic"]
    return {name: (lambda codes=codes: latent_arithmetic(*(c.copy() for c in codes)))
            for name, codes in inputs.items()}


# --------------------------------------------------------------------------- Task 5


def probe_test_modes_covered(answers, inputs):
    modes_covered = answers["modes_covered"]

    def recorded(args, kwargs):
        def run():
            covered = modes_covered(*(a.copy() if isinstance(a, np.ndarray) else a
                                      for a in args), **kwargs)
            return {"value": covered, "is an int": isinstance(covered, (int, np.integer)),
                    "type": type(covered).__name__}
        return run

    return {name: recorded(*call) for name, call in inputs.items()}


# --------------------------------------------------------------------------- Task 6

CG = "build_conditional_generator(8, 10)"
CG_ZERO = f"{CG} outputs for 4 z with label 0"
CG_ONE = f"{CG} outputs for the same z with label 1"
CG_LARGE = f"{CG} outputs for large z (100 times those z) with label 0"
CG_ORDER = f"{CG} outputs for those z in another order with label 0"
CG_FLOW = f"gradients in {CG}"
CG3 = "build_conditional_generator(5, 3) outputs for 3 z with labels 0, 1, 2"
CD = "build_conditional_discriminator(10)"
CD_ZERO = f"{CD} outputs for 4 images with label 0"
CD_ONE = f"{CD} outputs for the same images with label 1"
CD_ORDER = f"{CD} outputs for those images in another order with label 0"
CD_BIG = f"{CD} outputs for 12 images (random, times 50, times -50) with labels 0-3"
CD_FLOW = f"gradients in {CD}"


def probe_test_conditional_networks(answers, inputs):
    build_g = answers["build_conditional_generator"]
    build_d = answers["build_conditional_discriminator"]
    seed, projection = inputs["weights seed"], inputs["projection seed"]
    z, x, z3, order = inputs["z"], inputs["x"], inputs["z3"], inputs["order"]
    generator = _seeded(build_g, seed, int(z.shape[1]), 10)
    generator3 = _seeded(build_g, seed, int(z3.shape[1]), 3)
    discriminator = _seeded(build_d, seed, 10)
    zeros, ones, labels = np.zeros(4, np.int32), np.ones(4, np.int32), np.arange(4, dtype=np.int32)
    big = np.concatenate([x, 50 * x, -50 * x])
    return {
        CG_ZERO: lambda: generator()([z, zeros], training=False),
        CG_ONE: lambda: generator()([z, ones], training=False),
        CG_LARGE: lambda: generator()([100 * z, zeros], training=False),
        CG_ORDER: lambda: generator()([z[order], zeros], training=False),
        CG_FLOW: lambda: _gradient_flow(generator(), [z, labels], projection),
        CG3: lambda: generator3()([z3, np.array([0, 1, 2], np.int32)], training=False),
        CD_ZERO: lambda: discriminator()([x, zeros], training=False),
        CD_ONE: lambda: discriminator()([x, ones], training=False),
        CD_ORDER: lambda: discriminator()([x[order], zeros], training=False),
        CD_BIG: lambda: discriminator()([big, np.tile(labels, 3)], training=False),
        CD_FLOW: lambda: _gradient_flow(discriminator(), [x, labels], projection),
    }


# --------------------------------------------------------------------------- Task 7

DAMAGED = "the damaged images (rows 10-27 set to -1)"
COMPLETED = "inpaint(...) for 3 images with rows 10-27 missing (30 steps, learning rate 0.1)"
FILLED = "inpaint(...) with a generator that gives the same image for every z (2 steps)"
OTHER = ("inpaint(...) for the same 3 images with other values in the missing pixels (30 "
         "steps, learning rate 0.1)")
FROZEN = "largest change of the generator's weights during inpaint"


def probe_test_inpaint(answers, inputs):
    inpaint = answers["inpaint"]
    damaged, other, mask = inputs["damaged"], inputs["other damaged"], inputs["mask"]
    seed = inputs["seed"]
    generator = _dense_generator(kernel=inputs["kernel"])
    constant_generator = _dense_generator(bias=inputs["constant bias"])
    weights_before = _weights(generator)
    return {
        DAMAGED: damaged.copy(),
        COMPLETED: lambda: inpaint(generator, damaged.copy(), mask.copy(), steps=30,
                                   learning_rate=0.1, seed=seed),
        FILLED: lambda: inpaint(constant_generator, damaged.copy(), mask.copy(), steps=2,
                                learning_rate=0.05, seed=seed),
        OTHER: lambda: inpaint(generator, other.copy(), mask.copy(), steps=30,
                               learning_rate=0.1, seed=seed),
        FROZEN: lambda: _largest_change(weights_before, generator),
    }


# --------------------------------------------------------------------------- Task 8


def _batch_norm_generator(kernel, offset):
    """z (4,) -> tanh(BatchNormalization(z @ kernel)) as (28, 28, 1) images. The normalisation's
    moving statistics and scale are set so that with training=False it changes nothing (the
    images are tanh(z @ kernel)); with training=True it uses the batch's own statistics, scales
    them by 0.3 and shifts them by `offset`: other images."""
    import keras
    from keras import layers

    z = keras.Input(shape=(kernel.shape[0],))
    dense = layers.Dense(kernel.shape[1], kernel_initializer=keras.initializers.Constant(kernel),
                         bias_initializer="zeros")
    batch_norm = layers.BatchNormalization()
    pixels = layers.Activation("tanh")(batch_norm(dense(z)))
    generator = keras.Model(z, layers.Reshape((28, 28, 1))(pixels))
    size = kernel.shape[1]
    batch_norm.set_weights([np.full(size, 0.3, np.float32), offset, offset,
                            np.full(size, 0.09 - batch_norm.epsilon, np.float32)])
    return generator


def probe_test_nearest_latent(answers, inputs):
    nearest_latent = answers["nearest_latent"]
    generator = _batch_norm_generator(inputs["kernel"], inputs["offset"])
    return {name: (lambda case=case: nearest_latent(generator, *(a.copy() for a in case)))
            for name, case in inputs["cases"].items()}


# --------------------------------------------------------------------------- Task 9: design_gan


def probe_test_design_gan(answers, inputs):
    """The design as data (its networks' configurations and its learning rates), never a number
    it reached: the grader trains it itself (trials.py)."""
    result = answers["design_gan"](int(inputs["latent_dim"]))
    if not (isinstance(result, (tuple, list)) and len(result) == 4):
        raise TypeError("design_gan must return (generator, discriminator, d_learning_rate, "
                        "g_learning_rate)")
    generator, discriminator, d_learning_rate, g_learning_rate = result
    return {"generator": generator.to_json(), "discriminator": discriminator.to_json(),
            "d_learning_rate": float(d_learning_rate), "g_learning_rate": float(g_learning_rate)}
