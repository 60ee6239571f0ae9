# ruff: noqa: E501  (mutant sources are code inside strings, kept as students would write them)
"""Typical wrong answers (MUTANTS) and other correct answers (VARIANTS) for 06_beyond_gan; see
tests/test_mutants.py."""

_BILINEAR_UPSAMPLE = """
def upsample(images):
    images = tf.cast(images, tf.float32)
    return tf.image.resize(images, (2 * images.shape[1], 2 * images.shape[2]), method="bilinear")
"""

_ZERO_INSERTING_UPSAMPLE = """
def upsample(images):
    images = tf.cast(images, tf.float32)
    n, h, w, c = images.shape
    spread = tf.stack([images, tf.zeros_like(images)], axis=2)  # a zero after every row
    spread = tf.reshape(spread, (-1, 2 * h, w, c))
    spread = tf.stack([spread, tf.zeros_like(spread)], axis=3)  # and after every column
    return tf.reshape(spread, (-1, 2 * h, 2 * w, c))
"""

# Right on a (1, 2, 2, 1) image, so it passed the one check of Task 1 that Task 2 used to run
# first; wrong on 3 channels (it keeps the first).
_FIRST_CHANNEL_UPSAMPLE = """
def upsample(images):
    images = tf.cast(images, tf.float32)
    return tf.repeat(tf.repeat(images[..., :1], 2, axis=1), 2, axis=2)
"""

# A wrong Task 1 that also warns (as a deprecated library call does): the warning shows in Task
# 1's cell only.
_WARNING_DOWNSAMPLE = """
def downsample(images):
    import warnings
    warnings.warn("this call is deprecated", DeprecationWarning)
    return tf.cast(images, tf.float32)[:, ::2, ::2, :]
"""

_NOT_DONE_UPSAMPLE = """
def upsample(images):
    raise NotImplementedError()
"""


def _pyramid(residual="current - upsample(coarser)", coarsest="current",
             order="pyramid + [current]", next_level="coarser"):
    return f"""
def laplacian_pyramid(images, levels):
    images = tf.cast(images, tf.float32)
    current = images
    pyramid = []
    for _ in range(levels - 1):
        coarser = downsample(current)
        pyramid.append({residual})
        current = {next_level}
    pyramid = {order}
    return pyramid
"""


def _reconstruct(body):
    return f"""
def reconstruct_from_pyramid(pyramid):
{body}
"""


def _patch(layers_text, inputs="[condition, candidate]", joined="layers.Concatenate()([condition, candidate])"):
    return f"""
def build_patch_discriminator():
    condition, candidate = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    x = {joined}
{layers_text}
    return keras.Model({inputs}, x)
"""


_TWO_STRIDED = """    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 4, strides=2, padding="same")(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 4, strides=2, padding="same")(x))"""


def _pix2pix(adversarial="tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits("
                         "labels=tf.ones_like(fake_logits), logits=fake_logits))",
             l1="tf.reduce_mean(tf.abs(target - generated))", total="adversarial + l1_weight * l1"):
    return f"""
def pix2pix_generator_loss(fake_logits, generated, target, l1_weight=100.0):
    fake_logits = tf.cast(fake_logits, tf.float32)
    generated, target = tf.cast(generated, tf.float32), tf.cast(target, tf.float32)
    adversarial = {adversarial}
    l1 = {l1}
    return {total}
"""


def _cycle(body):
    return f"""
def cycle_consistency_loss(real_a, cycled_a, real_b, cycled_b):
    real_a, cycled_a, real_b, cycled_b = (tf.cast(v, tf.float32) for v in (real_a, cycled_a, real_b, cycled_b))
    return {body}
"""


def _adain(axes="[1, 2]", normalised="(features - mean) / tf.sqrt(variance + epsilon)",
           out="scale * normalised + bias", variance=None):
    variance_line = (f"    variance = {variance}\n" if variance else "")
    return f"""
def adain(features, style_scale, style_bias, epsilon=1e-5):
    features = tf.cast(features, tf.float32)
    mean, variance = tf.nn.moments(features, axes={axes}, keepdims=True)
{variance_line}    normalised = {normalised}
    scale = tf.cast(style_scale, tf.float32)[:, None, None, :]
    bias = tf.cast(style_bias, tf.float32)[:, None, None, :]
    return {out}
"""


