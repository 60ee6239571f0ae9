"""01_autoencoders: typical wrong answers (MUTANTS) and other correct answers (VARIANTS)."""

# ---------------------------------------------------------------------------------------------
# Task 1: pca_reconstruct

PCA = """
def pca_reconstruct(x_train, x_test, n_components):
    flat_train = np.asarray(x_train, np.float64).reshape(len(x_train), -1)
    flat_test = np.asarray(x_test, np.float64).reshape(len(x_test), -1)
    mean = flat_train.mean(axis=0)
    _, _, vt = np.linalg.svd(flat_train - mean, full_matrices=False)
    components = vt[:n_components]
    reconstructions = (flat_test - mean) @ components.T @ components + mean
    return reconstructions.reshape(np.shape(x_test)).astype(np.float32)
"""

PCA_MUTANTS = {
    "no mean centring": """
def pca_reconstruct(x_train, x_test, n_components):
    flat_train = np.asarray(x_train, np.float64).reshape(len(x_train), -1)
    flat_test = np.asarray(x_test, np.float64).reshape(len(x_test), -1)
    _, _, vt = np.linalg.svd(flat_train, full_matrices=False)
    components = vt[:n_components]
    return (flat_test @ components.T @ components).reshape(np.shape(x_test)).astype(np.float32)
""",
    "centres but forgets to add the mean back": PCA.replace(
        "@ components + mean", "@ components"),
    "centres x_test on its own mean": PCA.replace(
        "(flat_test - mean) @ components.T @ components + mean",
        "(flat_test - flat_test.mean(axis=0)) @ components.T @ components"
        " + flat_test.mean(axis=0)"),
    "fits the components on x_test": PCA.replace(
        "np.linalg.svd(flat_train - mean", "np.linalg.svd(flat_test - mean"),
    "keeps the smallest components": PCA.replace(
        "vt[:n_components]", "vt[::-1][:n_components]"),
    "returns the flat vectors": PCA.replace(
        "reconstructions.reshape(np.shape(x_test))", "reconstructions"),
    "returns float64": PCA.replace(".astype(np.float32)", ""),
    "columns of Vt instead of rows": PCA.replace(
        "components = vt[:n_components]", "components = vt[:, :n_components].T"),
    "one component too many": PCA.replace("vt[:n_components]", "vt[:n_components + 1]"),
    "one component too few": PCA.replace("vt[:n_components]", "vt[:n_components - 1]"),
    "ignores n_components: keeps every component": PCA.replace("vt[:n_components]", "vt"),
    "centres x_train but not x_test": PCA.replace(
        "(flat_test - mean) @ components.T", "flat_test @ components.T"),
}

PCA_VARIANTS = {
    "eigenvectors of the covariance": """
def pca_reconstruct(x_train, x_test, n_components):
    train = np.reshape(x_train, (len(x_train), -1)).astype(np.float64)
    test = np.reshape(x_test, (len(x_test), -1)).astype(np.float64)
    mu = train.mean(0)
    values, vectors = np.linalg.eigh(np.cov(train - mu, rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:n_components]]
    return (mu + (test - mu) @ top @ top.T).reshape(x_test.shape).astype("float32")
""",
    "float32 SVD with full matrices": """
def pca_reconstruct(x_train, x_test, n_components):
    d = int(np.prod(x_train.shape[1:]))
    mean = x_train.reshape(-1, d).mean(axis=0)
    u, s, vt = np.linalg.svd(x_train.reshape(-1, d) - mean)
    w = vt[:n_components].T
    z = (x_test.reshape(-1, d) - mean) @ w
    return np.float32(z @ w.T + mean).reshape(x_test.shape)
""",
}

# ---------------------------------------------------------------------------------------------
# Tasks 2 and 3: the autoencoder builders

