"""Hidden tests of 04_gan. Probes run in the student's sandboxed kernel after the notebook and
record outputs; verdicts run in the grader and compare them with the solution's (see
grading/verdicts.py). Each verdict checks at least what the visible checks of its cell check.

Probes import TensorFlow and Keras inside their functions: verdicts (and this module's top level)
use only NumPy and common.checks."""

import numpy as np

from common import checks

# --------------------------------------------------------------------------- probe helpers


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


def _loss_gradients(function, labels, *logits):
    """Gradients of function(*logits) with respect to each logits tensor: {label: {"reaches
    the logits": bool, "value": array}} (a lambda for the probe's record)."""

    def call():
        import tensorflow as tf

        variables = [tf.Variable(np.asarray(x, np.float32)) for x in logits]
        with tf.GradientTape() as tape:
            loss = function(*variables)
        grads = tape.gradient(loss, variables)
        return {label: {"reaches the logits": g is not None,
                        "value": np.zeros(0, np.float32) if g is None else tf.convert_to_tensor(g)}
                for label, g in zip(labels, grads)}

    return call


def _io_shape(shape) -> np.ndarray:
    """A Keras shape as an int array, -1 for None; a list of one shape counts as that shape."""
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"expected one tensor; the model has {len(shape)}: {shape}")
        shape = shape[0]
    return np.array([-1 if d is None else int(d) for d in shape], np.int64)


def _gradient_flow(model, inputs):
    """What common.checks.check_trainable looks at: for a fixed random projection of the
    outputs, whether each trainable variable gets a gradient and its largest |entry|."""
    import tensorflow as tf

    variables = list(model.trainable_variables)
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
        rng = np.random.default_rng(0)
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


# --------------------------------------------------------------------------- verdict helpers


def _value(got, name, hint=None):
    """got[name]; when computing it (or the entry it belongs to, name's prefix up to a '/')
    raised, the record's own message (it names only the kind of error) plus `hint`, except
    for NotImplementedError (an unsolved task needs no hint)."""
    parts = name.split("/")
    for end in range(len(parts), 0, -1):
        entry = "/".join(parts[:end])
        error = got.error(entry)
        if error:
            try:
                got[entry]
            except AssertionError as failure:
                message = str(failure)
            else:
                message = f"{entry}: your code raised an exception"
            if hint and not error.startswith("NotImplementedError"):
                message = f"{message}. Hint: {hint}"
            raise AssertionError(message)
    return got[name]


def _check_scalar_losses(got, ref, expectations):
    """expectations: [(name, rtol, atol, hint)]; each a scalar close to the reference."""
    for name, rtol, atol, hint in expectations:
        value = _value(got, name)
        checks.check_shape(value, (), name=name,
                           hint="return one scalar: the mean over the batch, not per-example "
                                "losses.")
        checks.check_finite(value, name=name, hint=hint)
        checks.check_close(value, ref[name], rtol=rtol, atol=atol, name=name, hint=hint)


def _check_gradients(got, ref, prefix, labels, hint):
    for label in labels:
        name = f"{prefix}/{label}"
        reaches = _value(got, f"{name}/reaches the logits",
                         "compute the loss with TensorFlow ops so gradients can flow")
        if not bool(reaches):
            raise AssertionError(
                f"{name}: expected a gradient with respect to the {label}; got none. Hint: stay "
                "in TensorFlow ops (no NumPy, .numpy() or float()) so the gradient reaches the "
                "logits.")
        checks.check_close(got[f"{name}/value"], ref[f"{name}/value"], rtol=0.0, atol=1e-5,
                           name=name, hint=hint)


def _check_io(got, ref, name, hint):
    shape, expected = _value(got, name, hint), ref[name]
    shown = "(" + ", ".join("None" if d < 0 else str(d) for d in expected) + ")"
    if (shape.ndim != 1 or len(shape) != len(expected)
            or any(e >= 0 and a != e for a, e in zip(shape.tolist(), expected.tolist()))):
        got_shown = "(" + ", ".join("None" if d < 0 else str(d)
                                    for d in np.ravel(shape).tolist()) + ")"
        raise AssertionError(f"{name}: expected {shown}; got {got_shown}. Hint: {hint}")


def _check_flow(got, name, hint=None):
    """common.checks.check_trainable on recorded gradients."""
    paths = _value(got, f"{name}/variables")
    has = got[f"{name}/has a gradient"].astype(bool)
    largest = got[f"{name}/largest |gradient|"]
    if paths.size == 0:
        raise AssertionError(f"{name}: expected trainable variables; got none. Hint: "
                             + (hint or "is every layer frozen?"))
    if not has.all():
        raise AssertionError(
            f"{name}: expected a gradient for every trainable variable; got no gradient for "
            f"{', '.join(paths[~has].tolist())}. Hint: "
            + (hint or "is that layer connected to the output, or is a value cut off with "
                       "numpy() or stop_gradient?"))
    zero = ~(largest > 0)
    if zero.any():
        raise AssertionError(
            f"{name}: expected nonzero gradients for every trainable variable; got all-zero "
            f"gradients for {', '.join(paths[zero].tolist())}. Hint: "
            + (hint or "a saturated activation, a constant output, or an argmax/round in the "
                       "graph stops learning."))


# --------------------------------------------------------------------------- Task 1

_D_CONFIDENT = "discriminator_loss when D is sure and right (real logits +20, +15; fake -20, -15)"
_D_HALF = "discriminator_loss at logits 0 (D = 1/2 everywhere), batches of 4 and 4"
_D_BATCHES = "discriminator_loss at logits 0 with batches of 16 and 2"
_D_MIXED = "discriminator_loss on mixed logits (3 real, 4 fake)"
_D_RANDOM = "discriminator_loss on 7 real and 5 fake random logits of shape (N, 1)"
_D_FLAT = "discriminator_loss on the same random logits shaped (N,)"
_D_EXTREME = "discriminator_loss for real logit -100 and fake logit +100"
_D_GRADIENT = "gradient of discriminator_loss on the random logits"


def _random_logits(seed, *sizes):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 3, size=(n, 1)).astype(np.float32) for n in sizes]


