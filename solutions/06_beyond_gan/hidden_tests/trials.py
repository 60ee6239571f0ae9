"""Trials of 06_beyond_gan's design task: the grader's side that trains a design (see
grading/trials.py). It runs in a sandbox of its own that never ran student code: it rebuilds the
student's generator from its configuration (standard Keras layers only), trains it with the
grader's own loop on pix2pix's L1 term (the adversarial term is left out to fit the grading
budget) under the budget, with the grader's seed on the grader's choice of training pairs, and
returns its outputs for held-out edge maps the grader chose. verdicts.py measures them."""


def _train_translator(generator, edges, digits, learning_rate, seed, budget):
    """The grader's loop: budget.epochs passes over the pairs in batches of budget.batch_size
    (shuffled with `seed`, the last batch smaller), one Adam step on the mean absolute error
    |G(x) - y| per batch."""
    import keras
    import numpy as np
    import tensorflow as tf

    variables = generator.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)

    @tf.function(autograph=False, reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(tf.cast(generator(x, training=True), tf.float32) - y))
        found = tape.gradient(loss, variables)
        optimizer.apply([tf.zeros_like(v) if g is None else g for g, v in zip(found, variables)],
                        variables)

    rng = np.random.default_rng([int(seed), 6, 1])
    size = budget.batch_size
    for _ in range(budget.epochs):
        order = rng.permutation(len(edges))
        for start in range(0, len(edges), size):
            batch = order[start:start + size]
            if variables:
                step(edges[batch], digits[batch])


def trial_test_design_translator(design, inputs):
    import contextlib
    import io

    import keras
    import numpy as np

    from common import datasets
    from common import design as rules

    grader = inputs["grader_only"]
    seed = int(grader["seed"])
    text = str(design["generator"])
    problems = rules.config_problems(text) + rules.learning_rate_problems(
        design["learning_rate"])
    if not problems:
        keras.utils.set_random_seed(seed)  # the generator's initial weights: the grader's seed
        generator = rules.rebuild(text)
        problems = rules.translator_problems(generator)
    if problems:
        return {"problems": "; ".join(problems)}
    with contextlib.redirect_stdout(io.StringIO()):
        (x_train, _), (x_test, _) = datasets.load_mnist(source="bundled")
    digits = x_train[np.asarray(grader["train_index"])] * 2.0 - 1.0
    _train_translator(generator, datasets.edge_map(digits), digits.astype(np.float32),
                      float(design["learning_rate"]), seed, rules.TRANSLATOR)
    held_out = datasets.edge_map(x_test[np.asarray(grader["heldout_index"])] * 2.0 - 1.0)
    outputs = np.asarray(generator.predict(held_out, batch_size=250, verbose=0), np.float32)
    return {"problems": "", "parameters": rules.parameters(generator), "outputs": outputs}
