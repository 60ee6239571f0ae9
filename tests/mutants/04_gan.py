# ruff: noqa: E501  (mutant sources are code inside strings, kept as students would write them)
"""04_gan: typical wrong answers (MUTANTS), other correct answers (VARIANTS), the mutants only
the hidden tests catch (HIDDEN_ONLY) and wrong earlier answers a later task must not pay for
(CASCADES).

Each mutant redefines one task in the solution notebook's namespace (keras, layers, np, tf,
common and the solution cells are available); its task's hidden test (verdict) must then fail,
and its test cell too unless HIDDEN_ONLY lists it, each with a message that names the cause."""

import json
from pathlib import Path

# --------------------------------------------------------------------------- Task 4 sources
# The GAN solution split into parts, so each mutant changes one thing and reads like a diff.

_GAN_HEAD = '''
class GAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim, d_steps=1, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.d_steps = latent_dim, d_steps
        self.seed_generator = keras.random.SeedGenerator(0)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="D(x)")
        self.fake_score_tracker = keras.metrics.Mean(name="D(G(z))")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker,
                self.real_score_tracker, self.fake_score_tracker]

    def noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def finish(self, d_loss, g_loss, real_logits, fake_logits):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}
'''

_D_STEP = '''
    def d_step(self, real_images, batch_size):
        fake_images = self.generator(self.noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = DLOSS
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        return d_loss, real_logits, fake_logits
'''

_G_STEP = '''
    def g_step(self, batch_size):
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(self.noise(batch_size), training=True),
                                             training=True)
            g_loss = generator_loss(fake_logits)
        grads = tape.gradient(g_loss, GVARS)
        OPTIMIZER.apply(grads, GVARS)
        return g_loss
'''

_TRAIN_STEP = '''
    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            d_loss, real_logits, fake_logits = self.d_step(real_images, batch_size)
        g_loss = self.g_step(batch_size)
        return self.finish(d_loss, g_loss, real_logits, fake_logits)
'''


def _gan(d_loss="discriminator_loss(real_logits, fake_logits)",
         g_vars="self.generator.trainable_variables", optimizer="self.g_optimizer",
         train_step=_TRAIN_STEP, head=_GAN_HEAD):
    return (head + _D_STEP.replace("DLOSS", d_loss)
            + _G_STEP.replace("GVARS", g_vars).replace("OPTIMIZER", optimizer) + train_step)


_IGNORES_D_STEPS = _TRAIN_STEP.replace("for _ in range(self.d_steps):\n            d_loss",
                                       "if True:\n            d_loss")

_SIMULTANEOUS = '''
    def train_step(self, real_images):
        # Lecture 01's single forward pass: the generator step sees D before its update.
        batch_size = tf.shape(real_images)[0]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(self.noise(batch_size), training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            g_loss = generator_loss(fake_logits)
            d_loss = discriminator_loss(real_logits, fake_logits)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.g_optimizer.apply(g_grads, self.generator.trainable_variables)
        for _ in range(self.d_steps):
            self.d_optimizer.apply(d_grads, self.discriminator.trainable_variables)
        return self.finish(d_loss, g_loss, real_logits, fake_logits)
'''

_LOGITS_AS_SCORES = _GAN_HEAD.replace(
    "self.real_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(real_logits)))",
    "self.real_score_tracker.update_state(tf.reduce_mean(real_logits))").replace(
    "self.fake_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(fake_logits)))",
    "self.fake_score_tracker.update_state(tf.reduce_mean(fake_logits))")

_MISSING_SCORES = _GAN_HEAD.replace(
    "return [self.d_loss_tracker, self.g_loss_tracker,\n"
    "                self.real_score_tracker, self.fake_score_tracker]",
    "return [self.d_loss_tracker, self.g_loss_tracker]").replace(
    "        self.real_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(real_logits)))\n",
    "").replace(
    "        self.fake_score_tracker.update_state(tf.reduce_mean(tf.sigmoid(fake_logits)))\n", "")

_RENAMED_ATTRIBUTES = _GAN_HEAD.replace(
    "self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer",
    "self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer\n"
    "        self.steps_per_batch = self.d_steps").replace(
    "self.latent_dim, self.d_steps = latent_dim, d_steps",
    "self.latent_dim, self.k = latent_dim, d_steps\n        self.d_steps = None")

# --------------------------------------------------------------------------- Task 3 sources

_GENERATOR = '''
def build_generator(latent_dim):
    z = keras.Input(shape=(LATENT,))
    x = layers.Dense(7 * 7 * 32)(z)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, 32))(x)
    x = layers.Conv2DTranspose(16, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    return keras.Model(z, layers.Conv2DTranspose(1, 4, strides=2, padding="same",
                                                 activation=ACTIVATION)(x))
'''