def probe_test_discriminator_loss(answers):
    discriminator_loss = answers["discriminator_loss"]
    r, f = _random_logits(4, 7, 5)
    return {
        _D_CONFIDENT: _loss(discriminator_loss, [[20.0], [15.0]], [[-20.0], [-15.0]]),
        _D_HALF: _loss(discriminator_loss, np.zeros((4, 1)), np.zeros((4, 1))),
        _D_BATCHES: _loss(discriminator_loss, np.zeros((16, 1)), np.zeros((2, 1))),
        _D_MIXED: _loss(discriminator_loss, [[2.0], [-1.0], [0.5]],
                        [[-3.0], [1.0], [0.0], [4.0]]),
        _D_RANDOM: _loss(discriminator_loss, r, f),
        _D_FLAT: _loss(discriminator_loss, r[:, 0], f[:, 0]),
        _D_EXTREME: _loss(discriminator_loss, [[-100.0]], [[100.0]]),
        _D_GRADIENT: _loss_gradients(discriminator_loss, ("real logits", "fake logits"), r, f),
    }


def verdict_test_discriminator_loss(got, ref):
    each = "CE(l, 1) = softplus(-l) for a real logit and CE(l, 0) = softplus(l) for a fake one, "
    _check_scalar_losses(got, ref, [
        (_D_CONFIDENT, 0.0, 1e-3,
         "real images have label 1 and fakes label 0; a large loss here means the labels are "
         "swapped."),
        (_D_HALF, 1e-4, 0.0,
         "at D = 1/2 each term is log 2, so the loss is 2 log 2 = 1.386. A much larger value "
         "means the logits were read as probabilities (use from_logits=True); log 2 = 0.693 "
         "means one mean over both batches, or half the sum (the average of the two terms, as "
         "in d2l), instead of the sum of two means; a sigmoid applied before a from_logits loss "
         "also changes it."),
        (_D_BATCHES, 1e-4, 0.0, "take the mean over each batch, not the sum."),
        (_D_MIXED, 1e-4, 0.0, each + "each averaged over its batch."),
        (_D_RANDOM, 1e-4, 0.0, each + "each averaged over its batch."),
        (_D_FLAT, 1e-4, 0.0,
         "logits shaped (N,) must give the same loss as (N, 1): average over every logit of "
         "each batch."),
        (_D_EXTREME, 0.0, 0.01,
         "for real logit -100 and fake logit +100 the loss is 100 + 100 = 200 (finite): compute "
         "it stably from the logits (from_logits=True or softplus), not as log(sigmoid(l))."),
    ])
    _check_gradients(got, ref, _D_GRADIENT, ("real logits", "fake logits"),
                     "d loss / d real logit is -(1 - sigmoid(l)) / N_real and d loss / d fake "
                     "logit is sigmoid(l) / N_fake: the sum of the two batch means.")


# --------------------------------------------------------------------------- Task 2a

_G_FOOLED = "generator_loss when D is fooled (fake logits +20 and +12)"
_G_HALF = "generator_loss at logit 0 (D(G(z)) = 1/2), batch of 8"
_G_MIXED = "generator_loss on mixed logits (-3, 1, 0.5)"
_G_RANDOM = "generator_loss on 9 random logits of shape (N, 1)"
_G_FLAT = "generator_loss on the same random logits shaped (N,)"
_G_EXTREME = "generator_loss at logit -100"
_G_GRADIENT = "gradient of generator_loss on the random logits"


def probe_test_generator_loss(answers):
    generator_loss = answers["generator_loss"]
    (f,) = _random_logits(5, 9)
    return {
        _G_FOOLED: _loss(generator_loss, [[20.0], [12.0]]),
        _G_HALF: _loss(generator_loss, np.zeros((8, 1))),
        _G_MIXED: _loss(generator_loss, [[-3.0], [1.0], [0.5]]),
        _G_RANDOM: _loss(generator_loss, f),
        _G_FLAT: _loss(generator_loss, f[:, 0]),
        _G_EXTREME: _loss(generator_loss, [[-100.0]]),
        _G_GRADIENT: _loss_gradients(generator_loss, ("fake logits",), f),
    }


def verdict_test_generator_loss(got, ref):
    one = "the loss of one fake with logit l is softplus(-l) = -log sigmoid(l), averaged."
    _check_scalar_losses(got, ref, [
        (_G_FOOLED, 0.0, 1e-3,
         "the generator wants its fakes labelled 1 (real), so a fooled discriminator must give "
         "a loss near 0; a large value means the target is 0."),
        (_G_HALF, 1e-4, 0.0,
         "-log(1/2) = 0.693. A much larger value means the logits were read as probabilities "
         "(use from_logits=True); a multiple of 0.693 means a sum instead of a mean."),
        (_G_MIXED, 1e-4, 0.0, one),
        (_G_RANDOM, 1e-4, 0.0, one),
        (_G_FLAT, 1e-4, 0.0, "logits shaped (N,) must work too: " + one),
        (_G_EXTREME, 0.0, 0.01,
         "generator_loss at logit -100 is softplus(100) = 100 (finite): compute it stably from "
         "the logits, not as -log(sigmoid(l))."),
    ])
    _check_gradients(got, ref, _G_GRADIENT, ("fake logits",),
                     "d loss / d logit is -(1 - sigmoid(l)) / N: the batch mean of "
                     "softplus(-l).")


# --------------------------------------------------------------------------- Task 2b

_M_HALF = "minimax_generator_loss at logit 0 (D(G(z)) = 1/2), batch of 6"
_M_REJECTED = "minimax_generator_loss when D rejects the fakes (logits -20, -15)"
_M_LARGE = "minimax_generator_loss at logits 50 and 10"
_M_RANDOM = "minimax_generator_loss on 9 random logits"
_M_GRADIENT = "gradient of minimax_generator_loss on the random logits"


def probe_test_minimax_generator_loss(answers):
    minimax_generator_loss = answers["minimax_generator_loss"]
    (f,) = _random_logits(6, 9)
    return {
        _M_HALF: _loss(minimax_generator_loss, np.zeros((6, 1))),
        _M_REJECTED: _loss(minimax_generator_loss, [[-20.0], [-15.0]]),
        _M_LARGE: _loss(minimax_generator_loss, [[50.0], [10.0]]),
        _M_RANDOM: _loss(minimax_generator_loss, f),
        _M_GRADIENT: _loss_gradients(minimax_generator_loss, ("fake logits",), f),
    }


