"""Typical wrong answers must fail their task's checks, with a teaching message, and
alternative correct answers must pass them.

For each assignment, tests/mutants/<assignment>.py defines
    MUTANTS     = {test_cell_grade_id: {description: source redefining the task}}
    VARIANTS    = {test_cell_grade_id: {description: source of another correct answer}}
    HIDDEN_ONLY = {test_cell_grade_id: {descriptions of mutants only the hidden tests catch}}
    CASCADES    = {test_cell_grade_id: {description: source of a wrong EARLIER task}}
The harness runs, in-process and without training, the solution notebook's first code cell
(imports and setup) and its solution cells, then, with one mutant or variant swapped in, the
task's test cell (the visible checks students run) and the task's hidden test (its probe, then
its verdict against the solution's record, as the grader does; solutions/<a>/hidden_tests/).
Every mutant fails the verdict; every mutant not in HIDDEN_ONLY also fails the visible checks.
One mistake costs one task: with a CASCADES entry (a wrong answer to an earlier task) swapped in,
the later task's visible checks and verdict still pass, and the visible checks name the earlier
task to revisit."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

import course
from grading import probe_runtime

MUTANT_DIR = course.REPO / "tests" / "mutants"


def _spec(assignment: str):
    path = MUTANT_DIR / f"{assignment}.py"
    if not path.exists():
        return {}, {}, {}, {}
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (module.MUTANTS, getattr(module, "VARIANTS", {}), getattr(module, "HIDDEN_ONLY", {}),
            getattr(module, "CASCADES", {}))


def _cases(kind: int):
    for assignment in course.assignments():
        for grade_id, entries in _spec(assignment)[kind].items():
            for description in entries:
                yield pytest.param(assignment, grade_id, description,
                                   id=f"{assignment}:{grade_id}:{description}")


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_test_cell_has_mutants_and_a_hidden_test(assignment):
    """A check that no typical mistake trips might be a check that cannot fail; a test cell
    without a verdict would be decided inside the student's kernel alone."""
    mutants, _, hidden_only, cascades = _spec(assignment)
    ids = {c.metadata.nbgrader.grade_id
           for c in course.graded_test_cells(course.read(course.solution_notebook(assignment)))}
    missing = sorted(i for i in ids if not mutants.get(i))
    assert not missing, f"{assignment}: no mutants for {missing} in tests/mutants/{assignment}.py"
    unknown = sorted(set(mutants) - ids)
    assert not unknown, f"{assignment}: mutants name unknown test cells {unknown}"
    hidden = course.hidden(assignment)
    assert hidden, f"{assignment}: no solutions/{assignment}/hidden_tests/verdicts.py"
    assert set(probe_runtime.probes(hidden.probes_source)) == ids, (
        f"{assignment}: probes != test cells")
    assert set(hidden.verdicts) == ids, f"{assignment}: verdicts != test cells"
    unknown = sorted(set(cascades) - ids)
    assert not unknown, f"{assignment}: CASCADES name unknown test cells {unknown}"
    stray = {g: set(d) - set(mutants.get(g, {})) for g, d in hidden_only.items()}
    assert not any(stray.values()), f"{assignment}: HIDDEN_ONLY names unknown mutants {stray}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_solution_passes_its_own_checks_and_verdicts(assignment):
    notebook = course.read(course.solution_notebook(assignment))
    for cell in course.graded_test_cells(notebook):
        grade_id = cell.metadata.nbgrader.grade_id
        course.run_visible(assignment, grade_id, None)
        assert course.verdict_message(assignment, grade_id, None) == "", grade_id


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(1)))
def test_correct_variant_passes(assignment, grade_id, description):
    source = _spec(assignment)[1][grade_id][description]
    course.run_visible(assignment, grade_id, source)
    assert course.verdict_message(assignment, grade_id, source) == ""


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(0)))
def test_mutant_fails_with_message(assignment, grade_id, description):
    mutants, _, hidden_only, _ = _spec(assignment)
    source = mutants[grade_id][description]
    message = course.verdict_message(assignment, grade_id, source)
    assert len(message) > 30, f"the verdict for '{description}' explains nothing: {message!r}"
    if description in hidden_only.get(grade_id, ()):
        course.run_visible(assignment, grade_id, source)  # hidden-only: the list stays exact
        return
    with pytest.raises(AssertionError) as failure:
        course.run_visible(assignment, grade_id, source)
    assert len(str(failure.value)) > 20, (
        f"the failure for '{description}' explains nothing: {failure.value!r}")


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(3)))
def test_earlier_mistake_costs_only_its_own_task(assignment, grade_id, description):
    source = _spec(assignment)[3][grade_id][description]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = course.run_visible(assignment, grade_id, source)
    assert "Fix Task" in printed, (
        f"with '{description}' the visible checks of {grade_id} passed without naming the "
        f"earlier task to revisit; printed: {printed[-500:]!r}")
    assert not caught, (f"with '{description}' the earlier task's warnings reach {grade_id}'s "
                        f"cell: {[str(w.message)[:200] for w in caught]}")
    assert course.verdict_message(assignment, grade_id, source) == ""


@pytest.mark.parametrize("assignment, grade_id, description", [
    ("02_vae", "test_build_vae_networks", "softplus on the log-variance head"),
    ("06_beyond_gan", "test_build_patch_discriminator", "sigmoid on the patch logits")])
def test_probes_ignore_a_patched_common_checks(monkeypatch, assignment, grade_id, description):
    """Issue 13's forged verdicts: the student's code, run before the probes in the same
    kernel, patches common.checks so that the weight-redraw probe reports negative outputs. The
    hidden tests use their own copy of the module, so the wrong answer still fails."""
    from common import checks

    monkeypatch.setattr(checks, "redrawn_outputs", lambda *args, **kwargs: -np.ones((1, 4)))
    source = _spec(assignment)[0][grade_id][description]
    assert course.verdict_message(assignment, grade_id, source), (
        f"'{description}' passed the hidden test once common.checks was patched")
