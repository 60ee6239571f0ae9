# ruff: noqa: E501  (the sources below are notebook code, whose lines may be long)
"""02_vae: typical wrong answers (MUTANTS) and other correct answers (VARIANTS).

Each source runs in the solution notebook's namespace (imports, setup and every solution cell), so
a mutant may reuse the solution's definitions, e.g. subclass its `VAE` and override one method.
CASCADES swap in a wrong answer to an earlier task; the harness re-runs the solution's definitions
for each case, so the solution's `VAE` finds the wrong function in the namespace under test (as a
student's VAE finds theirs in the kernel), and the later task must still pass."""

# The solution's VAE under another name, for mutants that change one method.
_VAE_BASE = "_SolutionVAE = VAE\n"

# build_cvae whose log-variance head ends in an activation (ACTIVATION is replaced by its name).
_CVAE_LOG_VAR_ACTIVATION = """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    _, decoder = _solution_build_cvae(latent_dim, num_classes)
    images, labels = keras.Input((28, 28, 1)), keras.Input((num_classes,))
    h = layers.Dense(64, activation="relu")(layers.Concatenate()([layers.Flatten()(images), labels]))
    return keras.Model([images, labels], [layers.Dense(latent_dim)(h),
                                          layers.Dense(latent_dim, activation="ACTIVATION")(h)]), decoder
"""

# sample_latent that reads the static shape: right eagerly, but inside a tf.function traced for
# any batch size (as fit traces train_step) z_mean.shape[0] is None and drawing the noise fails.
_STATIC_SHAPE_SAMPLE = """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = keras.random.normal((z_mean.shape[0], z_mean.shape[1]), seed=seed)
    return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon
"""

# reconstruction_loss in NumPy without clipping: log(0) warns (RuntimeWarning) and gives inf/nan.
_NUMPY_UNCLIPPED_RECONSTRUCTION = """
def reconstruction_loss(x, x_reconstructed):
    x, p = np.asarray(x, np.float32), np.asarray(x_reconstructed, np.float32)
    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
"""

MUTANTS = {
    "test_sample_latent": {
        "scales by the variance exp(log var)": """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=seed)
    return z_mean + keras.ops.exp(z_log_var) * epsilon
""",
        "epsilon is zero": """
def sample_latent(z_mean, z_log_var, seed=None):
    return z_mean + keras.ops.exp(0.5 * z_log_var) * keras.ops.zeros_like(z_mean)
""",
        "epsilon fixed to ones": """
def sample_latent(z_mean, z_log_var, seed=None):
    return z_mean + keras.ops.exp(0.5 * z_log_var) * keras.ops.ones_like(z_mean)
""",
        "epsilon drawn with a fixed seed on every call": """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=0)
    return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon
""",
        "stop-gradient on z": """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=seed)
    return tf.stop_gradient(z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon)
""",
        "uniform instead of normal noise": """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = keras.random.uniform(keras.ops.shape(z_mean), seed=seed)
    return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon
""",
        "NumPy noise (a constant inside train_step's tf.function)": """
def sample_latent(z_mean, z_log_var, seed=None):
    shape = tuple(np.shape(z_mean))
    epsilon = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon
""",
        "static batch size z_mean.shape[0] (fails inside train_step's tf.function)": _STATIC_SHAPE_SAMPLE,
        "tf.random.normal ignores an integer seed": """
def sample_latent(z_mean, z_log_var, seed=None):
    epsilon = tf.random.normal(tf.shape(z_mean), seed=seed)
    return z_mean + tf.exp(0.5 * z_log_var) * epsilon
""",
    },
    "test_kl_divergence": {
        "the slide's signs (+1 and +log var)": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 + 1.0 + z_log_var, axis=-1)
""",
        "one sign wrong (+log var)": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 + z_log_var, axis=-1)
""",
        "negated KL (the ELBO's sign)": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(1.0 + z_log_var - z_mean ** 2 - keras.ops.exp(z_log_var), axis=-1)
""",
        "averaged over latent dimensions": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.mean(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var, axis=-1)
""",
        "reduced over the batch (sum)": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var)