# ---------------------------------------------------------------------------------------------
# Design task: design_translator (weak designs must fail on at least 99% of seeds; see
# python -m benchmarks.designs 06_beyond_gan)

DESIGN = """
def design_translator():
    edges = keras.Input((28, 28, 1))
    down_14 = layers.LeakyReLU(0.2)(layers.Conv2D(20, 4, strides=2, padding="same")(edges))
    down_7 = layers.LeakyReLU(0.2)(layers.Conv2D(40, 4, strides=2, padding="same")(down_14))
    up_14 = layers.ReLU()(layers.Conv2DTranspose(20, 4, strides=2, padding="same")(down_7))
    up_14 = layers.Concatenate()([up_14, down_14])
    up_28 = layers.ReLU()(layers.Conv2DTranspose(20, 4, strides=2, padding="same")(up_14))
    up_28 = layers.Concatenate()([up_28, edges])
    digits = layers.Conv2D(1, 3, padding="same")(up_28)
    return keras.Model(edges, digits), 5e-3
"""

DESIGN_MUTANTS = {
    "the edge map itself: an identity generator": """
def design_translator():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Activation("linear")]), 1e-3
""",
    "a linear generator: one convolution, no activation": """
def design_translator():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(1, 5, padding="same")]), 3e-3
""",
    "a tiny generator: 4 channels, 77 weights": """
def design_translator():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, padding="same", activation="relu"),
                             layers.Conv2D(1, 3, padding="same")]), 3e-3
""",
    "a learning rate too small for the budget": DESIGN.replace("5e-3", "1e-5"),
    "a sigmoid output: never below 0, the background is -1": DESIGN.replace(
        'layers.Conv2D(1, 3, padding="same")', 'layers.Conv2D(1, 3, padding="same", activation="sigmoid")'),
    "a tanh output (04's generator): saturates at -1": DESIGN.replace(
        'layers.Conv2D(1, 3, padding="same")', 'layers.Conv2D(1, 3, padding="same", activation="tanh")'),
    "the notebook's U-Net copied as it is: over the weight budget": DESIGN.replace(
        "Conv2D(20", "Conv2D(32").replace("Conv2D(40", "Conv2D(64").replace(
        "Conv2DTranspose(20", "Conv2DTranspose(32"),
    "a Lambda layer": """
def design_translator():
    edges = keras.Input((28, 28, 1))
    hidden = layers.Conv2D(16, 3, padding="same", activation="relu")(edges)
    thick = layers.Lambda(lambda x: tf.nn.max_pool2d(x, 3, 1, "SAME"))(edges)
    digits = layers.Conv2D(1, 3, padding="same")(layers.Concatenate()([hidden, thick]))
    return keras.Model(edges, digits), 3e-3
""",
}

DESIGN_VARIANTS = {
    "a U-Net of 39,010 weights, learning rate 3e-3": DESIGN.replace("5e-3", "3e-3"),
    "full resolution: the edge map plus a learned correction (Add), learning rate 2e-3": """
def design_translator():
    edges = keras.Input((28, 28, 1))
    hidden = layers.Conv2D(32, 3, padding="same", activation="relu")(edges)
    hidden = layers.Conv2D(32, 3, padding="same", activation="relu")(hidden)
    correction = layers.Conv2D(1, 3, padding="same")(hidden)
    return keras.Model(edges, layers.Add()([edges, correction])), 2e-3
""",
}