DENSE = """
def build_dense_autoencoder(latent_dim):
    images = keras.Input(shape=(28, 28, 1))
    hidden = layers.Flatten()(images)
    hidden = layers.Dense(64, activation="relu")(hidden)
    codes = layers.Dense(latent_dim)(hidden)
    encoder = keras.Model(images, codes)
    code_inputs = keras.Input(shape=(latent_dim,))
    hidden = layers.Dense(64, activation="relu")(code_inputs)
    pixels = layers.Dense(784, activation="sigmoid")(hidden)
    decoder = keras.Model(code_inputs, layers.Reshape((28, 28, 1))(pixels))
    autoencoder = keras.Model(images, decoder(encoder(images)))
    return encoder, decoder, autoencoder
"""

DENSE_MUTANTS = {
    "decoder without an output activation": DENSE.replace(
        'layers.Dense(784, activation="sigmoid")', "layers.Dense(784)"),
    "ReLU instead of sigmoid output": DENSE.replace(
        'layers.Dense(784, activation="sigmoid")', 'layers.Dense(784, activation="relu")'),
    "wrong code shape: no Flatten": DENSE.replace(
        "hidden = layers.Flatten()(images)", "hidden = images"),
    "ignores latent_dim": DENSE.replace(
        "codes = layers.Dense(latent_dim)", "codes = layers.Dense(16)").replace(
        "keras.Input(shape=(latent_dim,))", "keras.Input(shape=(16,))"),
    "decoder outputs flat vectors": DENSE.replace(
        "keras.Model(code_inputs, layers.Reshape((28, 28, 1))(pixels))",
        "keras.Model(code_inputs, pixels)").replace(
        "decoder(encoder(images))", "layers.Reshape((28, 28, 1))(decoder(encoder(images)))"),
    "autoencoder built from new layers": DENSE.replace(
        "def build_dense_autoencoder", "def _reference") + """
def build_dense_autoencoder(latent_dim):
    encoder, decoder, _ = _reference(latent_dim)
    _, _, autoencoder = _reference(latent_dim)
    return encoder, decoder, autoencoder
""",
    "Sequential parts without keras.Input": """
def build_dense_autoencoder(latent_dim):
    encoder = keras.Sequential([layers.Flatten(), layers.Dense(64, activation="relu"),
                                layers.Dense(latent_dim)])
    decoder = keras.Sequential([layers.Dense(64, activation="relu"),
                                layers.Dense(784, activation="sigmoid"),
                                layers.Reshape((28, 28, 1))])
    return encoder, decoder, keras.Sequential([encoder, decoder])
""",
    "frozen encoder": DENSE.replace(
        "encoder = keras.Model(images, codes)",
        "encoder = keras.Model(images, codes)\n    encoder.trainable = False"),
}

DENSE_VARIANTS = {
    "Sequential parts": """
def build_dense_autoencoder(latent_dim):
    encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                layers.Dense(128, activation="relu"), layers.Dense(latent_dim)])
    decoder = keras.Sequential([keras.Input((latent_dim,)), layers.Dense(128, activation="relu"),
                                layers.Dense(784, activation="sigmoid"),
                                layers.Reshape((28, 28, 1))])
    x = keras.Input((28, 28, 1))
    return encoder, decoder, keras.Model(x, decoder(encoder(x)))
""",
    "batch normalisation, leaky ReLU and a tanh code": """
def build_dense_autoencoder(latent_dim):
    x = keras.Input((28, 28, 1))
    h = layers.Dense(200)(layers.Flatten()(x))
    h = layers.LeakyReLU(0.2)(layers.BatchNormalization()(h))
    encoder = keras.Model(x, layers.Dense(latent_dim, activation="tanh")(h))
    z = keras.Input((latent_dim,))
    h = layers.LeakyReLU(0.2)(layers.BatchNormalization()(layers.Dense(200)(z)))
    h = layers.Activation("sigmoid")(layers.Dense(784)(h))
    decoder = keras.Model(z, layers.Reshape((28, 28, 1))(h))
    return encoder, decoder, keras.Model(x, decoder(encoder(x)))
""",
}

