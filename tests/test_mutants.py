"""Typical wrong answers must fail their task's test cell, with a teaching message, and
alternative correct answers must pass it.

For each assignment, tests/mutants/<assignment>.py defines
    MUTANTS  = {test_cell_grade_id: {description: source redefining the task}}
    VARIANTS = {test_cell_grade_id: {description: source of another correct answer}}
The harness runs, in-process and without training, the solution notebook's first code cell
(imports and setup) and its solution cells, then each test cell (visible and hidden parts)
with one mutant or variant swapped in. Test cells therefore depend only on those cells."""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest

import course

MUTANT_DIR = course.REPO / "tests" / "mutants"


def _spec(assignment: str):
    path = MUTANT_DIR / f"{assignment}.py"
    if not path.exists():
        return {}, {}
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS, getattr(module, "VARIANTS", {})


def _cases(kind: int):
    for assignment in course.assignments():
        for grade_id, entries in _spec(assignment)[kind].items():
            for description in entries:
                yield pytest.param(assignment, grade_id, description,
                                   id=f"{assignment}:{grade_id}:{description}")


_namespaces: dict[str, dict] = {}


def _solution_namespace(assignment: str) -> dict:
    """Globals after the imports cell and every solution cell of the solution notebook."""
    if assignment not in _namespaces:
        _namespaces[assignment] = course.solution_namespace(assignment)
    return _namespaces[assignment]


def _test_source(assignment: str, grade_id: str) -> str:
    notebook = course.read(course.solution_notebook(assignment))
    (cell,) = [c for c in course.graded_test_cells(notebook)
               if c.metadata.nbgrader.grade_id == grade_id]
    return cell.source


def _run(assignment: str, grade_id: str, replacement: str | None) -> None:
    namespace = dict(_solution_namespace(assignment))
    with contextlib.redirect_stdout(io.StringIO()):
        if replacement is not None:
            exec(compile(replacement, "<replacement>", "exec"), namespace)
        exec(compile(_test_source(assignment, grade_id), f"<{grade_id}>", "exec"), namespace)


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_test_cell_has_mutants(assignment):
    """A check that no typical mistake trips might be a check that cannot fail."""
    mutants, _ = _spec(assignment)
    ids = {c.metadata.nbgrader.grade_id
           for c in course.graded_test_cells(course.read(course.solution_notebook(assignment)))}
    missing = sorted(i for i in ids if not mutants.get(i))
    assert not missing, f"{assignment}: no mutants for {missing} in tests/mutants/{assignment}.py"
    unknown = sorted(set(mutants) - ids)
    assert not unknown, f"{assignment}: mutants name unknown test cells {unknown}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_solution_passes_its_own_test_cells(assignment):
    notebook = course.read(course.solution_notebook(assignment))
    for cell in course.graded_test_cells(notebook):
        _run(assignment, cell.metadata.nbgrader.grade_id, None)


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(1)))
def test_correct_variant_passes(assignment, grade_id, description):
    _run(assignment, grade_id, _spec(assignment)[1][grade_id][description])


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(0)))
def test_mutant_fails_with_message(assignment, grade_id, description):
    with pytest.raises(AssertionError) as failure:
        _run(assignment, grade_id, _spec(assignment)[0][grade_id][description])
    message = str(failure.value)
    assert len(message) > 20, f"the failure for '{description}' explains nothing: {message!r}"