def _generator(activation='"tanh"', latent="latent_dim"):
    return _GENERATOR.replace("ACTIVATION", activation).replace("LATENT", latent)


_DISCRIMINATOR = '''
def build_discriminator():
    images = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, 4, strides=2, padding="same")(images)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(32, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    return keras.Model(images, HEAD(layers.Flatten()(x)))
'''


def _discriminator(head="layers.Dense(1)"):
    return _DISCRIMINATOR.replace("HEAD", head)


# --------------------------------------------------------------------------- Task 6 sources

_COND_GENERATOR = '''
def build_conditional_generator(latent_dim, num_classes):
    z = keras.Input(shape=(latent_dim,))
    labels = keras.Input(shape=(), dtype="int32")
    x = INPUTS
    x = layers.Dense(7 * 7 * 16)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, 16))(x)
    x = layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    images = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation=ACTIVATION)(x)
    return keras.Model([z, labels], images)
'''


def _cond_generator(inputs="layers.Concatenate()([z, layers.Embedding(num_classes, 8)(labels)])",
                    activation='"tanh"'):
    return _COND_GENERATOR.replace("INPUTS", inputs).replace("ACTIVATION", activation)


_COND_DISCRIMINATOR = '''
def build_conditional_discriminator(num_classes):
    images = keras.Input(shape=(28, 28, 1))
    labels = keras.Input(shape=(), dtype="int32")
    plane = layers.Reshape((28, 28, 1))(layers.Embedding(num_classes, 28 * 28)(labels))
    x = INPUTS
    x = layers.Conv2D(16, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    return keras.Model([images, labels], layers.Dense(1, activation=ACTIVATION)(layers.Flatten()(x)))
'''


def _cond_discriminator(inputs="layers.Concatenate()([images, plane])", activation="None"):
    return _COND_DISCRIMINATOR.replace("INPUTS", inputs).replace("ACTIVATION", activation)


# --------------------------------------------------------------------------- Task 7 sources

_INPAINT = '''
def inpaint(generator, damaged, mask, steps=300, learning_rate=0.05, seed=0):
    damaged = tf.convert_to_tensor(damaged, tf.float32)
    mask = tf.convert_to_tensor(mask, tf.float32)
    latent_dim = generator.input_shape[-1]
    z = tf.Variable(INIT)
    optimizer = keras.optimizers.Adam(learning_rate)
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = LOSS
        optimizer.apply([tape.gradient(loss, z)], [z])
    generated = generator(z, training=False)
    return (BLEND).numpy()
'''


def _inpaint(loss="tf.reduce_mean(tf.square(mask * (generator(z, training=False) - damaged)))",
             blend="mask * damaged + (1.0 - mask) * generated", steps="steps",
             init="np.random.default_rng(seed).normal(size=(damaged.shape[0], latent_dim))"
                  ".astype(np.float32)"):
    return (_INPAINT.replace("LOSS", loss).replace("BLEND", blend).replace("STEPS", steps)
            .replace("INIT", init))


# --------------------------------------------------------------------------- given cells


def _given_cell(cell_id: str) -> str:
    """The source of an ungraded cell of the solution notebook (code students are given)."""
    notebook = json.loads((Path(__file__).resolve().parents[2] / "solutions" / "04_gan"
                           / "gan.ipynb").read_text())
    (cell,) = [c for c in notebook["cells"] if c.get("id") == cell_id]
    return "".join(cell["source"]) + "\n"


# --------------------------------------------------------------------------- earlier tasks, wrong

_D2L_AVERAGE = """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    return (ce(tf.ones_like(real_logits), real_logits) + ce(tf.zeros_like(fake_logits), fake_logits)) / 2
"""

_GENERATOR_TARGET_0 = """
def generator_loss(fake_logits):
    return keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros_like(fake_logits), fake_logits)
"""

# The losses in NumPy: right values, but no gradient reaches the logits (train_step could not learn).
_NUMPY_DISCRIMINATOR_LOSS = """
def discriminator_loss(real_logits, fake_logits):
    r, f = np.asarray(real_logits, np.float64), np.asarray(fake_logits, np.float64)
    return tf.constant(np.logaddexp(0, -r).mean() + np.logaddexp(0, f).mean(), tf.float32)
"""
_NUMPY_GENERATOR_LOSS = """
def generator_loss(fake_logits):
    f = np.asarray(fake_logits, np.float64)
    return tf.constant(np.logaddexp(0, -f).mean(), tf.float32)
"""
_UNSOLVED_DISCRIMINATOR_LOSS = """
def discriminator_loss(real_logits, fake_logits):
    raise NotImplementedError()
"""