CONV = """
def build_conv_autoencoder(latent_dim):
    images = keras.Input(shape=(28, 28, 1))
    hidden = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(images)
    hidden = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(hidden)
    codes = layers.Dense(latent_dim)(layers.Flatten()(hidden))
    encoder = keras.Model(images, codes)
    code_inputs = keras.Input(shape=(latent_dim,))
    hidden = layers.Dense(7 * 7 * 16, activation="relu")(code_inputs)
    hidden = layers.Reshape((7, 7, 16))(hidden)
    hidden = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(hidden)
    hidden = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(hidden)
    pixels = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(hidden)
    decoder = keras.Model(code_inputs, pixels)
    return encoder, decoder, keras.Model(images, decoder(encoder(images)))
"""

CONV_MUTANTS = {
    "decoder without an output activation": CONV.replace(
        'layers.Conv2D(1, 3, padding="same", activation="sigmoid")',
        'layers.Conv2D(1, 3, padding="same")'),
    "wrong code shape: feature maps instead of a vector": CONV.replace(
        "codes = layers.Dense(latent_dim)(layers.Flatten()(hidden))",
        "codes = layers.Conv2D(latent_dim, 1)(hidden)").replace(
        "keras.Input(shape=(latent_dim,))", "keras.Input(shape=(7, 7, latent_dim))").replace(
        "layers.Dense(7 * 7 * 16, activation=\"relu\")(code_inputs)",
        "layers.Conv2D(16, 1, activation=\"relu\")(code_inputs)"),
    "valid padding gives 31 x 31 outputs": CONV.replace(
        'Conv2DTranspose(16, 3, strides=2, padding="same"',
        'Conv2DTranspose(16, 3, strides=2, padding="valid"').replace(
        'Conv2DTranspose(8, 3, strides=2, padding="same"',
        'Conv2DTranspose(8, 3, strides=2, padding="valid"'),
    "max pooling instead of strided convolutions": CONV.replace(
        'hidden = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(images)',
        'hidden = layers.MaxPooling2D()('
        'layers.Conv2D(8, 3, padding="same", activation="relu")(images))'
    ).replace(
        'hidden = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(hidden)',
        'hidden = layers.MaxPooling2D()('
        'layers.Conv2D(16, 3, padding="same", activation="relu")(hidden))'
    ),
    "UpSampling2D instead of transposed convolutions": CONV.replace(
        'layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(hidden)',
        'layers.Conv2D(16, 3, padding="same", activation="relu")(layers.UpSampling2D()(hidden))'
    ).replace(
        'layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(hidden)',
        'layers.Conv2D(8, 3, padding="same", activation="relu")(layers.UpSampling2D()(hidden))'),
    "ignores latent_dim": CONV.replace(
        "layers.Dense(latent_dim)", "layers.Dense(32)").replace(
        "keras.Input(shape=(latent_dim,))", "keras.Input(shape=(32,))"),
}

CONV_VARIANTS = {
    "Sequential, kernel 4, transposed-convolution output": """
def build_conv_autoencoder(latent_dim):
    encoder = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, 4, strides=2, padding="same", activation="relu"),
        layers.Conv2D(32, 4, strides=2, padding="same", activation="relu"),
        layers.Flatten(), layers.Dense(latent_dim)])
    decoder = keras.Sequential([
        keras.Input((latent_dim,)), layers.Dense(7 * 7 * 32, activation="relu"),
        layers.Reshape((7, 7, 32)),
        layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid")])
    x = keras.Input((28, 28, 1))
    return encoder, decoder, keras.Model(x, decoder(encoder(x)))
""",
    "one stride-2 layer each way, batch normalisation": """
def build_conv_autoencoder(latent_dim):
    x = keras.Input((28, 28, 1))
    h = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    h = layers.BatchNormalization()(layers.Conv2D(16, 3, strides=2, padding="same")(h))
    encoder = keras.Model(x, layers.Dense(latent_dim)(layers.Flatten()(layers.ReLU()(h))))
    z = keras.Input((latent_dim,))
    h = layers.Reshape((14, 14, 4))(layers.Dense(14 * 14 * 4, activation="relu")(z))
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(h)
    decoder = keras.Model(z, layers.Conv2D(1, 3, padding="same", activation="sigmoid")(h))
    return encoder, decoder, keras.Model(x, decoder(encoder(x)))
""",
}

