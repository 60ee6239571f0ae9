"""Trials of 01_autoencoders' design task: the grader's side that trains a design (see
grading/trials.py). It runs in a sandbox of its own that never ran student code: it rebuilds the
student's networks from their configurations (standard Keras layers only), trains them under
the budget with the grader's seed on the grader's choice of training digits, and returns their
reconstructions of held-out digits. verdicts.py measures them against PCA."""


def trial_test_design_autoencoder(design, inputs):
    import contextlib
    import io

    import numpy as np

    from common import datasets
    from common import design as rules

    code_size, grader = int(inputs["code_size"]), inputs["grader_only"]
    texts = {role: str(design[role]) for role in ("encoder", "decoder")}
    problems = [f"{role}: {problem}" for role, text in texts.items()
                for problem in rules.config_problems(text)]
    if not problems:
        encoder, decoder = rules.rebuild(texts["encoder"]), rules.rebuild(texts["decoder"])
        problems = rules.autoencoder_problems(encoder, decoder, code_size)
    if problems:
        return {"problems": "; ".join(problems)}
    with contextlib.redirect_stdout(io.StringIO()):
        (x_train, _), (x_test, _) = datasets.load_mnist(source="bundled")
    rules.train_autoencoder(encoder, decoder, x_train[np.asarray(grader["train_index"])],
                            float(design["learning_rate"]), seed=int(grader["seed"]))
    held_out = x_test[np.asarray(grader["heldout_index"])]
    return {"problems": "", "parameters": rules.parameters(encoder, decoder),
            "reconstructions": rules.reconstruct(encoder, decoder, held_out)}
