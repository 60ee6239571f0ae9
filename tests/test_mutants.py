"""Typical wrong answers must fail their task's checks, with a teaching message, and
alternative correct answers must pass them.

For each assignment, tests/mutants/<assignment>.py defines
    MUTANTS     = {test_cell_grade_id: {description: source redefining the task}}
    VARIANTS    = {test_cell_grade_id: {description: source of another correct answer}}
    HIDDEN_ONLY = {test_cell_grade_id: {descriptions of mutants only the hidden tests catch}}
The harness runs, in-process and without training, the solution notebook's first code cell
(imports and setup) and its solution cells, then, with one mutant or variant swapped in, the
task's test cell (the visible checks students run) and the task's hidden test (its probe, then
its verdict against the solution's record, as the grader does; solutions/<a>/hidden_tests.py).
Every mutant fails the verdict; every mutant not in HIDDEN_ONLY also fails the visible checks."""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest

import course
from grading import verdicts

MUTANT_DIR = course.REPO / "tests" / "mutants"


def _spec(assignment: str):
    path = MUTANT_DIR / f"{assignment}.py"
    if not path.exists():
        return {}, {}, {}
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS, getattr(module, "VARIANTS", {}), getattr(module, "HIDDEN_ONLY", {})


def _cases(kind: int):
    for assignment in course.assignments():
        for grade_id, entries in _spec(assignment)[kind].items():
            for description in entries:
                yield pytest.param(assignment, grade_id, description,
                                   id=f"{assignment}:{grade_id}:{description}")


_namespaces: dict[str, dict] = {}
_references: dict[str, dict] = {}


def _solution_namespace(assignment: str) -> dict:
    """Globals after the imports cell and every solution cell of the solution notebook."""
    if assignment not in _namespaces:
        _namespaces[assignment] = course.solution_namespace(assignment)
    return _namespaces[assignment]


def _hidden_source(assignment: str) -> str:
    return verdicts.hidden_tests_source(course.SOLUTIONS / assignment)


def _reference(assignment: str) -> dict:
    """The solution's probe records: what every verdict compares with."""
    if assignment not in _references:
        with contextlib.redirect_stdout(io.StringIO()):
            _references[assignment] = verdicts.in_process(
                _hidden_source(assignment), dict(_solution_namespace(assignment)), reference=True)
    return _references[assignment]


def _test_source(assignment: str, grade_id: str) -> str:
    notebook = course.read(course.solution_notebook(assignment))
    (cell,) = [c for c in course.graded_test_cells(notebook)
               if c.metadata.nbgrader.grade_id == grade_id]
    return cell.source


def _namespace_with(assignment: str, replacement: str | None) -> dict:
    namespace = dict(_solution_namespace(assignment))
    if replacement is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(replacement, "<replacement>", "exec"), namespace)
    return namespace


def _visible(assignment: str, grade_id: str, replacement: str | None) -> None:
    """Run the task's test cell as the student sees it; AssertionError when a check fails."""
    namespace = _namespace_with(assignment, replacement)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(_test_source(assignment, grade_id), f"<{grade_id}>", "exec"), namespace)


def _verdict(assignment: str, grade_id: str, replacement: str | None) -> str:
    """The hidden test's verdict ('' when it passes), probing in this process."""
    namespace = _namespace_with(assignment, replacement)
    with contextlib.redirect_stdout(io.StringIO()):
        got = verdicts.in_process(_hidden_source(assignment), namespace)[grade_id]
    verdict = verdicts.load_verdicts(_hidden_source(assignment))[grade_id]
    return verdicts.decide(verdict, got, _reference(assignment)[grade_id])


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_test_cell_has_mutants_and_a_hidden_test(assignment):
    """A check that no typical mistake trips might be a check that cannot fail; a test cell
    without a verdict would be decided inside the student's kernel alone."""
    mutants, _, hidden_only = _spec(assignment)
    ids = {c.metadata.nbgrader.grade_id
           for c in course.graded_test_cells(course.read(course.solution_notebook(assignment)))}
    missing = sorted(i for i in ids if not mutants.get(i))
    assert not missing, f"{assignment}: no mutants for {missing} in tests/mutants/{assignment}.py"
    unknown = sorted(set(mutants) - ids)
    assert not unknown, f"{assignment}: mutants name unknown test cells {unknown}"
    source = _hidden_source(assignment)
    assert source, f"{assignment}: no solutions/{assignment}/hidden_tests.py"
    from grading import probe_runtime

    assert set(probe_runtime.probes(source)) == ids, f"{assignment}: probes != test cells"
    assert set(verdicts.load_verdicts(source)) == ids, f"{assignment}: verdicts != test cells"
    stray = {g: set(d) - set(mutants.get(g, {})) for g, d in hidden_only.items()}
    assert not any(stray.values()), f"{assignment}: HIDDEN_ONLY names unknown mutants {stray}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_solution_passes_its_own_checks_and_verdicts(assignment):
    notebook = course.read(course.solution_notebook(assignment))
    for cell in course.graded_test_cells(notebook):
        grade_id = cell.metadata.nbgrader.grade_id
        _visible(assignment, grade_id, None)
        assert _verdict(assignment, grade_id, None) == "", grade_id


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(1)))
def test_correct_variant_passes(assignment, grade_id, description):
    source = _spec(assignment)[1][grade_id][description]
    _visible(assignment, grade_id, source)
    assert _verdict(assignment, grade_id, source) == ""


@pytest.mark.parametrize("assignment, grade_id, description", list(_cases(0)))
def test_mutant_fails_with_message(assignment, grade_id, description):
    mutants, _, hidden_only = _spec(assignment)
    source = mutants[grade_id][description]
    message = _verdict(assignment, grade_id, source)
    assert len(message) > 30, f"the verdict for '{description}' explains nothing: {message!r}"
    if description in hidden_only.get(grade_id, ()):
        _visible(assignment, grade_id, source)  # listed as hidden-only: the list stays exact
        return
    with pytest.raises(AssertionError) as failure:
        _visible(assignment, grade_id, source)
    assert len(str(failure.value)) > 20, (
        f"the failure for '{description}' explains nothing: {failure.value!r}")