# ---------------------------------------------------------------------------------------------
# Task 4: add_noise

NOISE_MUTANTS = {
    "noise not clipped": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).standard_normal(images.shape)
    return (images + noise_factor * noise).astype(images.dtype)
""",
    "noise not seeded": """
def add_noise(images, noise_factor, seed):
    noise = np.random.standard_normal(images.shape)
    return np.clip(images + noise_factor * noise, 0, 1).astype(images.dtype)
""",
    "seed ignored: a fixed seed": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(0).standard_normal(images.shape)
    return np.clip(images + noise_factor * noise, 0, 1).astype(images.dtype)
""",
    "returns float64": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).standard_normal(images.shape)
    return np.clip(images + noise_factor * noise, 0, 1)
""",
    "modifies the input in place": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).standard_normal(images.shape).astype(images.dtype)
    images += noise_factor * noise
    np.clip(images, 0, 1, out=images)
    return images
""",
    "uniform noise on [0, 1]": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).uniform(size=images.shape)
    return np.clip(images + noise_factor * noise, 0, 1).astype(images.dtype)
""",
    "uniform noise with the right spread": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).uniform(-np.sqrt(3), np.sqrt(3), size=images.shape)
    return np.clip(images + noise_factor * noise, 0, 1).astype(images.dtype)
""",
    "noise_factor used as the variance": """
def add_noise(images, noise_factor, seed):
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(noise_factor), size=images.shape)
    return np.clip(images + noise, 0, 1).astype(images.dtype)
""",
}

NOISE_VARIANTS = {
    "Generator.normal with scale": """
def add_noise(images, noise_factor, seed):
    rng = np.random.default_rng(seed)
    noisy = images + rng.normal(loc=0.0, scale=noise_factor, size=np.shape(images))
    return np.clip(noisy, 0.0, 1.0).astype(np.asarray(images).dtype)
""",
    "legacy RandomState": """
def add_noise(images, noise_factor, seed):
    noise = np.random.RandomState(seed).randn(*images.shape).astype(images.dtype)
    return np.minimum(np.maximum(images + noise_factor * noise, 0), 1)
""",
}

# ---------------------------------------------------------------------------------------------
# Task 5: l1_activity_penalty

L1_MUTANTS = {
    "L2 instead of L1": """
def l1_activity_penalty(codes, weight):
    return weight * keras.ops.mean(keras.ops.sum(keras.ops.square(codes), axis=-1))
""",
    "sum over the batch instead of a mean": """
def l1_activity_penalty(codes, weight):
    return weight * keras.ops.sum(keras.ops.abs(codes))
""",
    "mean over every entry": """
def l1_activity_penalty(codes, weight):
    return weight * keras.ops.mean(keras.ops.abs(codes))
""",
    "no absolute value": """
def l1_activity_penalty(codes, weight):
    return weight * keras.ops.mean(keras.ops.sum(codes, axis=-1))
""",
    "forgets the weight": """
def l1_activity_penalty(codes, weight):
    return keras.ops.mean(keras.ops.sum(keras.ops.abs(codes), axis=-1))
""",
    "returns one penalty per example": """
def l1_activity_penalty(codes, weight):
    return weight * keras.ops.sum(keras.ops.abs(codes), axis=-1)
""",
    "NumPy cuts the gradient": """
def l1_activity_penalty(codes, weight):
    values = np.asarray(codes)
    return weight * np.abs(values).sum(axis=-1).mean()
""",
}

L1_VARIANTS = {
    "TensorFlow ops": """
def l1_activity_penalty(codes, weight):
    return weight * tf.reduce_mean(tf.reduce_sum(tf.abs(codes), axis=1))
""",
    "L1 norm per code": """
def l1_activity_penalty(codes, weight):
    codes = keras.ops.convert_to_tensor(codes)
    return weight * keras.ops.mean(keras.ops.norm(codes, ord=1, axis=1))
""",
    "sum divided by the batch size": """
def l1_activity_penalty(codes, weight):
    codes = keras.ops.convert_to_tensor(codes)
    batch = keras.ops.cast(keras.ops.shape(codes)[0], codes.dtype)
    return weight * keras.ops.sum(keras.ops.abs(codes)) / batch
""",
}

