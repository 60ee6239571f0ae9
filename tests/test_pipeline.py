"""The nbgrader pipeline, generic over every assignment under solutions/:
exercises are in sync, notebooks are clean and parse, and autograding gives the solution full
marks and the untouched exercise zero without hanging."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

import pytest

import course

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402

ASSIGNMENTS = course.assignments()


def test_assignments_found():
    assert "00_setup" in ASSIGNMENTS, f"expected 00_setup among {ASSIGNMENTS}"


def _all_notebooks():
    return sorted(course.SOLUTIONS.glob("*/*.ipynb")) + sorted(course.EXERCISES.glob("*/*.ipynb"))


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: str(p.relative_to(course.REPO)))
def test_committed_notebook_has_no_outputs(path):
    stale = [i for i, cell in enumerate(course.read(path).cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not stale, f"{path.name}: cells {stale} carry outputs; clear them before committing"


def test_committed_notebooks_pass_the_output_filter_unchanged():
    """The clean filter of .gitfilters (with its extra keys) leaves every committed notebook
    as it is, so switching it on does not make a clean clone look modified."""
    filters = _filters()
    command = (f"{filters['clean']} --verify --extra-keys '{filters['extrakeys']}' "
               + " ".join(f"'{path}'" for path in _all_notebooks()))
    result = subprocess.run(command, shell=True, capture_output=True, text=True,
                            env=_filter_env())
    assert result.returncode == 0, f"the filter would change: {result.stdout}{result.stderr}"


def test_a_rehearsal_adds_nothing_to_git(tmp_path):
    """A lecturer's rehearsal (issue 15): with the documented command, a notebook run and
    saved with its outputs shows no diff and `git add` stages nothing; without it, the same
    save is a change. (`git status` may still list the file until that `git add`: git skips
    the filter when a file's size changed.)"""
    from nbclient import NotebookClient

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                               *args], cwd=tmp_path, capture_output=True, text=True,
                              check=True, env=_filter_env()).stdout

    for name in (".gitattributes", ".gitfilters"):
        shutil.copy(course.REPO / name, tmp_path / name)
    notebook = tmp_path / "setup.ipynb"
    shutil.copy(course.solution_notebook("00_setup"), notebook)
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "start")
    ran = course.read(notebook)
    NotebookClient(ran, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert any(cell.get("outputs") for cell in ran.cells), "the rehearsal made no outputs"
    nbformat.write(ran, str(notebook))
    assert "outputs" in git("diff"), "without the filter the outputs are a change"
    git("config", "include.path", "../.gitfilters")
    assert git("diff") == ""
    git("add", "-A")
    assert git("status", "--porcelain") == "" and git("diff", "--cached") == ""


def test_a_release_after_a_rehearsal_changes_no_exercise(tmp_path, monkeypatch, capsys):
    """`python -m grading release` from a solution saved with outputs and a kernel's run-time
    metadata (a rehearsal) writes the committed exercise, and keeps no gradebook."""
    from grading import course_folder

    course.make_course(tmp_path, "00_setup")
    shutil.copy(course.REPO / ".gitfilters", tmp_path / ".gitfilters")
    source = tmp_path / "solutions" / "00_setup" / "setup.ipynb"
    ran = course.read(source)
    for cell in ran.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="rehearsed\n")]
            cell.execution_count = 1
    ran.metadata["language_info"] = {"name": "python", "version": "3.11.2",
                                     "mimetype": "text/x-python", "file_extension": ".py"}
    nbformat.write(ran, str(source))
    monkeypatch.setattr(course_folder, "REPO", tmp_path)
    course_folder.release(["00_setup"])
    released = tmp_path / "exercises" / "00_setup" / "setup.ipynb"
    committed = course.EXERCISES / "00_setup" / "setup.ipynb"
    assert released.read_bytes() == committed.read_bytes()
    assert "no gradebook kept" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.db"))


def _filter_env() -> dict[str, str]:
    """PATH with this environment's python first: the filter runs `python -m nbstripout`."""
    return dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")]))