# --------------------------------------------------------------------------- Task 4, keras-io style
# keras-io's DCGAN example calls the discriminator once on fakes and reals stacked; the given
# ConditionalGAN must then repeat the batch's labels for the stacked batch.

_KERAS_IO_GAN = '''
from keras import ops


class GAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim, d_steps=1, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.d_steps = d_steps
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")
        self.real_metric = keras.metrics.Mean(name="D(x)")
        self.fake_metric = keras.metrics.Mean(name="D(G(z))")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric, self.real_metric, self.fake_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        for _ in range(self.d_steps):
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(random_latent_vectors, training=True)
            combined_images = ops.concatenate([generated_images, real_images], axis=0)
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images, training=True)
                fake_logits, real_logits = predictions[:batch_size], predictions[batch_size:]
                d_loss = discriminator_loss(real_logits, fake_logits)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors, training=True),
                                             training=True)
            g_loss = generator_loss(predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        self.real_metric.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_metric.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}
'''

_CONDITIONAL_SMOKE = _given_cell("code-40") + '''
# Two batches of (images, labels) through the given ConditionalGAN with this train_step.
keras.utils.set_random_seed(0)
_cgan = ConditionalGAN(build_conditional_generator(8, 10), build_conditional_discriminator(10), 8)
_cgan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
_images = np.random.default_rng(0).uniform(-1, 1, size=(8, 28, 28, 1)).astype(np.float32)
for _batch in common.datasets.make_dataset((_images, np.arange(8) % 10), 4, seed=0):
    _cgan.train_step(_batch)
'''

# --------------------------------------------------------------------------- Task 4b sources

_LATENT = """
def latent_arithmetic(codes_a, codes_b, codes_c):
    return RESULT
"""


def _latent(result):
    return _LATENT.replace("RESULT", result)


# --------------------------------------------------------------------------- Task 8 sources

_NEAREST = """
def nearest_latent(generator, damaged, mask, pool):
    pool = np.asarray(pool, np.float32)
    candidates = np.asarray(generator(pool, training=False))
    damaged, mask = np.asarray(damaged, np.float32), np.asarray(mask, np.float32)
    losses = np.stack([LOSS for image, known in zip(damaged, mask)])   # (N, P)
    return RESULT
"""


def _nearest(loss="np.abs(known * (candidates - image)).sum(axis=(1, 2, 3))",
             result="pool[losses.argmin(axis=1)]"):
    return _NEAREST.replace("LOSS", loss).replace("RESULT", result)


# --------------------------------------------------------------------------- Task 9 sources

DESIGN = """
def design_gan(latent_dim):
    generator = keras.Sequential([keras.Input((latent_dim,)), layers.Dense(96, activation="relu"),
                                  layers.Dense(96, activation="relu"), layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(128, activation="relu"),
                                      layers.Dense(128, activation="relu"), layers.Dense(1)])
    return generator, discriminator, 1e-3, 1e-3
"""
_HIDDEN_G = 'layers.Dense(96, activation="relu"),\n                                  layers.Dense(96, activation="relu"), layers.Dense(2)'
_HIDDEN_D = 'layers.Dense(128, activation="relu"),\n                                      layers.Dense(128, activation="relu"), layers.Dense(1)'

DESIGN_MUTANTS = {
    "a linear generator: Gaussian noise in, a Gaussian out": DESIGN.replace(
        _HIDDEN_G, "layers.Dense(96), layers.Dense(96), layers.Dense(2)"),
    "a generator of 4 hidden units": DESIGN.replace(
        _HIDDEN_G, 'layers.Dense(4, activation="relu"), layers.Dense(2)'),
    "learning rates too small for the budget": DESIGN.replace("1e-3, 1e-3", "1e-5, 1e-5"),
    "learning rates too large for Adam": DESIGN.replace("1e-3, 1e-3", "0.1, 0.1"),
    "a linear discriminator, much weaker than the generator": DESIGN.replace(
        _HIDDEN_D, "layers.Dense(1)"),
    "over the weight budget: 256 units": DESIGN.replace("Dense(96", "Dense(256"),
    "the ring's centres in a Constant initialiser": """
def design_gan(latent_dim):
    centres = common.datasets.ring_centers()
    generator = keras.Sequential([keras.Input((latent_dim,)), layers.Dense(8, activation="softmax"),
                                  layers.Dense(2, kernel_initializer=keras.initializers.Constant(centres))])
    discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(64, activation="relu"),
                                      layers.Dense(1)])
    return generator, discriminator, 1e-3, 1e-3
""",
    "a Lambda layer that draws the ring itself": """
def design_gan(latent_dim):
    noise = keras.Input((latent_dim,))
    angle = layers.Lambda(lambda z: 2 * np.pi * keras.ops.floor(8 * keras.ops.sigmoid(z[:, :1])) / 8)(noise)
    points = layers.Lambda(lambda a: 2 * keras.ops.concatenate([keras.ops.cos(a), keras.ops.sin(a)], axis=1))(angle)
    generator = keras.Model(noise, points)
    discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(64, activation="relu"),
                                      layers.Dense(1)])
    return generator, discriminator, 1e-3, 1e-3
""",
}