# ---------------------------------------------------------------------------------------------
# Task 5b: contractive_penalty

# contractive_penalty up to the codes, computed under a tape that watches x; most sources below
# add only what they do with the tape and the codes.
_WATCHED_CODES = """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        codes = encoder(x)
"""

CONTRACTIVE = _WATCHED_CODES + """\
    squares = tf.square(tape.batch_jacobian(codes, x))
    return tf.reduce_mean(tf.reduce_sum(squares, axis=list(range(1, squares.shape.rank))))
"""

CONTRACTIVE_MUTANTS = {
    "sum over the batch instead of a mean": CONTRACTIVE.replace(
        "tf.reduce_mean(tf.reduce_sum(", "tf.reduce_sum(tf.reduce_sum("),
    "norm not squared": CONTRACTIVE.replace(
        "return tf.reduce_mean(tf.reduce_sum(", "return tf.reduce_mean(tf.sqrt(tf.reduce_sum(")
    .replace("rank))))", "rank)))))"),
    "gradient of the summed code instead of one per code unit": _WATCHED_CODES + """\
    gradients = tape.gradient(codes, x)  # differentiates sum_i h_i
    return tf.reduce_mean(tf.reduce_sum(tf.reshape(tf.square(gradients), (tf.shape(x)[0], -1)),
                                        axis=1))
""",
    "mean over the Jacobian's entries": _WATCHED_CODES + """\
    return tf.reduce_mean(tf.square(tape.batch_jacobian(codes, x)))
""",
    "sums only the last axis (one input axis)": _WATCHED_CODES + """\
    squares = tf.reduce_sum(tf.square(tape.batch_jacobian(codes, x)), axis=[1, -1])
    return tf.reduce_mean(tf.reshape(squares, (tf.shape(x)[0], -1))[:, 0])
""",
    "forgets tape.watch(x)": CONTRACTIVE.replace("        tape.watch(x)\n", ""),
    "NumPy cuts the gradient": _WATCHED_CODES + """\
    jacobians = tape.batch_jacobian(codes, x).numpy()
    return np.float32(np.mean(np.sum(jacobians.reshape(len(jacobians), -1) ** 2, axis=1)))
""",
    "derivative with respect to the weights instead of the input": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)
    with tf.GradientTape() as tape:
        codes = encoder(x)
    gradients = tape.gradient(codes, encoder.trainable_variables)
    return tf.add_n([tf.reduce_sum(tf.square(g)) for g in gradients]) / tf.cast(
        tf.shape(x)[0], tf.float32)
""",
    "float64 for NumPy input (tf.convert_to_tensor without a dtype)": CONTRACTIVE.replace(
        "tf.convert_to_tensor(x, tf.float32)", "tf.convert_to_tensor(x)"),
    "x made a tf.Variable instead of watched (fails inside a tf.function)": CONTRACTIVE.replace(
        "tf.convert_to_tensor(x, tf.float32)", "tf.Variable(x, dtype=tf.float32)").replace(
        "        tape.watch(x)\n", ""),
    "returns one penalty per example": CONTRACTIVE.replace(
        "return tf.reduce_mean(tf.reduce_sum(", "return (tf.reduce_sum("),
    "Jacobian of the identity: differentiates x instead of the code": _WATCHED_CODES + """\
        flat = tf.reshape(x, (tf.shape(x)[0], -1))
    return tf.reduce_mean(tf.reduce_sum(tf.square(tape.batch_jacobian(flat, x)), axis=[1, 2]))