def verdict_test_minimax_generator_loss(got, ref):
    _check_scalar_losses(got, ref, [
        (_M_HALF, 1e-4, 0.0,
         "log(1 - 1/2) = -0.693: the value is negative; +0.693 is a sign error (the minimax "
         "loss is log(1 - D), not -log(1 - D))."),
        (_M_REJECTED, 0.0, 1e-4,
         "log(1 - D(G(z))) tends to 0 when D(G(z)) tends to 0; a large negative value means "
         "log D(G(z)) was used instead of log(1 - D(G(z)))."),
        (_M_LARGE, 1e-4, 0.0,
         "1 - sigmoid(50) is 0 in float32 and its log is -inf; use the identity "
         "log(1 - sigmoid(l)) = -softplus(l), and take the batch mean."),
        (_M_RANDOM, 1e-4, 0.0, "the batch mean of -softplus(l)."),
    ])
    _check_gradients(got, ref, _M_GRADIENT, ("fake logits",),
                     "d loss / d logit is -sigmoid(l) / N: the batch mean of -softplus(l).")


# --------------------------------------------------------------------------- Task 3

_GEN = "build_generator(16)"
_GEN_IMAGES = "build_generator(16) outputs for 8 random z"
_GEN_LARGE = "build_generator(16) outputs for large z (100 times those z)"
_GEN_FLOW = "gradients in build_generator(16)"
_GEN5 = "build_generator(5)"
_GEN5_IMAGES = "build_generator(5) outputs for 3 random z"
_DIS = "build_discriminator()"
_DIS_LOGITS = ("build_discriminator() outputs for 28 images (8 random, negated, times 50, "
               "all +1, all -1)")
_DIS_FLOW = "gradients in build_discriminator()"
_DIS_INPUT_GRAD = "largest |d logit / d image| of build_discriminator() for 2 images"


def probe_test_build_networks(answers):
    import keras
    import tensorflow as tf

    build_generator = answers["build_generator"]
    build_discriminator = answers["build_discriminator"]

    def seeded(build, *args):
        def make():
            keras.utils.set_random_seed(0)
            return build(*args)
        return _lazy(make)

    generator, generator5 = seeded(build_generator, 16), seeded(build_generator, 5)
    discriminator = seeded(build_discriminator)
    z = np.random.default_rng(0).normal(size=(8, 16)).astype(np.float32)
    z5 = np.random.default_rng(2).normal(size=(3, 5)).astype(np.float32)
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 28, 28, 1)).astype(np.float32)
    inputs = np.concatenate([x, -x, 50 * x, np.ones_like(x[:2]), -np.ones_like(x[:2])])

    def input_gradient():
        images = tf.Variable(x[:2])
        with tf.GradientTape() as tape:
            score = tf.reduce_sum(tf.cast(discriminator()(images, training=False), tf.float32))
        grad = tape.gradient(score, images)
        return -1.0 if grad is None else float(tf.reduce_max(tf.abs(grad)))

    return {
        f"{_GEN} input shape": lambda: _io_shape(generator().input_shape),
        f"{_GEN} output shape": lambda: _io_shape(generator().output_shape),
        _GEN_IMAGES: lambda: generator()(z, training=False),
        _GEN_LARGE: lambda: generator()(100 * z, training=False),
        _GEN_FLOW: lambda: _gradient_flow(generator(), z),
        f"{_GEN5} input shape": lambda: _io_shape(generator5().input_shape),
        _GEN5_IMAGES: lambda: generator5()(z5, training=False),
        f"{_DIS} input shape": lambda: _io_shape(discriminator().input_shape),
        f"{_DIS} output shape": lambda: _io_shape(discriminator().output_shape),
        _DIS_LOGITS: lambda: discriminator()(inputs, training=False),
        _DIS_FLOW: lambda: _gradient_flow(discriminator(), x),
        _DIS_INPUT_GRAD: input_gradient,
    }


def verdict_test_build_networks(got, ref):
    up = ("start from keras.Input(shape=(latent_dim,)) and up-sample 7 -> 14 -> 28 with two "
          "Conv2DTranspose(strides=2, padding='same'), one channel at the end.")
    _check_io(got, ref, f"{_GEN} input shape", up)
    _check_io(got, ref, f"{_GEN} output shape", up)
    images = _value(got, _GEN_IMAGES, up)
    checks.check_shape(images, ref[_GEN_IMAGES].shape, name=_GEN_IMAGES, hint=up)
    checks.check_range(images, -1.0, 1.0, name=_GEN_IMAGES,
                       hint="images live in [-1, 1]: end the generator with a tanh activation.")
    checks.check_range(_value(got, _GEN_LARGE), -1.0, 1.0, name=_GEN_LARGE,
                       hint="a linear last layer is unbounded; end the generator with tanh.")
    if not float(np.min(images)) < 0.0:
        raise AssertionError(
            f"{_GEN_IMAGES}: expected values on both sides of 0 (tanh covers [-1, 1]); got none "
            "below 0. Hint: a sigmoid or ReLU at the end only gives [0, 1]; the data are scaled "
            "to [-1, 1], so use tanh.")
    _check_flow(got, _GEN_FLOW)
    _check_io(got, ref, f"{_GEN5} input shape",
              "build the input from the latent_dim argument: keras.Input(shape=(latent_dim,)).")
    images5 = _value(got, _GEN5_IMAGES)
    checks.check_shape(images5, (3, 28, 28, 1), name=_GEN5_IMAGES,
                       hint="the generator must work for any latent_dim.")
    checks.check_range(images5, -1.0, 1.0, name=_GEN5_IMAGES,
                       hint="end the generator with tanh.")

    head = "one logit per image: end with Flatten() and Dense(1)."
    _check_io(got, ref, f"{_DIS} input shape", "take images keras.Input(shape=(28, 28, 1)).")
    _check_io(got, ref, f"{_DIS} output shape", head)
    logits = _value(got, _DIS_LOGITS, head)
    checks.check_shape(logits, (28, 1), name=_DIS_LOGITS, hint=head)
    checks.check_finite(logits, name=_DIS_LOGITS)
    if not (logits.min() < 0.0 or logits.max() > 1.0):
        raise AssertionError(
            f"{_DIS_LOGITS}: expected logits (any real number, some outside [0, 1]); got all "
            f"{len(logits)} in [{logits.min():.3f}, {logits.max():.3f}]. Hint: remove the "
            "sigmoid from the last layer; the losses apply it themselves (from_logits=True).")
    _check_flow(got, _DIS_FLOW)
    if not float(_value(got, _DIS_INPUT_GRAD)) > 0.0:
        raise AssertionError(
            f"{_DIS_INPUT_GRAD}: expected a nonzero gradient from the logit back to the input "
            "image; got none. Hint: keep the discriminator differentiable in its input (no "
            "numpy(), argmax or stop_gradient): the generator learns through it.")


# --------------------------------------------------------------------------- Task 4