""",
        "reduced over the batch (mean of per-example KL)": """
def kl_divergence(z_mean, z_log_var):
    per_example = 0.5 * keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var, axis=-1)
    return keras.ops.mean(per_example)
""",
        "log variance used as the variance": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(z_log_var + z_mean ** 2 - 1.0 - keras.ops.log(z_log_var), axis=-1)
""",
        "missing the factor 1/2": """
def kl_divergence(z_mean, z_log_var):
    return keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var, axis=-1)
""",
        "NumPy (no gradient)": """
def kl_divergence(z_mean, z_log_var):
    z_mean, z_log_var = np.asarray(z_mean), np.asarray(z_log_var)
    return 0.5 * np.sum(np.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var, axis=-1)
""",
    },
    "test_reconstruction_loss": {
        "averaged over pixels": """
def reconstruction_loss(x, x_reconstructed):
    p = keras.ops.clip(x_reconstructed, 1e-7, 1 - 1e-7)
    return keras.ops.mean(-(x * keras.ops.log(p) + (1 - x) * keras.ops.log(1 - p)), axis=(1, 2, 3))
""",
        "keras binary_crossentropy averaged (the old keras example without its original_dim factor)": """
def reconstruction_loss(x, x_reconstructed):
    return keras.ops.mean(keras.losses.binary_crossentropy(x, x_reconstructed), axis=(1, 2))
""",
        "probabilities treated as logits": """
def reconstruction_loss(x, x_reconstructed):
    per_pixel = keras.losses.binary_crossentropy(x, x_reconstructed, from_logits=True)
    return keras.ops.sum(per_pixel, axis=(1, 2))
""",
        "no clipping (log 0)": """
def reconstruction_loss(x, x_reconstructed):
    p = x_reconstructed
    return keras.ops.sum(-(x * keras.ops.log(p) + (1 - x) * keras.ops.log(1 - p)), axis=(1, 2, 3))
""",
        "summed over the batch too": """
def reconstruction_loss(x, x_reconstructed):
    p = keras.ops.clip(x_reconstructed, 1e-7, 1 - 1e-7)
    return keras.ops.sum(-(x * keras.ops.log(p) + (1 - x) * keras.ops.log(1 - p)))
""",
        "arguments swapped": """
def reconstruction_loss(x, x_reconstructed):
    return keras.ops.sum(keras.losses.binary_crossentropy(x_reconstructed, x), axis=(1, 2))
""",
        "squared error instead of the Bernoulli likelihood": """
def reconstruction_loss(x, x_reconstructed):
    return keras.ops.sum((x - x_reconstructed) ** 2, axis=(1, 2, 3))
""",
        "clipping epsilon far too large (0.01)": """
def reconstruction_loss(x, x_reconstructed):
    p = keras.ops.clip(x_reconstructed, 0.01, 0.99)
    return keras.ops.sum(-(x * keras.ops.log(p) + (1 - x) * keras.ops.log(1 - p)), axis=(1, 2, 3))
""",
    },
    "test_build_vae_networks": {
        "decoder outputs logits": """
def build_vae_decoder(latent_dim):
    codes = keras.Input((latent_dim,))
    h = layers.Dense(7 * 7 * 32, activation="relu")(codes)
    h = layers.Reshape((7, 7, 32))(h)
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(h)
    return keras.Model(codes, layers.Conv2DTranspose(1, 3, strides=2, padding="same")(h))
""",
        "relu on the log-variance head": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, [layers.Dense(latent_dim)(h),
                                layers.Dense(latent_dim, activation="relu")(h)])
""",
        "softplus on the log-variance head": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, [layers.Dense(latent_dim)(h),
                                layers.Dense(latent_dim, activation="softplus")(h)])
""",
        "exp on the log-variance head (a variance, not its log)": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, [layers.Dense(latent_dim)(h),
                                layers.Dense(latent_dim, activation="exponential")(h)])
""",
        "one concatenated output": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, layers.Dense(2 * latent_dim)(h))
""",
        "one head used for both outputs": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    head = layers.Dense(latent_dim)(h)
    return keras.Model(images, [head, head])