""",
}

CONTRACTIVE_VARIANTS = {
    "the reference recipe": CONTRACTIVE,
    "tape.jacobian of each example in a loop": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)
    total = 0.0
    for b in range(x.shape[0]):
        example = x[b:b + 1]
        with tf.GradientTape() as tape:
            tape.watch(example)
            code = encoder(example)
        total += tf.reduce_sum(tf.square(tape.jacobian(code, example)))
    return total / x.shape[0]
""",
    "tape.jacobian of the whole batch (cross terms are zero)": _WATCHED_CODES + """\
    return tf.reduce_sum(tf.square(tape.jacobian(codes, x))) / tf.cast(tf.shape(x)[0], tf.float32)
""",
    "one gradient per code unit with a persistent tape": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        codes = encoder(x)
        units = [codes[:, i] for i in range(codes.shape[-1])]
    total = tf.add_n([tf.reduce_sum(tf.square(tape.gradient(unit, x))) for unit in units])
    return total / tf.cast(tf.shape(x)[0], tf.float32)
""",
    "forward mode: one Jacobian-vector product per input value": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)
    size = int(np.prod(x.shape[1:]))
    total = 0.0
    for d in range(size):
        tangent = tf.reshape(tf.one_hot(tf.fill(tf.shape(x)[:1], d), size), tf.shape(x))
        with tf.autodiff.ForwardAccumulator(x, tangent) as accumulator:
            codes = encoder(x)
        total += tf.reduce_sum(tf.square(accumulator.jvp(codes)))
    return total / tf.cast(tf.shape(x)[0], tf.float32)
""",
    "tf.vectorized_map over the examples": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, tf.float32)

    def one_example(example):
        with tf.GradientTape() as tape:
            tape.watch(example)
            code = encoder(example[None])[0]
        return tf.reduce_sum(tf.square(tape.jacobian(code, example)))

    return tf.reduce_mean(tf.vectorized_map(one_example, x))
""",
    "keras.ops reductions": """
def contractive_penalty(encoder, x):
    x = tf.convert_to_tensor(x, "float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        codes = encoder(x, training=False)
    jacobians = tape.batch_jacobian(codes, x)
    flat = keras.ops.reshape(jacobians, (keras.ops.shape(jacobians)[0], -1))
    return keras.ops.mean(keras.ops.sum(keras.ops.square(flat), axis=1))
""",
}

# ---------------------------------------------------------------------------------------------
# Task 6: interpolate

INTERPOLATE_MUTANTS = {
    "drops the endpoint b": """
def interpolate(a, b, num_steps):
    t = np.linspace(0, 1, num_steps, endpoint=False).reshape((-1,) + (1,) * np.ndim(a))
    return (1 - t) * a + t * b
""",
    "arange drops the endpoint": """
def interpolate(a, b, num_steps):
    t = np.arange(0, 1, 1 / num_steps).reshape((-1,) + (1,) * np.ndim(a))
    return (1 - t) * a + t * b
""",
    "one point too many": """
def interpolate(a, b, num_steps):
    t = np.linspace(0, 1, num_steps + 1).reshape((-1,) + (1,) * np.ndim(a))
    return (1 - t) * a + t * b
""",
    "runs from b to a": """
def interpolate(a, b, num_steps):
    t = np.linspace(0, 1, num_steps).reshape((-1,) + (1,) * np.ndim(a))
    return t * a + (1 - t) * b
""",
    "uneven spacing": """
def interpolate(a, b, num_steps):
    t = np.linspace(0, 1, num_steps).reshape((-1,) + (1,) * np.ndim(a)) ** 2
    return (1 - t) * a + t * b
""",
    "flattens the points": """
def interpolate(a, b, num_steps):
    a, b = np.ravel(a), np.ravel(b)
    t = np.linspace(0, 1, num_steps)[:, None]
    return (1 - t) * a + t * b
""",
}

INTERPOLATE_VARIANTS = {
    "np.linspace on arrays": """
def interpolate(a, b, num_steps):
    return np.linspace(a, b, num_steps)
""",
    "a loop and np.stack": """
def interpolate(a, b, num_steps):
    return np.stack([a + (b - a) * k / (num_steps - 1) for k in range(num_steps)])
""",
}

# ---------------------------------------------------------------------------------------------
# Task 7: probe_accuracy

PROBE = """
def _fit_softmax(features_train, y_train, features_test):
    train = np.asarray(features_train, np.float64).reshape(len(features_train), -1)
    test = np.asarray(features_test, np.float64).reshape(len(features_test), -1)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    train, test = (train - mean) / std, (test - mean) / std
    targets = np.eye(10)[np.asarray(y_train)]
    weights, bias = np.zeros((train.shape[1], 10)), np.zeros(10)
    for _ in range(300):
        logits = train @ weights + bias
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        error = (p - targets) / len(train)
        weights -= 0.5 * (train.T @ error + 1e-3 * weights)
        bias -= 0.5 * error.sum(axis=0)
    logits = test @ weights + bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)
