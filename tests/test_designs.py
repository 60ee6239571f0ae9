"""Design tasks: the grader rebuilds a design from its configuration alone and trains it itself,
so nothing the student's kernel computes or hides can stand in for the outcome (issue 27)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import course
from common import design
from test_mutants import _spec
from grading import probe_runtime, references, trials, verdicts

DENSE = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
         "config": {"units": 4, "activation": "relu"}}


def _model(*layers) -> str:
    return json.dumps({"module": "keras", "class_name": "Sequential", "registered_name": None,
                       "config": {"name": "m", "layers": list(layers)}})


@pytest.mark.parametrize("forged, problem", [
    ({**DENSE, "module": "os", "class_name": "system"}, "not one of Keras' standard"),
    ({**DENSE, "class_name": "Lambda"}, "not one of Keras' standard"),
    ({**DENSE, "registered_name": "evil>Dense"}, "not one of Keras' standard"),
    ({**DENSE, "config": {"units": 4, "activation": {"module": "builtins",
                                                     "class_name": "function"}}},
     "activations are named by text"),
    ({**DENSE, "config": {"units": 4, "kernel_initializer": {
        "module": "keras.initializers", "class_name": "Constant", "registered_name": None,
        "config": {"value": [[0.5] * 4] * 4}}}}, "Constant initialiser may hold one number"),
])
def test_a_configuration_that_could_carry_code_or_weights_is_refused(forged, problem):
    assert design.config_problems(_model(DENSE)) == []
    found = design.config_problems(_model(DENSE, forged))
    assert any(problem in p for p in found), found
    with pytest.raises(ValueError):
        design.rebuild(_model(DENSE, forged))


def test_text_that_is_not_a_small_configuration_is_refused():
    assert design.config_problems("{" * 100_000) == [
        "the configuration is not valid JSON (use model.to_json())"]
    assert "at most" in design.config_problems("[" + " " * design.MAX_CONFIG_CHARACTERS + "]")[0]
    assert design.config_problems(7)


def test_the_kernel_never_receives_the_trials_held_out_digits_or_seed(tmp_path):
    """What a class run hands the kernel for the design probe (kernel/<test id>.npz, written by
    grading.references) holds the code size only; the reference record holds the design as
    data, never an outcome."""
    hidden = course.hidden("01_autoencoders")
    assert probe_runtime.GRADER_ONLY in hidden.probe_inputs(course.TEST_SEED)[
        "test_design_autoencoder"]
    references.compute(course.solution_notebook("01_autoencoders"), course.TEST_SEED, tmp_path)
    kernel = probe_runtime.load(str(tmp_path / "kernel" / "test_design_autoencoder.npz"))
    assert kernel["inputs"] == {"code_size": design.AUTOENCODER_CODE_SIZE}
    record = verdicts.load_record(tmp_path / "test_design_autoencoder.npz",
                                  "test_design_autoencoder", reference=True)
    assert set(record.values) == {"encoder", "decoder", "learning_rate"}


def test_a_design_that_cannot_be_trained_fails_its_verdict_with_the_reason():
    """A learning rate that is not a number in (0, 1]: the trial raises, the verdict says so."""
    hidden = course.hidden("01_autoencoders")
    inputs, records, _ = course.reference("01_autoencoders")
    reference = records["test_design_autoencoder"]
    values = {**reference.values, "learning_rate": np.array(float("nan"))}
    got = verdicts.Probed("test_design_autoencoder", list(values), list(values.values()),
                          [""] * len(values))
    got.trial = trials.in_process(hidden.folder, "test_design_autoencoder", got,
                                  inputs["test_design_autoencoder"])
    message = verdicts.decide(hidden.verdicts["test_design_autoencoder"], got, reference,
                              inputs["test_design_autoencoder"])
    assert "could not train your design" in message
    got.trial = None  # a trial that never came back (killed at its limits)
    assert "could not train your design" in verdicts.decide(
        hidden.verdicts["test_design_autoencoder"], got, reference,
        inputs["test_design_autoencoder"])


def test_trials_belong_to_design_tasks_whose_grade_ids_tools_can_find():
    for assignment in course.assignments():
        ids = set(trials.trial_ids(course.SOLUTIONS / assignment / verdicts.HIDDEN_TESTS))
        cells = {c.metadata.nbgrader.grade_id for c in course.graded_test_cells(
            course.read(course.solution_notebook(assignment)))}
        assert ids <= {i for i in cells if i.startswith("test_design_")}, assignment


@pytest.mark.parametrize("rate", [1e-5, np.float32(1e-5), np.float64(1e-5),
                                  np.array(1e-5, np.float32), 0.5, np.float32(0.5)])
def test_learning_rate_advice_reads_any_real_number(rate):
    """A design may return its learning rate as a NumPy number (np.float32(1e-3)): the advice
    on a rate too small or too large for Adam reads it as it reads a float."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    given = {"autoencoder": design.autoencoder_advice(model, model, rate),
             "vae": design.vae_advice(model, model, rate),
             "translator": design.translator_advice(model, rate),
             "gan": design.gan_advice(model, model, rate, rate, 8)}
    expected = ("training lasts", "1e-05") if float(rate) < 1e-3 else ("0.5 is large for Adam",)
    for name, advice in given.items():
        assert any(all(part in text for part in expected) for text in advice), (name, advice)
    assert not any("learning rate" in text
                   for text in design.autoencoder_advice(model, model, "fast")), \
        "a rate that is no number: its problem is learning_rate_problems', not advice"


@pytest.mark.parametrize("description, reason", [
    ("a Lambda layer that passes the image around the code", "Lambda is not one of Keras'"),
    ("digits memorised in a Constant initialiser", "Constant initialiser may hold one number"),
    ("identity through a code as wide as the image", "encoder output (the code) must have shape"),
    ("over the weight budget: 1,024 units", "the budget is 500,000"),
])
def test_hostile_designs_fail_for_the_rule_they_break(description, reason):
    """The grader's trial refuses them before training: for the rule named, not by accident."""
    source = _spec("01_autoencoders")[0]["test_design_autoencoder"][description]
    message = course.verdict_message("01_autoencoders", "test_design_autoencoder", source)
    assert "breaks the rules" in message and reason in message, message