""",
        "encoder ignores latent_dim": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, [layers.Dense(2)(h), layers.Dense(2)(h)])
""",
        "flat decoder output": """
def build_vae_decoder(latent_dim):
    codes = keras.Input((latent_dim,))
    return keras.Model(codes, layers.Dense(784, activation="sigmoid")(codes))
""",
    },
    "test_vae_model": {
        "updates only the decoder": _VAE_BASE + """
class VAE(_SolutionVAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.vae_losses(data)
        variables = self.decoder.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        for tracker, value in zip(self.metrics, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}
""",
        "KL left out of the gradient": _VAE_BASE + """
class VAE(_SolutionVAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.vae_losses(data)
        gradients = tape.gradient(reconstruction, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for tracker, value in zip(self.metrics, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}
""",
        "KL computed outside the tape": _VAE_BASE + """
class VAE(_SolutionVAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
            reconstruction = keras.ops.mean(reconstruction_loss(x, x_reconstructed))
        kl = keras.ops.mean(kl_divergence(z_mean, z_log_var))
        loss = reconstruction + self.beta * kl
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        for tracker, value in zip(self.metrics, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}
""",
        "KL under stop_gradient": _VAE_BASE + """
class VAE(_SolutionVAE):
    def vae_losses(self, data):
        x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
        reconstruction = keras.ops.mean(reconstruction_loss(x, x_reconstructed))
        kl = tf.stop_gradient(keras.ops.mean(kl_divergence(z_mean, z_log_var)))
        return reconstruction + self.beta * kl, reconstruction, kl
""",
        "beta only in the logged loss, not in the gradient": _VAE_BASE + """
class VAE(_SolutionVAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.vae_losses(data)
            unweighted = reconstruction + kl
        self.optimizer.apply(tape.gradient(unweighted, self.trainable_variables), self.trainable_variables)
        for tracker, value in zip(self.metrics, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}
""",
        "beta ignored": _VAE_BASE + """
class VAE(_SolutionVAE):
    def vae_losses(self, data):
        x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
        reconstruction = keras.ops.mean(reconstruction_loss(x, x_reconstructed))
        kl = keras.ops.mean(kl_divergence(z_mean, z_log_var))
        return reconstruction + kl, reconstruction, kl
""",
        "losses summed over the batch": _VAE_BASE + """
class VAE(_SolutionVAE):
    def vae_losses(self, data):
        x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
        reconstruction = keras.ops.sum(reconstruction_loss(x, x_reconstructed))
        kl = keras.ops.sum(kl_divergence(z_mean, z_log_var))
        return reconstruction + self.beta * kl, reconstruction, kl
""",
        "reconstruction averaged over pixels in train_step": _VAE_BASE + """
class VAE(_SolutionVAE):
    def vae_losses(self, data):
        x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
        reconstruction = keras.ops.mean(keras.losses.binary_crossentropy(x, x_reconstructed))
        kl = keras.ops.mean(kl_divergence(z_mean, z_log_var))
        return reconstruction + self.beta * kl, reconstruction, kl
""",
        "no metrics property (Keras adds a second loss tracker)": _VAE_BASE + """
class VAE(_SolutionVAE):
    metrics = keras.Model.metrics
""",
        "metrics property lists no trackers (never reset)": _VAE_BASE + """
class VAE(_SolutionVAE):
    @property
    def metrics(self):
        return []

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.vae_losses(data)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        trackers = (self.loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker)
        for tracker, value in zip(trackers, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in trackers}
""",
        "global trackers, never reset": _VAE_BASE + """
_global_trackers = [keras.metrics.Mean(name=name) for name in ("loss", "reconstruction_loss", "kl_loss")]


class VAE(_SolutionVAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.vae_losses(data)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        for tracker, value in zip(_global_trackers, (loss, reconstruction, kl)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in _global_trackers}
""",
        "trackers reset at every step": _VAE_BASE + """
class VAE(_SolutionVAE):
    def train_step(self, data):
        for tracker in self.metrics:
            tracker.reset_state()
        return super().train_step(data)
""",
        "test_step updates the weights": _VAE_BASE + """
class VAE(_SolutionVAE):
    def test_step(self, data):
        return self.train_step(data)
""",
        "decodes z_mean instead of a sample": _VAE_BASE + """
class VAE(_SolutionVAE):
    def encode_decode(self, data):
        z_mean, z_log_var = self.encoder(data)
        return data, z_mean, z_log_var, self.decoder(z_mean)
""",
    },
    "test_build_cvae": {
        "decoder ignores the label": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    encoder, _ = _solution_build_cvae(latent_dim, num_classes)
    codes, labels = keras.Input((latent_dim,)), keras.Input((num_classes,))
    silenced = layers.Dense(1, use_bias=False, kernel_initializer="zeros", trainable=False)(labels)
    h = layers.Dense(7 * 7 * 16, activation="relu")(layers.Concatenate()([codes, silenced]))
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(layers.Reshape((7, 7, 16))(h))
    probabilities = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(h)
    return encoder, keras.Model([codes, labels], probabilities)
""",
        "encoder ignores the label": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    _, decoder = _solution_build_cvae(latent_dim, num_classes)
    images, labels = keras.Input((28, 28, 1)), keras.Input((num_classes,))
    silenced = layers.Dense(1, use_bias=False, kernel_initializer="zeros", trainable=False)(labels)
    h = layers.Concatenate()([layers.Flatten()(images), silenced])
    h = layers.Dense(64, activation="relu")(h)
    return keras.Model([images, labels], [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)]), decoder
""",
        "encoder ignores the image": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    _, decoder = _solution_build_cvae(latent_dim, num_classes)
    images, labels = keras.Input((28, 28, 1)), keras.Input((num_classes,))
    silenced = layers.Dense(1, use_bias=False, kernel_initializer="zeros", trainable=False)(layers.Flatten()(images))
    h = layers.Dense(64, activation="relu")(layers.Concatenate()([silenced, labels]))
    return keras.Model([images, labels], [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)]), decoder