"""

PROBE_MUTANTS = {
    "returns the test loss": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return float(-np.mean(np.log(p[np.arange(len(p)), y_test] + 1e-12)))
""",
    "returns the count of correct predictions": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return int(np.sum(np.argmax(p, axis=1) == y_test))
""",
    "returns a percentage": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return 100.0 * float(np.mean(np.argmax(p, axis=1) == y_test))
""",
    "returns the error rate": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return float(np.mean(np.argmax(p, axis=1) != y_test))
""",
    "measures accuracy on the training set": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_train)
    return float(np.mean(np.argmax(p, axis=1) == y_train))
""",
    "returns a tensor": PROBE + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return tf.reduce_mean(tf.cast(np.argmax(p, axis=1) == y_test, tf.float32))
""",
    "predicts the majority class": """
def probe_accuracy(features_train, y_train, features_test, y_test):
    majority = np.bincount(np.asarray(y_train), minlength=10).argmax()
    return float(np.mean(np.asarray(y_test) == majority))
""",
}

PROBE_VARIANTS = {
    "the contract's recipe: step size 0.5, 300 steps, no weight decay": PROBE.replace(
        " + 1e-3 * weights", "") + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return float(np.mean(np.argmax(p, axis=1) == np.asarray(y_test)))
""",
    "Keras softmax layer fitted with Adam": """
def probe_accuracy(features_train, y_train, features_test, y_test):
    train = np.reshape(features_train, (len(features_train), -1)).astype("float32")
    test = np.reshape(features_test, (len(features_test), -1)).astype("float32")
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-6
    model = keras.Sequential([keras.Input((train.shape[1],)),
                              layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit((train - mean) / std, np.asarray(y_train), epochs=30, batch_size=len(train),
              verbose=0)
    return float(model.evaluate((test - mean) / std, np.asarray(y_test), verbose=0)[1])
""",
    "NumPy without standardisation, float32 result": PROBE.replace(
        "train, test = (train - mean) / std, (test - mean) / std", "") + """
def probe_accuracy(features_train, y_train, features_test, y_test):
    p = _fit_softmax(features_train, y_train, features_test)
    return np.float32(np.mean(np.argmax(p, axis=1) == np.asarray(y_test)))
""",
}

# ---------------------------------------------------------------------------------------------
# Design task: design_autoencoder (weak designs must fail on at least 99% of seeds; see
# python -m benchmarks.designs 01_autoencoders)

DESIGN = """
def design_autoencoder(code_size):
    encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                layers.Dense(256, activation="relu"), layers.Dense(code_size)])
    decoder = keras.Sequential([keras.Input((code_size,)), layers.Dense(256, activation="relu"),
                                layers.Dense(784, activation="sigmoid"),
                                layers.Reshape((28, 28, 1))])
    return encoder, decoder, 2e-3
"""