_ATTRIBUTES = "GAN(tiny generator, tiny discriminator, latent_dim=3, d_steps=2)"
_STEP2 = "one train_step with d_steps=2, d_optimizer SGD(0.1) and g_optimizer SGD(0.1)"
_FROZEN_G = "one train_step with d_optimizer SGD(0.1) and g_optimizer SGD(0.0)"
_FROZEN_D = "one train_step with d_optimizer SGD(0.0) and g_optimizer SGD(0.1)"
_EXACT = "one train_step with d_optimizer SGD(0.1) and g_optimizer SGD(0.2)"
_FIT = "fit() for 1 epoch over 10 images in batches of 4, 4 and 2 with d_steps=2"
_LOG_KEYS = ("d_loss", "g_loss", "D(x)", "D(G(z))")
_STEP_HINT = ("apply each network's gradients with its own optimiser (d_optimizer for the "
              "discriminator, g_optimizer for the generator) and only to that network's "
              "trainable_variables.")
_GRADED_ALONE = (" (These checks run your train_step with correct discriminator_loss and "
                 "generator_loss, so a mistake in Task 1 or 2a does not show here: look at "
                 "train_step itself.)")


def _reference_discriminator_loss(real_logits, fake_logits):
    """Task 1's answer, for checking train_step apart from it (one mistake costs one task)."""
    import tensorflow as tf

    return (tf.reduce_mean(tf.math.softplus(-tf.cast(real_logits, tf.float32)))
            + tf.reduce_mean(tf.math.softplus(tf.cast(fake_logits, tf.float32))))


def _reference_generator_loss(fake_logits):
    """Task 2a's answer, for checking train_step apart from it."""
    import tensorflow as tf

    return tf.reduce_mean(tf.math.softplus(-tf.cast(fake_logits, tf.float32)))


def _with_reference_losses(answers, run):
    """run() with the student's discriminator_loss and generator_loss replaced by correct ones
    (train_step looks them up by name when called), so only train_step itself is graded here."""

    def call():
        with answers.using(discriminator_loss=_reference_discriminator_loss,
                           generator_loss=_reference_generator_loss):
            return run()

    return call


def _tiny_gan(GAN, d_learning_rate, g_learning_rate, d_steps=1):
    """The test cell's tiny GAN: the generator's kernel is 0, so G(z) = its bias for every z."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    z = keras.Input(shape=(3,))
    fake = layers.Dense(4, kernel_initializer="zeros",
                        bias_initializer=keras.initializers.RandomNormal(seed=1))(z)
    tiny_generator = keras.Model(z, layers.Reshape((2, 2, 1))(fake))
    x = keras.Input(shape=(2, 2, 1))
    logit = layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=2),
                         bias_initializer="zeros")(layers.Flatten()(x))
    tiny_discriminator = keras.Model(x, logit)
    gan = GAN(tiny_generator, tiny_discriminator, latent_dim=3, d_steps=d_steps)
    gan.compile(d_optimizer=keras.optimizers.SGD(d_learning_rate),
                g_optimizer=keras.optimizers.SGD(g_learning_rate))
    return gan


def probe_test_gan_train_step(answers):
    import tensorflow as tf

    GAN = answers["GAN"]
    real_batch = np.random.default_rng(3).normal(size=(4, 2, 2, 1)).astype(np.float32)

    def train_once(gan):
        return gan.train_step(tf.constant(real_batch))

    def iterations(gan):
        return {"d_optimizer.iterations": int(gan.d_optimizer.iterations),
                "g_optimizer.iterations": int(gan.g_optimizer.iterations)}

    two_steps = _lazy(lambda: _tiny_gan(GAN, 0.1, 0.1, d_steps=2))

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
            gan = _tiny_gan(GAN, d_learning_rate, g_learning_rate)
            generator_before, discriminator_before = (_weights(gan.generator),
                                                      _weights(gan.discriminator))
            train_once(gan)
            return {"largest change of the generator's weights":
                        _largest_change(generator_before, gan.generator),
                    "largest change of the discriminator's weights":
                        _largest_change(discriminator_before, gan.discriminator)}
        return run

    def exact():
        gan = _tiny_gan(GAN, 0.1, 0.2)
        (_, g_bias), (d_kernel, d_bias) = _weights(gan.generator), _weights(gan.discriminator)
        before = {"discriminator weights before": np.concatenate([d_kernel.ravel(), d_bias]),
                  "generator bias before": g_bias}
        logs = train_once(gan)
        (_, g_bias), (d_kernel, d_bias) = _weights(gan.generator), _weights(gan.discriminator)
        return {**before,
                "discriminator weights after": np.concatenate([d_kernel.ravel(), d_bias]),
                "generator bias after": g_bias,
                "logs": {key: float(logs[key]) for key in _LOG_KEYS if key in logs}}

    def fitted():
        gan = _tiny_gan(GAN, 0.05, 0.05, d_steps=2)
        images = np.random.default_rng(7).normal(size=(10, 2, 2, 1)).astype(np.float32)
        history = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1,
                          verbose=0, shuffle=False)
        keys = sorted(str(k) for k in history.history)
        return {"history keys": np.array(keys or [""], dtype=str)[:len(keys)],
                **iterations(gan)}

    entries = {_ATTRIBUTES: attributes, _STEP2: step_two,
               _FROZEN_G: movement(0.1, 0.0), _FROZEN_D: movement(0.0, 0.1),
               _EXACT: exact, _FIT: fitted}
    return {name: _with_reference_losses(answers, run) for name, run in entries.items()}


def _step_value(got, name):
    """got[name]; an error of train_step is reported with the test cell's hint."""
    return _value(got, name, _STEP_HINT)