""",
        "decoder outputs logits": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    encoder, _ = _solution_build_cvae(latent_dim, num_classes)
    codes, labels = keras.Input((latent_dim,)), keras.Input((num_classes,))
    h = layers.Dense(7 * 7 * 16, activation="relu")(layers.Concatenate()([codes, labels]))
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(layers.Reshape((7, 7, 16))(h))
    return encoder, keras.Model([codes, labels], layers.Conv2DTranspose(1, 3, strides=2, padding="same")(h))
""",
        "encoder and decoder swapped": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    encoder, decoder = _solution_build_cvae(latent_dim, num_classes)
    return decoder, encoder
""",
        **{f"{activation} on the log-variance head": _CVAE_LOG_VAR_ACTIVATION.replace(
            "ACTIVATION", activation) for activation in ("softplus", "relu")},
        "label not an input of the decoder": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    encoder, _ = _solution_build_cvae(latent_dim, num_classes)
    return encoder, build_vae_decoder(latent_dim)
""",
    },
}

VARIANTS = {
    "test_sample_latent": {
        "TensorFlow ops, stateless noise for an integer seed": """
def sample_latent(z_mean, z_log_var, seed=None):
    z_mean = tf.convert_to_tensor(z_mean, tf.float32)
    z_log_var = tf.convert_to_tensor(z_log_var, tf.float32)
    if seed is None:
        epsilon = tf.random.normal(tf.shape(z_mean))
    else:
        epsilon = tf.random.stateless_normal(tf.shape(z_mean), seed=[seed, 0])
    return z_mean + tf.sqrt(tf.exp(z_log_var)) * epsilon
""",
        "keras.random.normal with mean and stddev": """
def sample_latent(z_mean, z_log_var, seed=None):
    standard = keras.random.normal(keras.ops.shape(z_mean), mean=0.0, stddev=1.0, seed=seed)
    return keras.ops.add(z_mean, keras.ops.multiply(keras.ops.exp(z_log_var / 2), standard))
""",
    },
    "test_kl_divergence": {
        "the keras-io form": """
def kl_divergence(z_mean, z_log_var):
    return -0.5 * keras.ops.sum(1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var), axis=1)
""",
        "TensorFlow, trace and log-determinant": """
def kl_divergence(z_mean, z_log_var):
    z_mean = tf.convert_to_tensor(z_mean, tf.float32)
    z_log_var = tf.convert_to_tensor(z_log_var, tf.float32)
    k = tf.cast(tf.shape(z_mean)[-1], tf.float32)
    trace = tf.reduce_sum(tf.exp(z_log_var), axis=-1)
    log_det = tf.reduce_sum(z_log_var, axis=-1)
    return 0.5 * (trace + tf.reduce_sum(z_mean * z_mean, axis=-1) - k - log_det)
""",
    },
    "test_reconstruction_loss": {
        "keras binary_crossentropy, summed over pixels": """
def reconstruction_loss(x, x_reconstructed):
    return keras.ops.sum(keras.losses.binary_crossentropy(x, x_reconstructed), axis=(1, 2))
""",
        "keras.ops.binary_crossentropy per pixel": """
def reconstruction_loss(x, x_reconstructed):
    per_pixel = keras.ops.binary_crossentropy(keras.ops.convert_to_tensor(x), x_reconstructed)
    return keras.ops.sum(keras.ops.reshape(per_pixel, (keras.ops.shape(per_pixel)[0], -1)), axis=1)
""",
        "log(p + epsilon) instead of clipping": """
def reconstruction_loss(x, x_reconstructed):
    epsilon = 1e-7
    log_p = tf.math.log(x_reconstructed + epsilon)
    log_not_p = tf.math.log(1.0 - x_reconstructed + epsilon)
    return -tf.reduce_sum(x * log_p + (1.0 - x) * log_not_p, axis=[1, 2, 3])
""",
    },
    "test_build_vae_networks": {
        "dense networks": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(256, activation="relu")(layers.Flatten()(images))
    return keras.Model(images, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])


def build_vae_decoder(latent_dim):
    codes = keras.Input((latent_dim,))
    h = layers.Dense(256, activation="relu")(codes)
    return keras.Model(codes, layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(h)))
