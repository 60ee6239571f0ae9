"""Trials of 02_vae's design task: the grader's side that trains a design (see
grading/trials.py). It runs in a sandbox of its own that never ran student code: it rebuilds the
student's encoder and decoder from their configurations (standard Keras layers only), trains
them with the grader's own VAE loop (the reparameterised sample, the Bernoulli reconstruction
summed over the pixels plus the closed-form KL to N(0, I), beta = 1, Adam) under the budget, on
the grader's choice of binarised training digits and with the grader's seed, and returns what the
trained networks give for held-out digits: the encoder's means and log-variances, and the
decoder's pixel probabilities for codes sampled with the grader's noise. verdicts.py computes the
negative ELBO from them."""


def _train_vae(encoder, decoder, images, learning_rate, seed, budget):
    """The grader's VAE loop: budget.epochs passes over `images` in shuffled batches of
    budget.batch_size, one Adam step per batch on the batch mean of the negative ELBO
    (probabilities limited to [1e-7, 1 - 1e-7]), with fresh noise for every sample."""
    import keras
    import numpy as np
    import tensorflow as tf

    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)
    epsilon = 1e-7

    @tf.function(autograph=False)  # plain TensorFlow ops: nothing for AutoGraph to convert
    def step(x, noise):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = encoder(x, training=True)
            z = z_mean + tf.exp(0.5 * z_log_var) * noise
            p = tf.clip_by_value(decoder(z, training=True), epsilon, 1.0 - epsilon)
            reconstruction = -tf.reduce_sum(x * tf.math.log(p) + (1.0 - x) * tf.math.log(1.0 - p),
                                            axis=[1, 2, 3])
            kl = 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var,
                                     axis=1)
            loss = tf.reduce_mean(reconstruction + kl)
        gradients = tape.gradient(loss, variables)
        optimizer.apply([tf.zeros_like(v) if g is None else g
                         for g, v in zip(gradients, variables)], variables)

    rng = np.random.default_rng([int(seed), 2, 1])
    latent_dim = int(encoder.outputs[0].shape[-1])
    size = budget.batch_size
    for _ in range(budget.epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(images), size):
            batch = images[order[start:start + size]]
            noise = rng.normal(size=(len(batch), latent_dim)).astype(np.float32)
            step(tf.constant(batch), tf.constant(noise))


def trial_test_design_vae(design, inputs):
    import contextlib
    import io

    import keras
    import numpy as np

    from common import datasets
    from common import design as rules

    grader = inputs["grader_only"]
    seed = int(grader["seed"])
    texts = {role: str(design[role]) for role in ("encoder", "decoder")}
    problems = [f"{role}: {problem}" for role, text in texts.items()
                for problem in rules.config_problems(text)]
    learning_rate = design["learning_rate"]
    learning_rate = learning_rate.item() if hasattr(learning_rate, "item") else learning_rate
    problems += rules.learning_rate_problems(learning_rate)
    if not problems:
        keras.utils.set_random_seed(seed)  # the networks' initial weights: the grader's seed
        encoder, decoder = rules.rebuild(texts["encoder"]), rules.rebuild(texts["decoder"])
        problems = rules.vae_problems(encoder, decoder, max_latent=int(inputs["max_latent_dim"]))
    if problems:
        return {"problems": "; ".join(problems)}
    with contextlib.redirect_stdout(io.StringIO()):
        (x_train, _), (x_test, _) = datasets.load_mnist(source="bundled")
    train = datasets.binarize(x_train[np.asarray(grader["train_index"])])
    _train_vae(encoder, decoder, train, float(learning_rate), seed, rules.VAE_BUDGET)
    held_out = datasets.binarize(x_test[np.asarray(grader["heldout_index"])])
    z_mean, z_log_var = (np.asarray(v, np.float32) for v in encoder(held_out, training=False))
    noise = np.random.default_rng([seed, 2, 2]).normal(
        size=(int(grader["samples"]), *z_mean.shape)).astype(np.float32)
    z = z_mean + np.exp(0.5 * z_log_var.astype(np.float64)).astype(np.float32) * noise
    probabilities = np.stack([np.asarray(decoder(codes, training=False), np.float32)
                              for codes in z])
    return {"problems": "", "parameters": rules.parameters(encoder, decoder),
            "z_mean": z_mean, "z_log_var": z_log_var, "probabilities": probabilities}