MUTANTS = {
    "test_laplacian_pyramid": {
        "down-sampling takes every second pixel": """
def downsample(images):
    return tf.cast(images, tf.float32)[:, ::2, ::2, :]
""",
        "down-sampling sums the 2 x 2 block": """
def downsample(images):
    return 4.0 * tf.nn.avg_pool2d(tf.cast(images, tf.float32), 2, 2, "VALID")
""",
        "bilinear up-sampling": _BILINEAR_UPSAMPLE,
        "residual with the sign flipped (u(I_{k+1}) - I_k)": _pyramid(residual="upsample(coarser) - current"),
        "residual taken one level down (h_k from I_{k+1})": """
def laplacian_pyramid(images, levels):
    current, pyramid = tf.cast(images, tf.float32), []
    for _ in range(levels - 1):
        current = downsample(current)
        pyramid.append(current - upsample(downsample(current)))
    return pyramid + [current]
""",
        "Gaussian pyramid (images, not residuals)": _pyramid(residual="current"),
        "coarsest image first": _pyramid(order="[current] + pyramid"),
        "coarsest image left out (levels - 1 entries)": _pyramid(order="pyramid"),
        "one level too many (levels residuals)": """
def laplacian_pyramid(images, levels):
    current, pyramid = tf.cast(images, tf.float32), []
    for _ in range(levels):
        coarser = downsample(current)
        pyramid.append(current - upsample(coarser))
        current = coarser
    return pyramid + [current]
""",
    },
    "test_reconstruct_from_pyramid": {
        "subtracts the residuals": _reconstruct("""    image = tf.cast(pyramid[-1], tf.float32)
    for residual in reversed(pyramid[:-1]):
        image = upsample(image) - residual
    return image"""),
        "bilinear up-sampling in the reconstruction (not the inverse)": _reconstruct("""    image = tf.cast(pyramid[-1], tf.float32)
    for residual in reversed(pyramid[:-1]):
        image = tf.image.resize(image, (2 * image.shape[1], 2 * image.shape[2])) + residual
    return image"""),
        "adds only the finest residual": _reconstruct("""    image = tf.cast(pyramid[-1], tf.float32)
    while image.shape[1] < pyramid[0].shape[1]:
        image = upsample(image)
    return image + pyramid[0]"""),
        "loops from the finest level (Incompatible shapes)": _reconstruct("""    image = tf.cast(pyramid[0], tf.float32)
    for residual in pyramid[1:]:
        image = upsample(image) + residual
    return image"""),
        "ignores the residuals (up-samples the coarsest image only)": _reconstruct("""    image = tf.cast(pyramid[-1], tf.float32)
    for _ in pyramid[:-1]:
        image = upsample(image)
    return image"""),
    },
    "test_build_patch_discriminator": {
        "one stride-2 convolution: 14 x 14 patches": _patch("""    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 4, strides=2, padding="same")(x))
    x = layers.Conv2D(1, 3, padding="same")(x)"""),
        "one logit per image (Flatten + Dense)": _patch(_TWO_STRIDED + """
    x = layers.Dense(1)(layers.Flatten()(x))"""),
        "sigmoid on the patch logits": _patch(_TWO_STRIDED + """
    x = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)"""),
        "every patch sees the whole image (Flatten + Dense + Reshape)": _patch(_TWO_STRIDED + """
    x = layers.Reshape((7, 7, 1))(layers.Dense(49)(layers.Flatten()(x)))"""),
        "ignores the condition image": _patch(_TWO_STRIDED + """
    x = layers.Conv2D(1, 3, padding="same")(x)""",
                                              joined="layers.Concatenate()([candidate, 0.0 * condition])"),
        "global average pooling added to every patch": _patch(_TWO_STRIDED + """
    x = layers.Conv2D(1, 3, padding="same")(x)
    x = x + layers.Reshape((1, 1, 1))(layers.GlobalAveragePooling2D()(x))"""),
    },
    "test_pix2pix_generator_loss": {
        "sigmoid, then a cross-entropy for logits (double sigmoid)": _pix2pix(
            adversarial="keras.losses.BinaryCrossentropy(from_logits=True)(tf.ones_like(fake_logits), "
                        "tf.sigmoid(fake_logits))"),
        "logits read as probabilities (from_logits=False)": _pix2pix(
            adversarial="keras.losses.BinaryCrossentropy()(tf.ones_like(fake_logits), fake_logits)"),
        "L1 summed over the pixels": _pix2pix(l1="tf.reduce_sum(tf.abs(target - generated))"),
        "l1_weight ignored (always 100)": _pix2pix(total="adversarial + 100.0 * l1"),
        "label 0 (fakes called fake)": _pix2pix(
            adversarial="tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits("
                        "labels=tf.zeros_like(fake_logits), logits=fake_logits))"),
        "adversarial term summed over the patches": _pix2pix(
            adversarial="tf.reduce_sum(tf.nn.softplus(-fake_logits)) / tf.cast(tf.shape(fake_logits)[0], tf.float32)"),
        "squared error instead of L1": _pix2pix(l1="tf.reduce_mean(tf.square(target - generated))"),
        "l1_weight on the adversarial term instead of the L1 term": _pix2pix(total="l1_weight * adversarial + l1"),
        "minimax loss log(1 - D) instead of -log D": _pix2pix(
            adversarial="-tf.reduce_mean(tf.nn.softplus(fake_logits))"),
        "L1 in NumPy (right eagerly, fails in a traced training step)": """
def pix2pix_generator_loss(fake_logits, generated, target, l1_weight=100.0):
    adversarial = tf.reduce_mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))
    l1 = np.mean(np.abs(np.asarray(target, np.float32) - np.asarray(generated, np.float32)))
    return adversarial + l1_weight * l1
""",
    },
    "test_cycle_consistency_loss": {
        "one direction only (A -> B -> A)": _cycle("tf.reduce_mean(tf.abs(real_a - cycled_a))"),
        "the two directions averaged, not added": _cycle(
            "(tf.reduce_mean(tf.abs(real_a - cycled_a)) + tf.reduce_mean(tf.abs(real_b - cycled_b))) / 2"),
        "summed over the entries": _cycle(
            "tf.reduce_sum(tf.abs(real_a - cycled_a)) + tf.reduce_sum(tf.abs(real_b - cycled_b))"),
        "squared errors": _cycle(
            "tf.reduce_mean(tf.square(real_a - cycled_a)) + tf.reduce_mean(tf.square(real_b - cycled_b))"),
        "one mean over the entries of both directions, times 2": _cycle(
            "tf.reduce_mean(tf.concat([tf.reshape(tf.abs(real_a - cycled_a), [-1]), "
            "tf.reshape(tf.abs(real_b - cycled_b), [-1])], 0)) * 2"),
    },
    "test_adain": {
        "normalises over the batch too (batch norm)": _adain(axes="[0, 1, 2]"),
        "normalises over the channels (layer norm)": _adain(axes="[1, 2, 3]"),
        "normalises over the channels only": _adain(axes="[3]"),
        "std without epsilon": _adain(normalised="(features - mean) / tf.sqrt(variance)"),
        "epsilon added to the standard deviation": _adain(
            normalised="(features - mean) / (tf.sqrt(variance) + epsilon)"),
        "unbiased variance (divides by H W - 1)": _adain(
            variance="variance * tf.cast(tf.shape(features)[1] * tf.shape(features)[2], tf.float32) / "
                     "tf.cast(tf.shape(features)[1] * tf.shape(features)[2] - 1, tf.float32)"),
        "scale and bias swapped": _adain(out="bias * normalised + scale"),
        "scale used as 1 + y_s": _adain(out="(1.0 + scale) * normalised + bias"),
        "epsilon ignored (always 1e-5)": _adain(normalised="(features - mean) / tf.sqrt(variance + 1e-5)"),
        "variance from .numpy() (right eagerly, fails in a traced training step)": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    x = tf.cast(features, tf.float32)
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    variance = np.var(x.numpy(), axis=(1, 2), keepdims=True)
    scale = tf.cast(style_scale, tf.float32)[:, None, None, :]
    bias = tf.cast(style_bias, tf.float32)[:, None, None, :]
    return scale * (x - mean) / tf.sqrt(variance + epsilon) + bias
""",
        "NumPy: no gradient reaches the features": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    x = np.asarray(features, np.float32)
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    scale, bias = np.asarray(style_scale)[:, None, None, :], np.asarray(style_bias)[:, None, None, :]
    return (scale * (x - mean) / np.sqrt(var + epsilon) + bias).astype(np.float32)
""",
    },    "test_design_translator": DESIGN_MUTANTS,
}