""",
        "log-variance head initialised to zeros (kernel and bias)": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(images)
    h = layers.Dense(128, activation="relu")(layers.Flatten()(h))
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, kernel_initializer="zeros", bias_initializer="zeros",
                             name="z_log_var")(h)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")
""",
        "log-variance head with positive initial weights (kernel and bias 0.1)": """
def build_vae_encoder(latent_dim):
    images = keras.Input((28, 28, 1))
    h = layers.Dense(128, activation="relu")(layers.Flatten()(images))
    z_log_var = layers.Dense(latent_dim, kernel_initializer=keras.initializers.Constant(0.1),
                             bias_initializer=keras.initializers.Constant(0.1))(h)
    return keras.Model(images, [layers.Dense(latent_dim)(h), z_log_var])
""",
        "decoder with a separate sigmoid activation layer": """
def build_vae_decoder(latent_dim):
    codes = keras.Input((latent_dim,))
    h = layers.Dense(7 * 7 * 32, activation="relu")(codes)
    h = layers.Reshape((7, 7, 32))(h)
    h = layers.UpSampling2D()(h)
    h = layers.Conv2D(16, 3, padding="same", activation="relu")(h)
    h = layers.UpSampling2D()(h)
    return keras.Model(codes, layers.Activation("sigmoid")(layers.Conv2D(1, 3, padding="same")(h)))
""",
    },
    "test_vae_model": {
        "all inline, apply_gradients, per-example tracker updates": """
class VAE(keras.Model):
    def __init__(self, encoder, decoder, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.beta = encoder, decoder, beta
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "reconstruction_loss", "kl_loss")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def encode_decode(self, data):
        z_mean, z_log_var = self.encoder(data)
        return data, z_mean, z_log_var, self.decoder(sample_latent(z_mean, z_log_var))

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[0])  # the mean code: a deterministic reconstruction

    def train_step(self, data):
        with tf.GradientTape() as tape:
            x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
            reconstruction = reconstruction_loss(x, x_reconstructed)
            kl = kl_divergence(z_mean, z_log_var)
            loss = tf.reduce_mean(reconstruction + self.beta * kl)
        variables = self.encoder.trainable_weights + self.decoder.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.trackers["loss"].update_state(reconstruction + self.beta * kl)
        self.trackers["reconstruction_loss"].update_state(reconstruction)
        self.trackers["kl_loss"].update_state(kl)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        x, z_mean, z_log_var, x_reconstructed = self.encode_decode(data)
        reconstruction = reconstruction_loss(x, x_reconstructed)
        kl = kl_divergence(z_mean, z_log_var)
        self.trackers["loss"].update_state(reconstruction + self.beta * kl)
        self.trackers["reconstruction_loss"].update_state(reconstruction)
        self.trackers["kl_loss"].update_state(kl)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
""",
    },
    "test_build_cvae": {
        "label as an extra image channel and added to the decoder's features": """
def build_cvae(latent_dim, num_classes):
    images, image_labels = keras.Input((28, 28, 1)), keras.Input((num_classes,))
    label_plane = layers.Reshape((28, 28, 1))(layers.Dense(784)(image_labels))
    h = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(
        layers.Concatenate()([images, label_plane]))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(h))
    encoder = keras.Model([images, image_labels], [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])
    codes, code_labels = keras.Input((latent_dim,)), keras.Input((num_classes,))
    h = layers.Add()([layers.Dense(128)(codes), layers.Dense(128)(code_labels)])
    h = layers.Dense(784, activation="sigmoid")(layers.Activation("relu")(h))
    decoder = keras.Model([codes, code_labels], layers.Reshape((28, 28, 1))(h))
    return encoder, decoder
""",
        "log-variance head initialised to zeros (kernel and bias)": """
_solution_build_cvae = build_cvae


def build_cvae(latent_dim, num_classes):
    _, decoder = _solution_build_cvae(latent_dim, num_classes)
    images, labels = keras.Input((28, 28, 1)), keras.Input((num_classes,))
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(images)
    h = layers.Dense(128, activation="relu")(layers.Concatenate()([layers.Flatten()(h), labels]))
    z_log_var = layers.Dense(latent_dim, kernel_initializer="zeros", bias_initializer="zeros")(h)
    return keras.Model([images, labels], [layers.Dense(latent_dim)(h), z_log_var]), decoder
""",
    },
}