DESIGN_VARIANTS = {
    "the reference recipe: a 96-unit generator, a 128-unit critic, learning rates 1e-3": DESIGN,
    "the functional API, LeakyReLU, a 64-unit generator, the critic twice as fast": """
def design_gan(latent_dim):
    z = keras.Input((latent_dim,))
    h = layers.LeakyReLU(0.2)(layers.Dense(64)(z))
    generator = keras.Model(z, layers.Dense(2)(layers.LeakyReLU(0.2)(layers.Dense(64)(h))))
    x = keras.Input((2,))
    h = layers.LeakyReLU(0.2)(layers.Dense(128)(x))
    discriminator = keras.Model(x, layers.Dense(1)(layers.LeakyReLU(0.2)(layers.Dense(128)(h))))
    return generator, discriminator, 2e-3, 1e-3
""",
}

MUTANTS = {
    "test_discriminator_loss": {
        "half the sum of the two terms (d2l's average)": _D2L_AVERAGE,
        "swapped real/fake labels": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    return ce(tf.zeros_like(real_logits), real_logits) + ce(tf.ones_like(fake_logits), fake_logits)
""",
        "logits read as probabilities (no from_logits)": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy()
    return ce(tf.ones_like(real_logits), real_logits) + ce(tf.zeros_like(fake_logits), fake_logits)
""",
        "sigmoid applied before a from_logits loss": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    return (ce(tf.ones_like(real_logits), tf.sigmoid(real_logits))
            + ce(tf.zeros_like(fake_logits), tf.sigmoid(fake_logits)))
""",
        "sum over the batch instead of the mean": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    return ce(tf.ones_like(real_logits), real_logits) + ce(tf.zeros_like(fake_logits), fake_logits)
""",
        "one mean over both batches": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    logits = tf.concat([real_logits, fake_logits], axis=0)
    labels = tf.concat([tf.ones_like(real_logits), tf.zeros_like(fake_logits)], axis=0)
    return ce(labels, logits)
""",
        "only the real term": """
def discriminator_loss(real_logits, fake_logits):
    return keras.losses.BinaryCrossentropy(from_logits=True)(tf.ones_like(real_logits), real_logits)
""",
        "per-example losses, not a scalar": """
def discriminator_loss(real_logits, fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)
    return ce(tf.ones_like(real_logits), real_logits) + ce(tf.zeros_like(fake_logits), fake_logits)
""",
        "unstable log(sigmoid)": """
def discriminator_loss(real_logits, fake_logits):
    return (-tf.reduce_mean(tf.math.log(tf.sigmoid(real_logits)))
            - tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(fake_logits))))
""",
        "gradients cut by NumPy": """
def discriminator_loss(real_logits, fake_logits):
    r, f = np.asarray(real_logits, np.float64), np.asarray(fake_logits, np.float64)
    return tf.constant(np.logaddexp(0, -r).mean() + np.logaddexp(0, f).mean(), tf.float32)
""",
    },
    "test_generator_loss": {
        "target 0 instead of 1": """
def generator_loss(fake_logits):
    return keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros_like(fake_logits), fake_logits)
""",
        "logits read as probabilities (no from_logits)": """
def generator_loss(fake_logits):
    return keras.losses.BinaryCrossentropy()(tf.ones_like(fake_logits), fake_logits)
""",
        "sum instead of mean": """
def generator_loss(fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    return ce(tf.ones_like(fake_logits), fake_logits)
""",
        "the minimax loss instead": """
def generator_loss(fake_logits):
    return -tf.reduce_mean(tf.math.softplus(fake_logits))
""",
        "sigmoid applied before a from_logits loss": """
def generator_loss(fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    return ce(tf.ones_like(fake_logits), tf.sigmoid(fake_logits))
""",
        "gradients cut by NumPy": _NUMPY_GENERATOR_LOSS,
    },
    "test_minimax_generator_loss": {
        "sign error": """
def minimax_generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.softplus(fake_logits))
""",
        "naive log(1 - sigmoid) overflows": """
def minimax_generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(fake_logits)))
""",
        "log D(G(z)) instead of log(1 - D(G(z)))": """