def verdict_test_gan_train_step(got, ref):
    for attribute, expected in [("latent_dim", 3), ("d_steps", 2)]:
        value = _step_value(got, f"{_ATTRIBUTES}/{attribute}")
        if value.dtype.kind not in "iuf" or value.shape != () or float(value) != expected:
            raise AssertionError(
                f"GAN.{attribute}: expected {expected}; got {value.item()}. Hint: keep the "
                "constructor's arguments as attributes of the same names.")
    for attribute in ("generator", "discriminator", "d_optimizer", "g_optimizer"):
        if not bool(_step_value(got, f"{_ATTRIBUTES}/{attribute} is set")):
            raise AssertionError(f"GAN.{attribute}: expected it set; got None or missing. Hint: "
                                 "keep the arguments of __init__ and compile as attributes.")

    keys = set(_step_value(got, f"{_STEP2}/log keys").tolist())
    missing = set(_LOG_KEYS) - keys
    if missing:
        raise AssertionError(
            f"train_step's logs: expected keys d_loss, g_loss, D(x), D(G(z)); got logs without "
            f"{', '.join(sorted(missing))}. Hint: create keras.metrics.Mean trackers with "
            "those names and return {m.name: m.result() for m in self.metrics}.")
    steps = (int(_step_value(got, f"{_STEP2}/d_optimizer.iterations")),
             int(_step_value(got, f"{_STEP2}/g_optimizer.iterations")))
    if steps != (2, 1):
        raise AssertionError(
            f"optimiser steps after one batch with d_steps=2: expected d_optimizer 2 and "
            f"g_optimizer 1; got {steps[0]} and {steps[1]}. Hint: loop `for _ in "
            "range(self.d_steps)` around the discriminator step, then make one generator step, "
            "each optimiser applied once per step.")

    generator_change = "largest change of the generator's weights"
    discriminator_change = "largest change of the discriminator's weights"
    if float(_step_value(got, f"{_FROZEN_G}/{generator_change}")) != 0.0:
        raise AssertionError(
            "with g_optimizer's learning rate 0 the generator's weights changed. Hint: the "
            "discriminator step must update only the discriminator, and only g_optimizer may "
            "update the generator.")
    if not float(_step_value(got, f"{_FROZEN_G}/{discriminator_change}")) > 0.0:
        raise AssertionError(
            "with d_optimizer's learning rate 0.1 the discriminator's weights did not move. "
            "Hint: apply the gradients of discriminator_loss to "
            "self.discriminator.trainable_variables with self.d_optimizer.")
    if float(_step_value(got, f"{_FROZEN_D}/{discriminator_change}")) != 0.0:
        raise AssertionError(
            "with d_optimizer's learning rate 0 the discriminator's weights changed. Hint: in "
            "the generator step take gradients only with respect to "
            "self.generator.trainable_variables and apply them with self.g_optimizer; the "
            "discriminator stays frozen.")
    if not float(_step_value(got, f"{_FROZEN_D}/{generator_change}")) > 0.0:
        raise AssertionError(
            "with g_optimizer's learning rate 0.1 the generator's weights did not move. Hint: "
            "apply the gradients of generator_loss to self.generator.trainable_variables with "
            "self.g_optimizer.")

    for part in ("discriminator weights before", "generator bias before"):
        checks.check_close(_step_value(got, f"{_EXACT}/{part}"), ref[f"{_EXACT}/{part}"],
                           rtol=0.0, atol=1e-6, name=f"{_EXACT}: {part}",
                           hint="GAN(...) and compile(...) must keep the networks they are "
                                "given, weights unchanged.")
    checks.check_close(
        _step_value(got, f"{_EXACT}/discriminator weights after"),
        ref[f"{_EXACT}/discriminator weights after"], rtol=1e-4, atol=1e-5,
        name="discriminator weights after one step (SGD, learning rate 0.1)",
        hint="the discriminator step descends the gradient of "
             "discriminator_loss(D(real_images), D(G(z))), not of the generator's loss."
             + _GRADED_ALONE)
    checks.check_close(
        _step_value(got, f"{_EXACT}/generator bias after"), ref[f"{_EXACT}/generator bias after"],
        rtol=1e-4, atol=1e-5, name="generator bias after one step (SGD, learning rate 0.2)",
        hint="the generator step descends generator_loss(D(G(z))) computed with the "
             "discriminator as updated by this batch's discriminator step(s), not from the "
             "TensorFlow tutorial's single forward pass for both networks." + _GRADED_ALONE)

    for key in _LOG_KEYS:
        name = f"{_EXACT}/logs/{key}"
        if name not in got.values:
            raise AssertionError(f"{_EXACT}: expected a logged value for {key}; got none. Hint: "
                                 "return {m.name: m.result() for m in self.metrics}.")
        checks.check_close(_step_value(got, name), ref[name], rtol=0.0, atol=1e-4,
                           name=f"logged {key} after {_EXACT}",
                           hint="d_loss and g_loss are this batch's losses; D(x) and D(G(z)) "
                                "are mean probabilities, the sigmoid of the logits, averaged.")

    fit_hint = ("batches may have any size (here 4, 4 and 2): use tf.shape(real_images)[0], "
                "not a fixed batch size, and only TensorFlow ops in train_step.")
    missing = set(_LOG_KEYS) - set(_value(got, f"{_FIT}/history keys", fit_hint).tolist())
    if missing:
        raise AssertionError(f"{_FIT}: expected d_loss, g_loss, D(x) and D(G(z)) in the "
                             f"history; got a history without {', '.join(sorted(missing))}. "
                             "Hint: return their trackers from the metrics property.")
    steps = (int(got[f"{_FIT}/d_optimizer.iterations"]), int(got[f"{_FIT}/g_optimizer.iterations"]))
    if steps != (6, 3):
        raise AssertionError(
            f"{_FIT}: expected 6 discriminator and 3 generator optimiser steps; got {steps[0]} "
            f"and {steps[1]}. Hint: d_steps discriminator steps and one generator step per "
            "batch, whatever the batch size.")


# --------------------------------------------------------------------------- Task 4b

_LA_MIXED = "latent_arithmetic on 3, 2 and 4 random codes of size 5"
_LA_ONE = "latent_arithmetic on one code in each set"
_LA_WIDE = "latent_arithmetic on 10, 7 and 1 random codes of size 64"
_LA_CANCEL = "latent_arithmetic(a, a, c) (must be mean(c))"
_LA_HINTS = {
    _LA_MIXED: "mean(codes_a) - mean(codes_b) + mean(codes_c), each mean over its own rows "
               "(axis 0): sums instead of means grow with the number of rows; subtract b and "
               "add c.",
    _LA_ONE: "with one row in each set the result is a - b + c: check the signs.",
    _LA_WIDE: "the sets may have different numbers of rows (here 10, 7 and 1): average each "
              "over axis 0 before combining them.",
    _LA_CANCEL: "a - a cancels, leaving mean(codes_c).",
}


def probe_test_latent_arithmetic(answers):
    latent_arithmetic = answers["latent_arithmetic"]
    rng = np.random.default_rng(11)
    a, b, c = (rng.normal(size=(n, 5)).astype(np.float32) for n in (3, 2, 4))
    wide_a, wide_b, wide_c = (rng.normal(size=(n, 64)).astype(np.float32) for n in (10, 7, 1))
    return {
        _LA_MIXED: lambda: latent_arithmetic(a.copy(), b.copy(), c.copy()),
        _LA_ONE: lambda: latent_arithmetic(a[:1].copy(), b[1:].copy(), c[2:3].copy()),
        _LA_WIDE: lambda: latent_arithmetic(wide_a.copy(), wide_b.copy(), wide_c.copy()),
        _LA_CANCEL: lambda: latent_arithmetic(a.copy(), a.copy(), c.copy()),
    }


