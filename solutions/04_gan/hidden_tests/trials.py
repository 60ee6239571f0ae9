"""Trials of 04_gan's design task: the grader's side that trains a design (see grading/trials.py).
It runs in a sandbox of its own that never ran student code: it rebuilds the student's generator
and discriminator from their configurations (standard Keras layers only), trains them with the
grader's own GAN loop (Algorithm 1 with one discriminator step per generator step, the
non-saturating generator loss, Adam) under the budget, on ring points and noise drawn from the
grader's seed, and returns samples of the trained generator. verdicts.py measures them."""


def _train_gan(generator, discriminator, points, d_learning_rate, g_learning_rate, latent_dim,
               seed, budget, beta_1):
    """The grader's GAN loop: budget.epochs passes over `points` in shuffled batches of
    budget.batch_size (the last, smaller one dropped), one discriminator step then one generator
    step per batch, each with fresh noise."""
    import keras
    import numpy as np
    import tensorflow as tf

    d_variables = discriminator.trainable_variables
    g_variables = generator.trainable_variables
    d_optimizer = keras.optimizers.Adam(d_learning_rate, beta_1=beta_1)
    g_optimizer = keras.optimizers.Adam(g_learning_rate, beta_1=beta_1)
    d_optimizer.build(d_variables)
    g_optimizer.build(g_variables)

    def gradients(tape, loss, variables):
        found = tape.gradient(loss, variables)
        return [tf.zeros_like(v) if g is None else g for g, v in zip(found, variables)]

    @tf.function(autograph=False)  # plain TensorFlow ops: nothing for AutoGraph to convert
    def step(real, z_discriminator, z_generator):
        fake = generator(z_discriminator, training=True)
        with tf.GradientTape() as tape:
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = (tf.reduce_mean(tf.math.softplus(-real_logits))
                      + tf.reduce_mean(tf.math.softplus(fake_logits)))
        d_optimizer.apply(gradients(tape, d_loss, d_variables), d_variables)
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(z_generator, training=True), training=True)
            g_loss = tf.reduce_mean(tf.math.softplus(-fake_logits))
        g_optimizer.apply(gradients(tape, g_loss, g_variables), g_variables)

    rng = np.random.default_rng([int(seed), 4, 1])
    size = budget.batch_size
    for _ in range(budget.epochs):
        order = rng.permutation(len(points))
        for start in range(0, len(points) - size + 1, size):
            noise = rng.normal(size=(2, size, latent_dim)).astype(np.float32)
            step(points[order[start:start + size]], noise[0], noise[1])


def trial_test_design_gan(design, inputs):
    import keras
    import numpy as np

    from common import datasets
    from common import design as rules

    latent_dim, grader = int(inputs["latent_dim"]), inputs["grader_only"]
    seed = int(grader["seed"])
    texts = {role: str(design[role]) for role in ("generator", "discriminator")}
    problems = [f"{role}: {problem}" for role, text in texts.items()
                for problem in rules.config_problems(text)]
    rates = (design["d_learning_rate"], design["g_learning_rate"])
    problems += rules.gan_rate_problems(*rates)
    if not problems:
        keras.utils.set_random_seed(seed)  # the networks' initial weights: the grader's seed
        generator = rules.rebuild(texts["generator"])
        discriminator = rules.rebuild(texts["discriminator"])
        problems = rules.gan_problems(generator, discriminator, latent_dim)
    if problems:
        return {"problems": "; ".join(problems)}
    points = datasets.toy_ring(rules.GAN_BUDGET.train_images, seed=seed)
    _train_gan(generator, discriminator, points, float(rates[0]), float(rates[1]), latent_dim,
               seed, rules.GAN_BUDGET, rules.GAN_BETA_1)
    noise = np.random.default_rng([seed, 4, 2]).normal(
        size=(rules.GAN_SAMPLES, latent_dim)).astype(np.float32)
    samples = np.asarray(generator(noise, training=False), np.float32)
    return {"problems": "", "parameters": rules.parameters(generator, discriminator),
            "samples": samples}