def minimax_generator_loss(fake_logits):
    return -tf.reduce_mean(tf.math.softplus(-fake_logits))
""",
        "sum instead of mean": """
def minimax_generator_loss(fake_logits):
    return -tf.reduce_sum(tf.math.softplus(fake_logits))
""",
    },
    "test_build_networks": {
        "sigmoid on the generator": _generator(activation='"sigmoid"'),
        "ReLU on the generator": _generator(activation='"relu"'),
        "no activation on the generator": _generator(activation="None"),
        "generator ignores latent_dim": _generator(latent="100"),
        "sigmoid on the discriminator": _discriminator(head='layers.Dense(1, activation="sigmoid")'),
        "softmax over two classes": _discriminator(head='layers.Dense(2, activation="softmax")'),
        "generator stops at 14 x 14": """
def build_generator(latent_dim):
    z = keras.Input(shape=(latent_dim,))
    x = layers.Reshape((7, 7, 16))(layers.Dense(7 * 7 * 16)(z))
    return keras.Model(z, layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x))
""",
    },
    "test_gan_train_step": {
        "generator gradients applied with the discriminator's optimiser":
            _gan(optimizer="self.d_optimizer"),
        "discriminator gradients from the generator's loss":
            _gan(d_loss="generator_loss(fake_logits)"),
        "swapped real/fake in the discriminator step":
            _gan(d_loss="discriminator_loss(fake_logits, real_logits)"),
        "ignores d_steps": _gan(train_step=_IGNORES_D_STEPS),
        "updates the discriminator during the generator step":
            _gan(g_vars="self.generator.trainable_variables + "
                        "self.discriminator.trainable_variables"),
        "generator step uses the discriminator before its update": _gan(train_step=_SIMULTANEOUS),
        "D(x) and D(G(z)) logged as logits": _gan(head=_LOGITS_AS_SCORES),
        "no D(x) / D(G(z)) metrics": _gan(head=_MISSING_SCORES),
        "constructor arguments renamed": _gan(head=_RENAMED_ATTRIBUTES),
    },
    "test_modes_covered": {
        "counts samples instead of modes": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    d = np.linalg.norm(np.asarray(samples)[:, None] - np.asarray(centers)[None], axis=-1)
    return int((d <= radius).any(axis=1).sum())
""",
        "strictly more than min_fraction": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    d = np.linalg.norm(np.asarray(samples)[:, None] - np.asarray(centers)[None], axis=-1)
    return int(((d <= radius).mean(axis=0) > min_fraction).sum())
""",
        "nearest centre, radius ignored": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    d = np.linalg.norm(np.asarray(samples)[:, None] - np.asarray(centers)[None], axis=-1)
    shares = np.bincount(d.argmin(axis=1), minlength=len(centers)) / len(d)
    return int((shares >= min_fraction).sum())
""",
        "squared distance compared with the radius": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    d2 = ((np.asarray(samples)[:, None] - np.asarray(centers)[None]) ** 2).sum(axis=-1)
    return int(((d2 <= radius).mean(axis=0) >= min_fraction).sum())
""",
        "share of the samples near some mode, not of all": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    near = np.linalg.norm(np.asarray(samples)[:, None] - np.asarray(centers)[None], axis=-1) <= radius
    counts = near.sum(axis=0)
    return int((counts / max(near.any(axis=1).sum(), 1) >= min_fraction).sum())
""",
        "returns the shares": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    d = np.linalg.norm(np.asarray(samples)[:, None] - np.asarray(centers)[None], axis=-1)
    return (d <= radius).mean(axis=0)
""",
    },
    "test_conditional_networks": {
        "generator ignores the label": _cond_generator(inputs="z"),
        "discriminator ignores the label": _cond_discriminator(inputs="images"),
        "sigmoid on the conditional discriminator": _cond_discriminator(activation='"sigmoid"'),
        "sigmoid on the conditional generator": _cond_generator(activation='"sigmoid"'),
    },
    "test_inpaint": {
        "returns G(z) everywhere (alters known pixels)": _inpaint(blend="generated"),
        "blend the wrong way round": _inpaint(blend="(1.0 - mask) * damaged + mask * generated"),
        "mask read as 1 = missing": _inpaint(
            loss="tf.reduce_mean(tf.square((1 - mask) * (generator(z, training=False) - damaged)))",
            blend="(1.0 - mask) * damaged + mask * generated"),
        "data loss over all pixels": _inpaint(
            loss="tf.reduce_mean(tf.square(generator(z, training=False) - damaged))"),
        "never optimises z": _inpaint(steps="0"),
        "returns the damaged image": _inpaint(blend="damaged + 0.0 * generated"),
        "unseeded start": _inpaint(init="tf.random.normal((damaged.shape[0], latent_dim))"),
        "trains the generator instead of z": """