def verdict_test_latent_arithmetic(got, ref):
    for name, hint in _LA_HINTS.items():
        value = _value(got, name, hint)
        expected = ref[name]
        checks.check_shape(value, expected.shape, name=name,
                           hint="return one code with no batch axis, shape (latent_dim,): take "
                                "each mean over axis 0 without keepdims, not over the latent axis.")
        checks.check_close(value, expected, rtol=1e-5, atol=1e-5, name=name, hint=hint)


# --------------------------------------------------------------------------- Task 5


def _ring_centers(modes=8, radius=2.0):
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def _toy_ring(n, seed, modes=8, radius=2.0, std=0.05):
    rng = np.random.default_rng(seed)
    component = rng.integers(modes, size=n)
    return (_ring_centers(modes, radius)[component]
            + rng.normal(0.0, std, size=(n, 2))).astype(np.float32)


_MODES_CASES = {
    "modes_covered(samples, centers, radius=0.3) for 100 samples: 50% near mode 0, 30% near "
    "mode 3, 1% near mode 5, 19% far away": (
        "count centres, not samples; a mode needs at least min_fraction of ALL samples within "
        "the radius (1% counts when min_fraction is 0.01), and far-away samples belong to no "
        "mode."),
    "modes_covered of those samples with radius=0.3, min_fraction=0.05": (
        "only modes 0 and 3 (50% and 30%) count; the 1% mode does not. Compare each centre's "
        "share of all samples with min_fraction."),
    "modes_covered of those samples with radius=0.05 (each sample 0.1 from its centre)": (
        "no sample is close enough: compare the Euclidean distance (not its square) with the "
        "radius."),
    "modes_covered of 4,000 samples of the real ring, radius=0.5": (
        "samples of the real ring cover all 8 modes."),
    "modes_covered of 2 points 0.6 from mode 0 and one at the origin, radius=0.5": (
        "points 0.6 away are outside radius 0.5; compare the Euclidean distance, not the "
        "squared distance, with the radius."),
    "modes_covered of those 3 points, radius=0.7, min_fraction=0.5": (
        "2 of 3 samples within 0.7 of mode 0 is 67% >= 50%, so one mode."),
    "modes_covered of 200 ring samples as a float64 array, arguments by position": (
        "modes_covered(samples, centers, radius, min_fraction) takes NumPy arrays of any float "
        "dtype; samples of the real ring cover all 8 modes."),
    "modes_covered of 1 sample near mode 2 and 99 far away, radius=0.5, min_fraction=0.05": (
        "1 sample of 100 near a mode is 1% of ALL samples, below min_fraction 0.05: divide by "
        "the number of samples N, not by the number of samples near some mode."),
}


def probe_test_modes_covered(answers):
    modes_covered = answers["modes_covered"]
    centers = _ring_centers(8, 2.0)
    offset = np.array([0.1, 0.0], np.float32)
    samples = np.concatenate([
        np.repeat(centers[[0]] + offset, 50, axis=0), np.repeat(centers[[3]] - offset, 30, axis=0),
        centers[[5]] + offset, np.repeat([[6.0, 6.0]], 19, axis=0)]).astype(np.float32)
    ring = _toy_ring(4000, seed=3)
    near = np.array([[2.0, 0.6], [2.0, 0.6], [0.0, 0.0]], np.float32)
    lonely = np.concatenate([centers[[2]], np.repeat([[7.0, -7.0]], 99, axis=0)])
    calls = [lambda: modes_covered(samples, centers, radius=0.3),
             lambda: modes_covered(samples, centers, radius=0.3, min_fraction=0.05),
             lambda: modes_covered(samples, centers, radius=0.05),
             lambda: modes_covered(ring, centers, radius=0.5),
             lambda: modes_covered(near, centers, radius=0.5),
             lambda: modes_covered(near, centers, radius=0.7, min_fraction=0.5),
             lambda: modes_covered(ring[:200].astype(np.float64), centers, 0.5, 0.01),
             lambda: modes_covered(lonely, centers, radius=0.5, min_fraction=0.05)]

    def recorded(call):
        def run():
            covered = call()
            return {"value": covered, "is an int": isinstance(covered, (int, np.integer)),
                    "type": type(covered).__name__}
        return run

    return {name: recorded(call) for name, call in zip(_MODES_CASES, calls)}


def verdict_test_modes_covered(got, ref):
    for name, hint in _MODES_CASES.items():
        value = _value(got, f"{name}/value", hint)
        if not bool(got[f"{name}/is an int"]):
            raise AssertionError(
                f"{name}: expected an int (a count of modes); got {got[f'{name}/type'].item()} "
                f"{np.array2string(value, threshold=10)}. Hint: count the centres, e.g. "
                "int(np.sum(...)).")
        expected = int(ref[f"{name}/value"])
        if value.shape != () or int(value) != expected:
            raise AssertionError(f"{name}: expected {expected}; got {value.item()}. Hint: {hint}")


# --------------------------------------------------------------------------- Task 6

_CG = "build_conditional_generator(8, 10)"
_CG_ZERO = f"{_CG} outputs for 4 z with label 0"
_CG_ONE = f"{_CG} outputs for the same z with label 1"
_CG_LARGE = f"{_CG} outputs for large z (100 times those z) with label 0"
_CG_FLOW = f"gradients in {_CG}"
_CG3 = "build_conditional_generator(5, 3) outputs for 3 z with labels 0, 1, 2"
_CD = "build_conditional_discriminator(10)"
_CD_ZERO = f"{_CD} outputs for 4 images with label 0"
_CD_ONE = f"{_CD} outputs for the same images with label 1"
_CD_BIG = f"{_CD} outputs for 12 images (random, times 50, times -50) with labels 0-3"
_CD_FLOW = f"gradients in {_CD}"