DESIGN_MUTANTS = {
    "linear layers only: PCA at best": DESIGN.replace(', activation="relu"', "").replace(
        ', activation="sigmoid"', ""),
    "a hidden layer of 16 units": DESIGN.replace("Dense(256", "Dense(16"),
    "a hidden layer of 64 units": DESIGN.replace("Dense(256", "Dense(64"),
    "a learning rate too small for the budget": DESIGN.replace("2e-3", "1e-5"),
    "identity through a code as wide as the image": DESIGN.replace(
        "layers.Dense(code_size)])", "layers.Dense(784)])"),
    "over the weight budget: 1,024 units": DESIGN.replace("Dense(256", "Dense(1024"),
    "Task 2's network as it is: deeper, not better in 5 epochs": """
def design_autoencoder(code_size):
    encoder, decoder, _ = build_dense_autoencoder(code_size)
    return encoder, decoder, 1e-3
""",
    "digits memorised in a Constant initialiser": """
def design_autoencoder(code_size):
    stored = common.design.autoencoder_digits()[0][:code_size].reshape(code_size, 784)
    encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                layers.Dense(code_size, activation="softmax")])
    decoder = keras.Sequential([keras.Input((code_size,)), layers.Dense(
        784, activation="sigmoid", kernel_initializer=keras.initializers.Constant(stored)),
        layers.Reshape((28, 28, 1))])
    return encoder, decoder, 1e-3
""",
    "a Lambda layer that passes the image around the code": """
_stash = {}
def design_autoencoder(code_size):
    inputs = keras.Input((28, 28, 1))
    kept = layers.Lambda(lambda x: _stash.setdefault("x", x))(inputs)
    encoder = keras.Model(inputs, layers.Dense(code_size)(layers.Flatten()(kept)))
    codes = keras.Input((code_size,))
    decoder = keras.Model(codes, layers.Lambda(lambda z: _stash["x"])(codes))
    return encoder, decoder, 1e-3
""",
}

DESIGN_VARIANTS = {
    "256 units, learning rate 2e-3": DESIGN,
    "the functional API, 300 units, learning rate 3e-3": """
def design_autoencoder(code_size):
    images = keras.Input((28, 28, 1))
    hidden = layers.Dense(300, activation="relu")(layers.Flatten()(images))
    encoder = keras.Model(images, layers.Dense(code_size)(hidden))
    codes = keras.Input((code_size,))
    pixels = layers.Dense(784, activation="sigmoid")(layers.Dense(300, activation="relu")(codes))
    decoder = keras.Model(codes, layers.Reshape((28, 28, 1))(pixels))
    return encoder, decoder, 3e-3
""",
}

MUTANTS = {
    "test_pca_reconstruct": PCA_MUTANTS,
    "test_build_dense_autoencoder": DENSE_MUTANTS,
    "test_build_conv_autoencoder": CONV_MUTANTS,
    "test_add_noise": NOISE_MUTANTS,
    "test_l1_activity_penalty": L1_MUTANTS,
    "test_contractive_penalty": CONTRACTIVE_MUTANTS,
    "test_interpolate": INTERPOLATE_MUTANTS,
    "test_probe_accuracy": PROBE_MUTANTS,
    "test_design_autoencoder": DESIGN_MUTANTS,
}

VARIANTS = {
    "test_pca_reconstruct": {"the reference recipe": PCA, **PCA_VARIANTS},
    "test_build_dense_autoencoder": {"small reference network": DENSE, **DENSE_VARIANTS},
    "test_build_conv_autoencoder": {"small reference network": CONV, **CONV_VARIANTS},
    "test_add_noise": NOISE_VARIANTS,
    "test_l1_activity_penalty": L1_VARIANTS,
    "test_contractive_penalty": CONTRACTIVE_VARIANTS,
    "test_interpolate": INTERPOLATE_VARIANTS,
    "test_probe_accuracy": PROBE_VARIANTS,
    "test_design_autoencoder": DESIGN_VARIANTS,
}

# Mutants that pass the visible checks and only the hidden tests (the verdict) catch.
HIDDEN_ONLY = {
    "test_build_dense_autoencoder": {"frozen encoder"},
    "test_add_noise": {"uniform noise with the right spread"},
}

# One mistake costs one task: no graded test of this assignment calls an earlier task's function
# (the probe uses synthetic features, interpolate plain arrays, contractive_penalty its own small
# encoders); the notebook's demo cells do, but they are not graded. So there are no cascades.
CASCADES: dict = {}