def inpaint(generator, damaged, mask, steps=300, learning_rate=0.05, seed=0):
    damaged, mask = tf.constant(damaged, tf.float32), tf.constant(mask, tf.float32)
    z = tf.constant(np.random.default_rng(seed).normal(size=(damaged.shape[0], generator.input_shape[-1])), tf.float32)
    optimizer = keras.optimizers.Adam(learning_rate)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(mask * (generator(z, training=False) - damaged)))
        optimizer.apply(tape.gradient(loss, generator.trainable_variables), generator.trainable_variables)
    return (mask * damaged + (1 - mask) * generator(z, training=False)).numpy()
""",
    },
    "test_latent_arithmetic": {
        "sums instead of means": _latent(
            "np.sum(codes_a, axis=0) - np.sum(codes_b, axis=0) + np.sum(codes_c, axis=0)"),
        "wrong signs: a + b - c": _latent(
            "np.mean(codes_a, axis=0) + np.mean(codes_b, axis=0) - np.mean(codes_c, axis=0)"),
        "wrong signs: b - a + c": _latent(
            "np.mean(codes_b, axis=0) - np.mean(codes_a, axis=0) + np.mean(codes_c, axis=0)"),
        "means over the latent axis (axis=1)": _latent(
            "np.mean(codes_a, axis=1) - np.mean(codes_b, axis=1) + np.mean(codes_c, axis=1)"),
        "means over every entry (no axis)": _latent(
            "np.mean(codes_a) - np.mean(codes_b) + np.mean(codes_c)"),
        "keeps the batch axis: shape (1, latent_dim)": _latent(
            "np.mean(codes_a, axis=0, keepdims=True) - np.mean(codes_b, axis=0, keepdims=True)"
            " + np.mean(codes_c, axis=0, keepdims=True)"),
    },
    "test_nearest_latent": {
        "loss over all pixels, not the known ones": _nearest(
            loss="np.abs(candidates - image).sum(axis=(1, 2, 3))"),
        "mask read as 1 = missing": _nearest(
            loss="np.abs((1 - known) * (candidates - image)).sum(axis=(1, 2, 3))"),
        "argmax instead of argmin": _nearest(result="pool[losses.argmax(axis=1)]"),
        "returns the index, not the code": _nearest(result="losses.argmin(axis=1)"),
        "one code for all images (argmin of the summed losses)": _nearest(
            result="np.repeat(pool[[losses.sum(axis=0).argmin()]], len(damaged), axis=0)"),
        "decodes the pool with training=True (batch normalisation uses the pool's statistics)":
            _nearest().replace("generator(pool, training=False)", "generator(pool, training=True)"),
        "compares G(z) with the mask instead of the image": _nearest(
            loss="np.abs(known * candidates - known).sum(axis=(1, 2, 3))"),
    },
    "test_design_gan": DESIGN_MUTANTS,
}

VARIANTS = {
    "test_discriminator_loss": {
        "softplus identities": """
def discriminator_loss(real_logits, fake_logits):
    return tf.reduce_mean(tf.math.softplus(-real_logits)) + tf.reduce_mean(tf.math.softplus(fake_logits))
""",
        "tf.nn.sigmoid_cross_entropy_with_logits": """
def discriminator_loss(real_logits, fake_logits):
    ce = tf.nn.sigmoid_cross_entropy_with_logits
    return (tf.reduce_mean(ce(labels=tf.ones_like(real_logits), logits=real_logits))
            + tf.reduce_mean(ce(labels=tf.zeros_like(fake_logits), logits=fake_logits)))
""",
        "keras.ops": """
def discriminator_loss(real_logits, fake_logits):
    ops = keras.ops
    return (ops.mean(ops.binary_crossentropy(ops.ones_like(real_logits), real_logits, from_logits=True))
            + ops.mean(ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True)))
""",
    },
    "test_generator_loss": {
        "softplus identity": """
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.softplus(-fake_logits))
""",
        "tf.nn.sigmoid_cross_entropy_with_logits": """
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(fake_logits), logits=fake_logits))
""",
    },
    "test_minimax_generator_loss": {
        "minus the fake half of the cross-entropy": """
def minimax_generator_loss(fake_logits):
    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    return -ce(tf.zeros_like(fake_logits), fake_logits)
""",
        "log_sigmoid of the negated logit": """
def minimax_generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.log_sigmoid(-fake_logits))
""",
    },
    "test_build_networks": {
        "BatchNorm, UpSampling and dropout": """