VARIANTS = {
    "test_laplacian_pyramid": {
        "AveragePooling2D, UpSampling2D": """
def downsample(images):
    return layers.AveragePooling2D(2)(tf.cast(images, tf.float32))


def upsample(images):
    return layers.UpSampling2D(2)(tf.cast(images, tf.float32))
""",
        "reshape-mean and np.repeat (NumPy)": """
def downsample(images):
    x = np.asarray(images, np.float32)
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def upsample(images):
    return np.asarray(images, np.float32).repeat(2, axis=1).repeat(2, axis=2)


def laplacian_pyramid(images, levels):
    levels_out, current = [], np.asarray(images, np.float32)
    for _ in range(levels - 1):
        coarser = downsample(current)
        levels_out.append(current - upsample(coarser))
        current = coarser
    levels_out.append(current)
    return levels_out
""",
        "tf.image.resize nearest, keras.ops": """
def downsample(images):
    return keras.ops.average_pool(keras.ops.cast(images, "float32"), 2, strides=2, padding="valid")


def upsample(images):
    images = tf.cast(images, tf.float32)
    return tf.image.resize(images, (2 * images.shape[1], 2 * images.shape[2]), method="nearest")
""",
        "recursive pyramid": """
def laplacian_pyramid(images, levels):
    images = tf.cast(images, tf.float32)
    if levels == 1:
        return [images]
    coarser = downsample(images)
    return [images - upsample(coarser)] + laplacian_pyramid(coarser, levels - 1)
""",
        "Keras 2-style tuple of float32 arrays": """
def laplacian_pyramid(images, levels):
    gaussian = [tf.cast(images, tf.float32)]
    for _ in range(levels - 1):
        gaussian.append(downsample(gaussian[-1]))
    bands = [gaussian[k] - upsample(gaussian[k + 1]) for k in range(levels - 1)]
    return tuple(np.asarray(b, np.float32) for b in bands + [gaussian[-1]])
""",
    },
    "test_reconstruct_from_pyramid": {
        "UpSampling2D inside, without calling upsample": _reconstruct("""    image = tf.cast(pyramid[-1], tf.float32)
    for residual in pyramid[-2::-1]:
        image = layers.UpSampling2D(2)(image) + residual
    return image"""),
        "NumPy, np.repeat": _reconstruct("""    image = np.asarray(pyramid[-1], np.float32)
    for residual in reversed(pyramid[:-1]):
        image = image.repeat(2, axis=1).repeat(2, axis=2) + np.asarray(residual)
    return image"""),
        "recursive, tf.image.resize nearest": _reconstruct("""    if len(pyramid) == 1:
        return tf.cast(pyramid[0], tf.float32)
    coarse = reconstruct_from_pyramid(pyramid[1:])
    size = (2 * coarse.shape[1], 2 * coarse.shape[2])
    return tf.image.resize(coarse, size, method="nearest") + tf.cast(pyramid[0], tf.float32)"""),
        "functools.reduce over the reversed list": _reconstruct("""    import functools
    return functools.reduce(lambda image, residual: upsample(image) + residual,
                            list(pyramid[-2::-1]), tf.cast(pyramid[-1], tf.float32))"""),
    },
    "test_build_patch_discriminator": {
        "Concatenate, then a Sequential body": """
def build_patch_discriminator():
    condition, candidate = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    body = keras.Sequential([
        layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding="same"), layers.BatchNormalization(),
        layers.LeakyReLU(0.2), layers.Conv2D(1, 4, padding="same"),
    ])
    return keras.Model([condition, candidate], body(layers.Concatenate()([condition, candidate])))
""",
        "kernel 3, an extra stride-1 convolution": _patch("""    x = layers.LeakyReLU(0.2)(layers.Conv2D(16, 3, strides=2, padding="same")(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 3, strides=2, padding="same")(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 3, padding="same")(x))
    x = layers.Conv2D(1, 3, padding="same")(x)"""),
        "kernel 5, keras.layers.concatenate": _patch("""    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 5, strides=2, padding="same")(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 5, strides=2, padding="same")(x))
    x = layers.Conv2D(1, 1)(x)""", joined="layers.concatenate([condition, candidate], axis=-1)"),
    },
    "test_pix2pix_generator_loss": {
        "keras.losses BCE(from_logits=True) + MeanAbsoluteError": """
def pix2pix_generator_loss(fake_logits, generated, target, l1_weight=100.0):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    mae = keras.losses.MeanAbsoluteError()
    return bce(tf.ones_like(fake_logits), fake_logits) + l1_weight * mae(target, generated)
""",
        "tf.nn.sigmoid_cross_entropy_with_logits (the TensorFlow pix2pix tutorial's form)": _pix2pix(),
        "keras.ops softplus": """
def pix2pix_generator_loss(fake_logits, generated, target, l1_weight=100.0):
    ops = keras.ops
    adversarial = ops.mean(ops.softplus(-ops.cast(fake_logits, "float32")))
    return adversarial + l1_weight * ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(generated, "float32")))
""",
        "NumPy-compatible log-sigmoid in float64, cast back": """
def pix2pix_generator_loss(fake_logits, generated, target, l1_weight=100.0):
    logits = tf.cast(fake_logits, tf.float64)
    adversarial = -tf.reduce_mean(tf.math.log_sigmoid(logits))
    l1 = tf.reduce_mean(tf.abs(tf.cast(generated, tf.float64) - tf.cast(target, tf.float64)))
    return tf.cast(adversarial + l1_weight * l1, tf.float32)
""",
    },
    "test_cycle_consistency_loss": {
        "keras.losses.MeanAbsoluteError": """
def cycle_consistency_loss(real_a, cycled_a, real_b, cycled_b):
    mae = keras.losses.MeanAbsoluteError()
    return mae(real_a, cycled_a) + mae(real_b, cycled_b)
""",
        "keras.ops": """
def cycle_consistency_loss(real_a, cycled_a, real_b, cycled_b):
    ops = keras.ops
    return (ops.mean(ops.abs(ops.subtract(cycled_a, real_a)))
            + ops.mean(ops.abs(ops.subtract(cycled_b, real_b))))
""",
        "NumPy": """
def cycle_consistency_loss(real_a, cycled_a, real_b, cycled_b):
    return np.float32(np.mean(np.abs(np.asarray(real_a) - np.asarray(cycled_a)))
                      + np.mean(np.abs(np.asarray(real_b) - np.asarray(cycled_b))))
""",
    },
    "test_adain": {
        "keras.ops mean and var": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    ops = keras.ops
    x = ops.cast(features, "float32")
    mean = ops.mean(x, axis=(1, 2), keepdims=True)
    var = ops.var(x, axis=(1, 2), keepdims=True)
    scale = ops.expand_dims(ops.expand_dims(ops.cast(style_scale, "float32"), 1), 1)
    bias = ops.expand_dims(ops.expand_dims(ops.cast(style_bias, "float32"), 1), 1)
    return scale * (x - mean) / ops.sqrt(var + epsilon) + bias
""",
        "tf.nn.batch_normalization with per-image moments": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    x = tf.cast(features, tf.float32)
    mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    scale = tf.reshape(tf.cast(style_scale, tf.float32), (-1, 1, 1, x.shape[-1]))
    bias = tf.reshape(tf.cast(style_bias, tf.float32), (-1, 1, 1, x.shape[-1]))
    return tf.nn.batch_normalization(x, mean, var, bias, scale, epsilon)
""",
        "manual mean and mean square": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    x = tf.cast(features, tf.float32)
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axis=[1, 2], keepdims=True)
    std = tf.sqrt(var + epsilon)
    return tf.cast(style_scale, tf.float32)[:, None, None] * (x - mean) / std + tf.cast(style_bias, tf.float32)[:, None, None]
""",
        "transpose to channels first, tf.math.reduce_std": """
def adain(features, style_scale, style_bias, epsilon=1e-5):
    x = tf.transpose(tf.cast(features, tf.float32), (0, 3, 1, 2))  # (N, C, H, W)
    mean = tf.reduce_mean(x, axis=[2, 3], keepdims=True)
    std = tf.sqrt(tf.square(tf.math.reduce_std(x, axis=[2, 3], keepdims=True)) + epsilon)
    y = (x - mean) / std * tf.cast(style_scale, tf.float32)[:, :, None, None] + tf.cast(style_bias, tf.float32)[:, :, None, None]
    return tf.transpose(y, (0, 2, 3, 1))
""",
    },    "test_design_translator": DESIGN_VARIANTS,
}

# The mutants above that pass every visible check: only the hidden tests' verdicts catch them.
HIDDEN_ONLY = {}

CASCADES = {
    "test_reconstruct_from_pyramid": {
        "Task 1 bilinear up-sampling": _BILINEAR_UPSAMPLE,
        "Task 1 up-sampling inserts zeros": _ZERO_INSERTING_UPSAMPLE,
        "Task 1 not done (NotImplementedError)": _NOT_DONE_UPSAMPLE,
        "Task 1 up-sampling keeps the first channel (passed the reduced check)": _FIRST_CHANNEL_UPSAMPLE,
        "Task 1 down-sampling takes every second pixel, and warns": _WARNING_DOWNSAMPLE,
    },
}