def probe_test_conditional_networks(answers):
    import keras

    build_g = answers["build_conditional_generator"]
    build_d = answers["build_conditional_discriminator"]

    def seeded(build, *args):
        def make():
            keras.utils.set_random_seed(0)
            return build(*args)
        return _lazy(make)

    generator, generator3, discriminator = (seeded(build_g, 8, 10), seeded(build_g, 5, 3),
                                            seeded(build_d, 10))
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 8)).astype(np.float32)
    x = rng.uniform(-1, 1, size=(4, 28, 28, 1)).astype(np.float32)
    z3 = rng.normal(size=(3, 5)).astype(np.float32)
    zeros, ones, labels = np.zeros(4, np.int32), np.ones(4, np.int32), np.arange(4, dtype=np.int32)
    big = np.concatenate([x, 50 * x, -50 * x])
    return {
        _CG_ZERO: lambda: generator()([z, zeros], training=False),
        _CG_ONE: lambda: generator()([z, ones], training=False),
        _CG_LARGE: lambda: generator()([100 * z, zeros], training=False),
        _CG_FLOW: lambda: _gradient_flow(generator(), [z, labels]),
        _CG3: lambda: generator3()([z3, np.array([0, 1, 2], np.int32)], training=False),
        _CD_ZERO: lambda: discriminator()([x, zeros], training=False),
        _CD_ONE: lambda: discriminator()([x, ones], training=False),
        _CD_BIG: lambda: discriminator()([big, np.tile(labels, 3)], training=False),
        _CD_FLOW: lambda: _gradient_flow(discriminator(), [x, labels]),
    }


def verdict_test_conditional_networks(got, ref):
    as_zero = _value(got, _CG_ZERO, "inputs [z, labels], output images (N, 28, 28, 1).")
    checks.check_shape(as_zero, (4, 28, 28, 1), name=_CG_ZERO,
                       hint="inputs [z, labels], output images (N, 28, 28, 1).")
    checks.check_range(as_zero, -1.0, 1.0, name=_CG_ZERO,
                       hint="end with tanh, as the DCGAN generator.")
    if not as_zero.min() < 0.0:
        raise AssertionError(
            f"{_CG_ZERO}: expected values on both sides of 0; got none below 0. Hint: images "
            "live in [-1, 1]; end with tanh, not sigmoid or ReLU.")
    as_one = _value(got, _CG_ONE)
    checks.check_shape(as_one, as_zero.shape, name=_CG_ONE)
    if not np.abs(as_zero - as_one).max() > 1e-6:
        raise AssertionError(
            f"{_CG}: expected different images for labels 0 and 1 with the same z; got "
            "identical ones. Hint: the label must enter the network, e.g. concatenate "
            "Embedding(num_classes, ...)(labels) with z.")
    checks.check_range(_value(got, _CG_LARGE), -1.0, 1.0, name=_CG_LARGE,
                       hint="a linear last layer is unbounded; end with tanh.")
    _check_flow(got, _CG_FLOW)
    images3 = _value(got, _CG3, "the generator must work for any latent_dim and num_classes.")
    checks.check_shape(images3, (3, 28, 28, 1), name=_CG3,
                       hint="the generator must work for any latent_dim and num_classes.")
    checks.check_range(images3, -1.0, 1.0, name=_CG3, hint="end with tanh.")

    logit_zero = _value(got, _CD_ZERO, "one logit per image: end with Dense(1).")
    checks.check_shape(logit_zero, (4, 1), name=_CD_ZERO,
                       hint="one logit per image: end with Dense(1).")
    logit_one = _value(got, _CD_ONE)
    checks.check_shape(logit_one, (4, 1), name=_CD_ONE, hint="one logit per image.")
    if not np.abs(logit_zero - logit_one).max() > 1e-6:
        raise AssertionError(
            f"{_CD}: expected different logits for labels 0 and 1 with the same images; got "
            "identical ones. Hint: feed the label in, e.g. as an embedded 28 x 28 plane "
            "concatenated with the image.")
    _check_flow(got, _CD_FLOW)
    outputs = _value(got, _CD_BIG)
    checks.check_finite(outputs, name=_CD_BIG)
    if not (outputs.min() < 0.0 or outputs.max() > 1.0):
        raise AssertionError(
            f"{_CD_BIG}: expected logits (any real number, some outside [0, 1]); got all in "
            f"[{outputs.min():.3f}, {outputs.max():.3f}]. Hint: output logits, not "
            "probabilities: no sigmoid on the last layer.")


# --------------------------------------------------------------------------- Task 7

_TRUTH = "the images the probe generator draws (ground truth)"
_DAMAGED = "the damaged images (rows 10-27 set to -1)"
_CONSTANT = "G(z) of a generator that gives the same image for every z"
_COMPLETED = "inpaint(...) for 3 images with rows 10-27 missing (30 steps, learning rate 0.1)"
_FILLED = "inpaint(...) with a generator that gives the same image for every z (2 steps)"
_OTHER = ("inpaint(...) for the same 3 images with other values in the missing pixels (30 "
          "steps, learning rate 0.1)")
_FROZEN = "largest change of the generator's weights during inpaint"


def probe_test_inpaint(answers):
    import keras
    from keras import layers

    inpaint = answers["inpaint"]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    z = keras.Input(shape=(4,))
    pixels = layers.Dense(784, activation="tanh", bias_initializer="zeros",
                          kernel_initializer=keras.initializers.Constant(
                              rng.normal(0, 0.5, size=(4, 784))))(z)
    generator = keras.Model(z, layers.Reshape((28, 28, 1))(pixels))
    truth = np.asarray(generator(rng.normal(size=(3, 4)).astype(np.float32)))
    mask = np.ones_like(truth)
    mask[:, 10:] = 0.0
    hole = mask == 0
    damaged = np.where(hole, -1.0, truth).astype(np.float32)
    other_damaged = np.where(hole, rng.uniform(-1, 1, size=truth.shape), truth).astype(np.float32)
    weights_before = _weights(generator)

    constant_z = keras.Input(shape=(4,))
    constant_pixels = layers.Dense(784, activation="tanh", kernel_initializer="zeros",
                                   bias_initializer=keras.initializers.Constant(
                                       np.linspace(-0.9, 0.9, 784)))(constant_z)
    constant_generator = keras.Model(constant_z, layers.Reshape((28, 28, 1))(constant_pixels))
    constant_output = np.asarray(constant_generator(np.zeros((1, 4), np.float32)))[0]
    return {
        _TRUTH: truth, _DAMAGED: damaged, _CONSTANT: constant_output,
        _COMPLETED: lambda: inpaint(generator, damaged.copy(), mask.copy(), steps=30,
                                    learning_rate=0.1, seed=0),
        _FILLED: lambda: inpaint(constant_generator, damaged.copy(), mask.copy(), steps=2,
                                 learning_rate=0.05, seed=0),
        _OTHER: lambda: inpaint(generator, other_damaged.copy(), mask.copy(), steps=30,
                                learning_rate=0.1, seed=0),
        _FROZEN: lambda: _largest_change(weights_before, generator),
    }