def build_generator(latent_dim):
    z = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 32, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 32))(x)
    x = layers.UpSampling2D()(x)
    x = layers.Conv2D(16, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(1, 5, strides=2, padding="same")(x)
    return keras.Model(z, layers.Activation("tanh")(x))


def build_discriminator():
    images = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 5, strides=2, padding="same")(images)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Conv2D(64, 5, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.3)(x)
    return keras.Model(images, layers.Dense(1)(layers.Flatten()(x)))
""",
        "Sequential models": """
def build_generator(latent_dim):
    return keras.Sequential([
        keras.Input(shape=(latent_dim,)), layers.Dense(7 * 7 * 16), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, 16)),
        layers.Conv2DTranspose(8, 3, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")])


def build_discriminator():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)), layers.Conv2D(8, 3, strides=2, padding="same"),
        layers.LeakyReLU(0.2), layers.Conv2D(16, 3, strides=2, padding="same"),
        layers.LeakyReLU(0.2), layers.GlobalAveragePooling2D(), layers.Dense(1)])
""",
    },
    "test_gan_train_step": {
        "apply_gradients(zip(...)) and tf.random.normal": (
            _GAN_HEAD.replace(
                "return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)",
                "return tf.random.normal((batch_size, self.latent_dim))")
            + _D_STEP.replace("DLOSS", "discriminator_loss(real_logits, fake_logits)").replace(
                "self.d_optimizer.apply(grads, self.discriminator.trainable_variables)",
                "self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))")
            + _G_STEP.replace("GVARS", "self.generator.trainable_variables").replace(
                "OPTIMIZER.apply(grads, self.generator.trainable_variables)",
                "self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))")
            + _TRAIN_STEP),
        "one discriminator call on the concatenated batch": _GAN_HEAD + '''
    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            fake_images = self.generator(self.noise(batch_size), training=False)
            with tf.GradientTape() as tape:
                logits = self.discriminator(tf.concat([real_images, fake_images], axis=0),
                                            training=True)
                real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
                d_loss = discriminator_loss(real_logits, fake_logits)
            variables = self.discriminator.trainable_variables
            self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
        with tf.GradientTape() as tape:
            g_loss = generator_loss(self.discriminator(
                self.generator(self.noise(batch_size), training=True), training=True))
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, variables), variables)
        return self.finish(d_loss, g_loss, real_logits, fake_logits)
''',
        "keras-io style: D once on ops.concatenate([fake, real]); the given ConditionalGAN runs it":
            _KERAS_IO_GAN + _CONDITIONAL_SMOKE,
    },
    "test_modes_covered": {
        "NumPy methods on the inputs (samples[:, None, :] - centers[None])": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    distances = np.sqrt(((samples[:, None, :] - centers[None]) ** 2).sum(axis=-1))
    return int(((distances <= radius).mean(axis=0) >= min_fraction).sum())
""",
        "a loop over the centres": """
def modes_covered(samples, centers, radius, min_fraction=0.01):
    samples = np.asarray(samples)
    covered = 0
    for center in np.asarray(centers):
        share = np.mean(np.sqrt(((samples - center) ** 2).sum(axis=1)) <= radius)
        covered += share >= min_fraction
    return int(covered)
""",
        "scipy cdist and counts": """
from scipy.spatial.distance import cdist
def modes_covered(samples, centers, radius, min_fraction=0.01):
    counts = (cdist(np.asarray(samples), np.asarray(centers)) <= radius).sum(axis=0)
    return int(np.count_nonzero(counts >= min_fraction * len(samples)))
""",
    },
    "test_conditional_networks": {
        "one-hot labels and a dense label map": """
def build_conditional_generator(latent_dim, num_classes):
    z = keras.Input(shape=(latent_dim,))
    labels = keras.Input(shape=(1,), dtype="int32")
    one_hot = layers.Flatten()(layers.CategoryEncoding(num_classes, output_mode="one_hot")(labels))
    x = layers.Dense(7 * 7 * 16)(layers.Concatenate()([z, one_hot]))
    x = layers.Reshape((7, 7, 16))(layers.LeakyReLU(0.2)(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x))
    return keras.Model([z, labels], layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x))


def build_conditional_discriminator(num_classes):
    images = keras.Input(shape=(28, 28, 1))
    labels = keras.Input(shape=(1,), dtype="int32")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(16, 4, strides=2, padding="same")(images))
    x = layers.Flatten()(x)
    label_vector = layers.Flatten()(layers.Embedding(num_classes, 32)(labels))
    x = layers.Dense(32)(layers.Concatenate()([x, label_vector]))
    return keras.Model([images, labels], layers.Dense(1)(layers.LeakyReLU(0.2)(x)))
""",
    },
    "test_inpaint": {
        "mean absolute error (lecture 02's L1 data loss)": _inpaint(
            loss="tf.reduce_sum(tf.abs(mask * (generator(z, training=False) - damaged))) "
                 "/ tf.reduce_sum(mask)"),
        "compiled step with boolean_mask": """
def inpaint(generator, damaged, mask, steps=300, learning_rate=0.05, seed=0):
    damaged = tf.constant(damaged, tf.float32)
    known = tf.constant(mask, tf.float32) > 0.5
    z = tf.Variable(np.random.default_rng(seed).normal(
        size=(damaged.shape[0], generator.input_shape[-1])).astype(np.float32))
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            generated = generator(z, training=False)
            loss = tf.reduce_mean(tf.square(tf.boolean_mask(generated - damaged, known)))
        optimizer.apply_gradients([(tape.gradient(loss, z), z)])

    for _ in range(steps):
        step()
    return np.where(known.numpy(), damaged.numpy(), generator(z, training=False).numpy()).astype(np.float32)
""",
    },
    "test_latent_arithmetic": {
        "TensorFlow ops (returns a tensor)": _latent(
            "tf.reduce_mean(codes_a, axis=0) - tf.reduce_mean(codes_b, axis=0) "
            "+ tf.reduce_mean(codes_c, axis=0)"),
        "keras.ops": _latent(
            "keras.ops.mean(codes_a, axis=0) - keras.ops.mean(codes_b, axis=0) "
            "+ keras.ops.mean(codes_c, axis=0)"),
        "array methods, sums over counts": _latent(
            "codes_a.sum(0) / len(codes_a) - codes_b.sum(0) / len(codes_b) "
            "+ codes_c.sum(0) / len(codes_c)"),
    },
    "test_nearest_latent": {
        "squared error, TensorFlow ops and tf.gather": """
def nearest_latent(generator, damaged, mask, pool):
    candidates = generator(pool, training=False)                      # (P, 28, 28, 1)
    error = tf.constant(mask, tf.float32)[:, None] * (candidates[None] - tf.constant(damaged, tf.float32)[:, None])
    losses = tf.reduce_sum(tf.square(error), axis=[2, 3, 4])          # (N, P)
    return tf.gather(tf.constant(pool), tf.argmin(losses, axis=1))
""",
        "mean absolute error of the known pixels, one image at a time": """
def nearest_latent(generator, damaged, mask, pool):
    candidates = generator.predict(pool, batch_size=64, verbose=0)
    chosen = []
    for image, known in zip(damaged, mask):
        keep = known[..., 0] == 1
        losses = [np.mean(np.abs(candidate[..., 0][keep] - image[..., 0][keep])) for candidate in candidates]
        chosen.append(pool[int(np.argmin(losses))])
    return np.stack(chosen).astype(np.float32)
""",
        "slide's |I_d - M * p| after zeroing the missing pixels": """
def nearest_latent(generator, damaged, mask, pool):
    candidates = np.asarray(generator(pool, training=False))
    zeroed = np.asarray(damaged) * np.asarray(mask)                   # I_d with 0 in the hole
    losses = np.abs(zeroed[:, None] - np.asarray(mask)[:, None] * candidates[None]).sum(axis=(2, 3, 4))
    return np.asarray(pool)[losses.argmin(axis=1)]
""",
    },
    "test_design_gan": DESIGN_VARIANTS,
}

HIDDEN_ONLY = {
    "test_discriminator_loss": {"unstable log(sigmoid)"},
    "test_gan_train_step": {"D(x) and D(G(z)) logged as logits"},
    "test_modes_covered": {"squared distance compared with the radius",
                           "share of the samples near some mode, not of all"},
    "test_conditional_networks": {"sigmoid on the conditional discriminator"},
    "test_inpaint": {"unseeded start"},
}

# A wrong earlier answer must cost only its own task: with it, the later task's visible checks
# name the task to revisit and skip what depends on it, and its verdict (the solution's
# train_step, run with the reference of the earlier function) passes.
CASCADES = {
    "test_gan_train_step": {
        "Task 1 as d2l's average of the two terms": _D2L_AVERAGE,
        "Task 1 not done (NotImplementedError)": _UNSOLVED_DISCRIMINATOR_LOSS,
        "Task 2a with target 0": _GENERATOR_TARGET_0,
        "Task 1 in NumPy (right values, no gradient: passes the values, fails the full checks)":
            _NUMPY_DISCRIMINATOR_LOSS,
        "Task 2a in NumPy (right values, no gradient)": _NUMPY_GENERATOR_LOSS,
    },
}
