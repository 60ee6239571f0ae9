"""Reference configurations, written for this harness from the published descriptions of two
TensorFlow tutorials (architectures and hyper-parameters are facts; no tutorial code is used):

- DCGAN: generator Dense 7*7*256 -> Conv2DTranspose 128 (stride 1), 64, 1 (stride 2), 5x5
  kernels, batch norm and LeakyReLU after every layer but the last, tanh output; discriminator
  Conv2D 64, 128 with 5x5 kernels and stride 2, LeakyReLU, dropout 0.3, one logit; noise 100,
  batch 256, Adam 1e-4 for both networks, binary cross-entropy on logits, both networks updated
  from the same forward pass; images in [-1, 1].
- CVAE: latent 2; encoder Conv2D 32, 64 (3x3, stride 2, ReLU) -> Dense 2*latent (mean and
  log-variance); decoder Dense 7*7*32 (ReLU) -> Conv2DTranspose 64, 32 (3x3, stride 2, ReLU) ->
  Conv2DTranspose 1 (3x3, stride 1) giving Bernoulli logits; batch 32, Adam 1e-4; loss the
  single-sample Monte Carlo estimate of -ELBO, log p(x|z) + log p(z) - log q(z|x), on binarised
  images.

Both are Keras models with a custom `train_step`, so the harness trains them exactly as it
trains the notebooks' models (`fit` under a time budget).
"""

from __future__ import annotations

import math
import types

import keras
import tensorflow as tf
from keras import layers

DCGAN = {"latent_dim": 100, "batch_size": 256, "learning_rate": 1e-4, "image_range": (-1, 1)}
CVAE = {"latent_dim": 2, "batch_size": 32, "learning_rate": 1e-4}


def dcgan_generator(latent_dim: int = 100) -> keras.Model:
    """Noise (latent_dim,) -> image (28, 28, 1) in [-1, 1]."""
    noise = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(noise)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 256))(x)
    for filters, stride in ((128, 1), (64, 2)):
        x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same", use_bias=False)(x)
        x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                   activation="tanh")(x)
    return keras.Model(noise, image, name="dcgan_generator")


def dcgan_discriminator() -> keras.Model:
    """Image (28, 28, 1) in [-1, 1] -> one logit (real > 0)."""
    image = keras.Input((28, 28, 1))
    x = image
    for filters in (64, 128):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.Dropout(0.3)(layers.LeakyReLU()(x))
    logit = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model(image, logit, name="dcgan_discriminator")


class ReferenceDCGAN(keras.Model):
    """Both networks, trained together with one optimizer each."""

    def __init__(self, latent_dim: int = 100, learning_rate: float = 1e-4):
        super().__init__()
        self.latent_dim = latent_dim
        self.generator, self.discriminator = dcgan_generator(latent_dim), dcgan_discriminator()
        self.g_optimizer = keras.optimizers.Adam(learning_rate)
        self.d_optimizer = keras.optimizers.Adam(learning_rate)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def train_step(self, real_images):
        noise = tf.random.normal((tf.shape(real_images)[0], self.latent_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(noise, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            g_loss = self.bce(tf.ones_like(fake_logits), fake_logits)
            d_loss = (self.bce(tf.ones_like(real_logits), real_logits)
                      + self.bce(tf.zeros_like(fake_logits), fake_logits))
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        self.g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def reference_dcgan() -> types.SimpleNamespace:
    """The DCGAN reference as the harness expects a GAN configuration."""
    model = ReferenceDCGAN(DCGAN["latent_dim"], DCGAN["learning_rate"])
    model.compile()
    return types.SimpleNamespace(model=model, generator=model.generator,
                                 latent_dim=DCGAN["latent_dim"], batch_size=DCGAN["batch_size"],
                                 image_range=DCGAN["image_range"], num_train=None,
                                 description="TF DCGAN tutorial (noise 100, batch 256, Adam 1e-4)")


def cvae_encoder(latent_dim: int = 2) -> keras.Model:
    """Image (28, 28, 1) -> [z_mean, z_log_var]."""
    image = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(image)
    x = layers.Conv2D(64, 3, strides=2, activation="relu")(x)
    statistics = layers.Dense(2 * latent_dim)(layers.Flatten()(x))
    z_mean, z_log_var = keras.ops.split(statistics, 2, axis=-1)
    return keras.Model(image, [z_mean, z_log_var], name="cvae_encoder")


def cvae_decoder(latent_dim: int = 2) -> keras.Model:
    """z (latent_dim,) -> Bernoulli logits (28, 28, 1)."""
    z = keras.Input((latent_dim,))
    x = layers.Reshape((7, 7, 32))(layers.Dense(7 * 7 * 32, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    logits = layers.Conv2DTranspose(1, 3, strides=1, padding="same")(x)
    return keras.Model(z, logits, name="cvae_decoder")


def _log_normal(sample, mean, log_var):
    return -0.5 * tf.reduce_sum((sample - mean) ** 2 * tf.exp(-log_var) + log_var
                                + math.log(2.0 * math.pi), axis=1)


class ReferenceCVAE(keras.Model):
    """Encoder and logit decoder trained on the single-sample Monte Carlo -ELBO."""

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.encoder, self.logit_decoder = cvae_encoder(latent_dim), cvae_decoder(latent_dim)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, images):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(images, training=True)
            z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(tf.shape(z_mean))
            logits = self.logit_decoder(z, training=True)
            cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=images, logits=logits)
            log_px_z = -tf.reduce_sum(cross_entropy, axis=[1, 2, 3])
            log_pz = _log_normal(z, 0.0, 0.0)
            log_qz_x = _log_normal(z, z_mean, z_log_var)
            loss = -tf.reduce_mean(log_px_z + log_pz - log_qz_x)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def decoder(self, z):
        """Bernoulli probabilities, the contract of common.metrics."""
        return tf.sigmoid(self.logit_decoder(z, training=False))


def reference_cvae() -> types.SimpleNamespace:
    """The CVAE reference as the harness expects a VAE configuration."""
    model = ReferenceCVAE(CVAE["latent_dim"])
    model.compile(optimizer=keras.optimizers.Adam(CVAE["learning_rate"]))
    return types.SimpleNamespace(model=model, vae=model, batch_size=CVAE["batch_size"],
                                 binarize=True, num_train=None, latent_dim=CVAE["latent_dim"],
                                 description="TF CVAE tutorial (latent 2, batch 32, Adam 1e-4)")