def verdict_test_inpaint(got, ref):
    truth, damaged = ref[_TRUTH], ref[_DAMAGED]
    hole = np.broadcast_to(np.arange(28)[None, :, None, None] >= 10, truth.shape)
    completed = _value(got, _COMPLETED)
    checks.check_shape(completed, (3, 28, 28, 1), name=_COMPLETED,
                       hint="return one completed image per damaged image.")
    checks.check_close(got[_DAMAGED], damaged, rtol=0.0, atol=1e-5, name=_DAMAGED,
                       hint="the grader's inputs changed in your kernel: do not modify numpy, "
                            "keras or the inputs of inpaint.")
    checks.check_close(completed[~hole], got[_DAMAGED][~hole], rtol=0.0, atol=1e-6,
                       name="known pixels after inpainting",
                       hint="known pixels (mask 1) must be returned unchanged: blend "
                            "mask * damaged + (1 - mask) * G(z), not G(z) everywhere.")
    filled = _value(got, _FILLED)
    checks.check_shape(filled, (3, 28, 28, 1), name=_FILLED,
                       hint="return one completed image per damaged image.")
    checks.check_close(filled[hole], np.broadcast_to(ref[_CONSTANT], filled.shape)[hole],
                       rtol=0.0, atol=1e-5,
                       name="missing pixels when G(z) is the same image for every z",
                       hint="missing pixels (mask 0) must come from the generator: "
                            "(1 - mask) * G(z). Is the blend the wrong way round, or the mask "
                            "read as 1 = missing?")
    fill_error = float(np.abs(completed.astype(np.float64) - truth)[hole].mean())
    if not fill_error < 0.15:
        raise AssertionError(
            "inpaint: expected the missing pixels within 0.15 on average of the image the "
            "generator can reproduce exactly (a random z gives about 0.55); got off by "
            f"{fill_error:.3f}. Hint: optimise z "
            "with Adam(learning_rate) for `steps` steps on the error over the known pixels, and "
            "use the optimised z for the output.")
    other = _value(got, _OTHER)
    checks.check_shape(other, completed.shape, name=_OTHER)
    if not np.allclose(other, completed, atol=1e-4):
        raise AssertionError(
            f"{_OTHER}: expected the same result as with -1 in the missing pixels (within "
            f"1e-4); got a difference of up to {np.abs(other - completed).max():.3g}. Hint: the "
            "data loss "
            "must use the known pixels only (multiply the error by the mask), and z must start "
            "from np.random.default_rng(seed).")
    change = float(_value(got, _FROZEN))
    if change != 0.0:
        raise AssertionError(
            f"{_FROZEN}: expected 0 (the generator stays frozen); got {change:.3g}. Hint: "
            "optimise z only: pass [z] to the optimiser, not generator.trainable_variables.")
    checks.check_dtype(completed, "float32", name=_COMPLETED,
                       hint="return float32 images, e.g. the .numpy() of a float32 tensor.")


# --------------------------------------------------------------------------- Task 8

_NL_EXACT = ("nearest_latent for 3 images whose known pixels are G(pool[7]), G(pool[23]), "
             "G(pool[0]) and whose missing pixels come from G(pool[31]), G(pool[2]), G(pool[15])")
_NL_NOISY = ("nearest_latent for 2 images: G(pool[118]) and G(pool[5]) plus noise of 0.01 on "
             "the known pixels, the bottom half missing and set to 1, pool of 150 codes")
_NL_ONE = "nearest_latent for 1 image with a single known pixel row, pool of 20 codes"
_NL_HINT = ("compare each image's known pixels (mask 1) only, with every decoded pool code, and "
            "keep the code with the smallest loss (argmin); return the codes, pool[index].")


def _probe_generator(seed):
    import keras
    from keras import layers

    rng = np.random.default_rng(seed)
    z = keras.Input(shape=(4,))
    pixels = layers.Dense(784, activation="tanh", bias_initializer="zeros",
                          kernel_initializer=keras.initializers.Constant(
                              rng.normal(0, 0.5, size=(4, 784))))(z)
    return keras.Model(z, layers.Reshape((28, 28, 1))(pixels))


def probe_test_nearest_latent(answers):
    nearest_latent = answers["nearest_latent"]
    generator = _probe_generator(21)
    rng = np.random.default_rng(22)

    pool = rng.normal(size=(40, 4)).astype(np.float32)
    images = np.asarray(generator(pool))
    mask = np.ones((3, 28, 28, 1), np.float32)
    mask[0, 12:] = 0.0
    mask[1, 5:23, 3:25] = 0.0
    mask[2, :, 9:] = 0.0
    damaged = np.where(mask == 1, images[[7, 23, 0]], images[[31, 2, 15]]).astype(np.float32)

    big_pool = rng.normal(size=(150, 4)).astype(np.float32)
    big_images = np.asarray(generator(big_pool))
    half = np.ones((2, 28, 28, 1), np.float32)
    half[:, 14:] = 0.0
    noisy = big_images[[118, 5]] + rng.normal(0, 0.01, size=(2, 28, 28, 1))
    noisy = np.where(half == 1, noisy, 1.0).astype(np.float32)

    small_pool = rng.normal(size=(20, 4)).astype(np.float32)
    row = np.zeros((1, 28, 28, 1), np.float32)
    row[:, 3] = 1.0
    single = np.where(row == 1, np.asarray(generator(small_pool[[13]])), -1.0).astype(np.float32)
    return {
        _NL_EXACT: lambda: nearest_latent(generator, damaged.copy(), mask.copy(), pool.copy()),
        _NL_NOISY: lambda: nearest_latent(generator, noisy.copy(), half.copy(), big_pool.copy()),
        _NL_ONE: lambda: nearest_latent(generator, single.copy(), row.copy(), small_pool.copy()),
    }


def verdict_test_nearest_latent(got, ref):
    for name, shape in [(_NL_EXACT, (3, 4)), (_NL_NOISY, (2, 4)), (_NL_ONE, (1, 4))]:
        chosen = _value(got, name, _NL_HINT)
        checks.check_shape(chosen, shape, name=name,
                           hint="return the chosen codes themselves, one row of the pool per "
                                "damaged image (pool[index], not the index).")
        checks.check_close(chosen, ref[name], rtol=0.0, atol=1e-6, name=name, hint=_NL_HINT)