# A wrong answer to an earlier task (Tasks 1-3) costs only that task: the VAE of Task 5 still passes.
CASCADES = {
    "test_vae_model": {
        "Task 1 not implemented": """
def sample_latent(z_mean, z_log_var, seed=None):
    raise NotImplementedError
""",
        "Task 1 without noise (returns z_mean)": """
def sample_latent(z_mean, z_log_var, seed=None):
    return z_mean
""",
        "Task 1 with epsilon fixed at 1": """
def sample_latent(z_mean, z_log_var, seed=None):
    return z_mean + keras.ops.exp(0.5 * z_log_var) * keras.ops.ones_like(z_mean)
""",
        "Task 1 with a static batch size (passes eagerly, fails inside a tf.function)": _STATIC_SHAPE_SAMPLE,
        "Task 1 with NumPy noise (a constant inside a tf.function)": MUTANTS["test_sample_latent"][
            "NumPy noise (a constant inside train_step's tf.function)"],
        "Task 3 in NumPy without clipping (log 0 warns: a RuntimeWarning)": _NUMPY_UNCLIPPED_RECONSTRUCTION,
        "Task 2 with the slide's signs (+1 and +log var)": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.sum(keras.ops.exp(z_log_var) + z_mean ** 2 + 1.0 + z_log_var, axis=-1)
""",
        "Task 2 averaged over latent dimensions": """
def kl_divergence(z_mean, z_log_var):
    return 0.5 * keras.ops.mean(keras.ops.exp(z_log_var) + z_mean ** 2 - 1.0 - z_log_var, axis=-1)
""",
        "Task 3 averaged over pixels": """
def reconstruction_loss(x, x_reconstructed):
    p = keras.ops.clip(x_reconstructed, 1e-7, 1 - 1e-7)
    return keras.ops.mean(-(x * keras.ops.log(p) + (1 - x) * keras.ops.log(1 - p)), axis=(1, 2, 3))
""",
        "Task 3 as the old keras example's mean binary cross-entropy, without original_dim": """
def reconstruction_loss(x, x_reconstructed):
    return keras.ops.mean(keras.losses.binary_crossentropy(x, x_reconstructed), axis=(1, 2))
""",
    },
}

# Mutants that pass the visible checks and only the hidden tests (the verdict) catch.
HIDDEN_ONLY = {
    "test_kl_divergence": {"NumPy (no gradient)"},
    "test_build_vae_networks": {"one head used for both outputs", "encoder ignores latent_dim"},
    "test_vae_model": {"KL left out of the gradient", "KL under stop_gradient",
                       "beta only in the logged loss, not in the gradient", "losses summed over the batch",
                       "reconstruction averaged over pixels in train_step", "trackers reset at every step",
                       "decodes z_mean instead of a sample"},
    "test_build_cvae": {"encoder ignores the image"},
}

# ---------------------------------------------------------------------------------------------
# Design task: design_vae (weak designs must fail on at least 99% of seeds; see
# python -m benchmarks.designs 02_vae)

DESIGN = """
def design_vae():
    latent_dim = 16
    images = keras.Input((28, 28, 1))
    h = layers.Dense(300, activation="relu")(layers.Flatten()(images))
    encoder = keras.Model(images, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])
    codes = keras.Input((latent_dim,))
    h = layers.Dense(300, activation="relu")(codes)
    decoder = keras.Model(codes, layers.Reshape((28, 28, 1))(
        layers.Dense(784, activation="sigmoid")(h)))
    return encoder, decoder, 3e-3
"""

DESIGN_MUTANTS = {
    "linear hidden layers: a logistic decoder of a linear map": DESIGN.replace(
        'Dense(300, activation="relu")', "Dense(300)"),
    "a learning rate too small for the budget": DESIGN.replace("3e-3", "1e-5"),
    "decoder without a sigmoid: logits scored as probabilities": DESIGN.replace(
        'Dense(784, activation="sigmoid")', "Dense(784)"),
    "a latent size of 1": DESIGN.replace("latent_dim = 16", "latent_dim = 1"),
    "over the weight budget: 1,024 units": DESIGN.replace("Dense(300", "Dense(1024"),
    "an autoencoder in disguise: log-variances pinned near -20": DESIGN.replace(
        "layers.Dense(latent_dim)(h)])",
        "layers.Dense(latent_dim, kernel_initializer='zeros',\n"
        "                                                    bias_initializer=keras.initializers."
        "Constant(-20.0))(h)])"),
    "z_mean and z_log_var concatenated into one output": DESIGN.replace(
        "[layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)]",
        "layers.Concatenate()([layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])"),
    "a Lambda layer that hands the decoder the image": """
_stash = {}
def design_vae():
    images = keras.Input((28, 28, 1))
    kept = layers.Lambda(lambda x: _stash.setdefault("x", x))(images)
    h = layers.Flatten()(kept)
    encoder = keras.Model(images, [layers.Dense(16)(h), layers.Dense(16)(h)])
    codes = keras.Input((16,))
    decoder = keras.Model(codes, layers.Lambda(lambda z: _stash["x"])(codes))
    return encoder, decoder, 3e-3
""",
}

DESIGN_VARIANTS = {
    "the reference recipe: 300 ReLU units each way, 16 latents, learning rate 3e-3": DESIGN,
    "a convolutional encoder and a dense decoder": """
def design_vae():
    images = keras.Input((28, 28, 1))
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(images)
    h = layers.Flatten()(layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h))
    encoder = keras.Model(images, [layers.Dense(16, name="z_mean")(h),
                                   layers.Dense(16, name="z_log_var")(h)])
    codes = keras.Input((16,))
    h = layers.Dense(300, activation="relu")(codes)
    pixels = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(h))
    return encoder, keras.Model(codes, pixels), 3e-3
""",
}

MUTANTS["test_design_vae"] = DESIGN_MUTANTS
VARIANTS["test_design_vae"] = DESIGN_VARIANTS