def _filters() -> dict[str, str]:
    """The nbstripout filter's settings in .gitfilters."""
    import configparser

    config = configparser.ConfigParser()
    config.read(course.REPO / ".gitfilters")
    return dict(config['filter "nbstripout"'])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_code_cell_parses(assignment):
    path = course.EXERCISES / assignment / course.solution_notebook(assignment).name
    for index, cell in enumerate(course.read(path).cells):
        if cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines()
                     if not line.lstrip().startswith(("%", "!"))]  # IPython magics
            try:
                ast.parse("\n".join(lines))
            except SyntaxError as error:
                pytest.fail(f"{path.name} cell {index} does not parse: {error}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_is_graded_and_stubbed(assignment):
    """Each solution cell has a stub in the exercise, and there are tests worth points."""
    solution = course.read(course.solution_notebook(assignment))
    tests = course.graded_test_cells(solution)
    assert tests, f"{assignment}: no autograded test cells"
    assert all(course.nbgrader_meta(c).get("points", 0) > 0 for c in tests)
    name = course.solution_notebook(assignment).name
    exercise = course.read(course.EXERCISES / assignment / name)
    for cell in exercise.cells:
        meta = course.nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            assert "raise NotImplementedError()" in cell.source, (
                f"{assignment}: solution cell {meta['grade_id']} leaks its answer")
            assert "BEGIN SOLUTION" not in cell.source
        if meta.get("grade") and not meta.get("solution"):
            assert "BEGIN HIDDEN TESTS" not in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_in_sync_with_solution(assignment, tmp_path):
    """Regenerating with nbgrader (temp course, temp gradebook) gives the committed exercise."""
    course.make_course(tmp_path, assignment)
    course.nbgrader(tmp_path, "generate_assignment", assignment, "--force")
    name = course.solution_notebook(assignment).name
    generated = course.read(tmp_path / "exercises" / assignment / name)
    committed = course.read(course.EXERCISES / assignment / name)
    fix = f"run `nbgrader generate_assignment {assignment} --force` and commit exercises/"
    assert len(generated.cells) == len(committed.cells), f"cell count differs; {fix}"
    for index, (new, old) in enumerate(zip(generated.cells, committed.cells)):
        assert new == old, f"{assignment}/{name} cell {index} is out of date; {fix}"
    assert generated.metadata == committed.metadata, f"notebook metadata differs; {fix}"
    extra = {p.name for p in (course.EXERCISES / assignment).iterdir()} - {
        p.name for p in (tmp_path / "exercises" / assignment).iterdir()}
    assert not extra, f"files in exercises/{assignment} not produced by nbgrader: {extra}"


def _test_cell_scores(root, assignment, student, test_ids):
    """(score, max) of each autograded test cell of one student's submission."""
    from nbgrader.api import Gradebook

    name = course.solution_notebook(assignment).stem
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(name, assignment, student)
        return {g.name: (g.auto_score, g.max_score) for g in notebook.grades
                if g.name in test_ids}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograde_solution_full_marks_exercise_zero(assignment, tmp_path):
    """Plain `nbgrader autograde` with the repository's config (sandbox and verdicts included):
    the solution, and the same answers warning on every call (hostile.noisy), score full marks;
    one wrong answer to a task that later tasks call costs that task alone.
    The assignments graded as a hostile class in test_grading.py, whose solution, noisy answers
    and untouched exercise are checked there, are skipped: CI time."""
    if assignment in course.class_graded_assignments():
        pytest.skip("graded with the solution and the untouched exercise in test_grading.py")
    course.make_course(tmp_path, assignment)
    course.nbgrader(tmp_path, "generate_assignment", assignment, "--force")
    name = course.solution_notebook(assignment).name
    for student, source in (("solution", course.solution_notebook(assignment)),
                            ("untouched", tmp_path / "exercises" / assignment / name)):
        folder = tmp_path / "submitted" / student / assignment
        folder.mkdir(parents=True)
        shutil.copy(source, folder / name)
    early = hostile.early_mistake(assignment)
    for student, notebook in (("noisy", hostile.noisy(assignment)),
                              ("early_mistake", early and early[0])):
        if notebook is not None:
            (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
            nbformat.write(notebook, str(tmp_path / "submitted" / student / assignment / name))
    course.nbgrader(tmp_path, "autograde", assignment)

    expected = {c.metadata.nbgrader.grade_id for c in course.graded_test_cells(
        course.read(course.solution_notebook(assignment)))}
    full = _test_cell_scores(tmp_path, assignment, "solution", expected)
    assert set(full) == expected
    lost = {k: v for k, v in full.items() if v[0] != v[1]}
    assert not lost, f"the solution loses points in {lost} (score, max)"
    noisy = _test_cell_scores(tmp_path, assignment, "noisy", expected)
    lost = {k: v for k, v in noisy.items() if v[0] != v[1]}
    assert not lost, f"correct answers that warn lose points in {lost} (score, max)"
    graded = course.read(tmp_path / "autograded" / "noisy" / assignment / name)
    warned = [c for c in course.graded_test_cells(graded) if any(
        o.output_type == "stream" and o.name == "stderr" for o in c.get("outputs", []))]
    assert warned, "the noisy answers' warnings should show in the test cells that call them"
    if early is not None:  # one mistake in a task later tasks call costs that task only
        scores = _test_cell_scores(tmp_path, assignment, "early_mistake", expected)
        wrong = {k: v for k, v in scores.items() if v[0] != (0 if k == early[1] else v[1])}
        assert not wrong, f"a mistake in {early[1]} alone gives (score, max) {wrong}"

    untouched = _test_cell_scores(tmp_path, assignment, "untouched", expected)
    assert set(untouched) == expected
    earned = {k: v for k, v in untouched.items() if v[0] != 0}
    assert not earned, f"the untouched exercise earns points in {earned} (score, max)"
    graded = course.read(tmp_path / "autograded" / "untouched" / assignment / name)
    errors = [o.ename for c in graded.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert "CellTimeoutError" not in errors, "a cell of the untouched exercise hit the timeout"
    assert "NotImplementedError" in errors, "the untouched exercise should stop on its stubs"
