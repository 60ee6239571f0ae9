"""Helpers shared by the pipeline tests: find assignments, run nbgrader in a temp course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = REPO / "solutions", REPO / "exercises"


def assignments() -> list[str]:
    """Every assignment id: a folder of solutions/ holding a notebook."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def class_graded_assignments() -> list[str]:
    """The assignments tests/test_grading.py grades as a class of hostile submissions:
    00_setup and a training assignment (GRADING_TEST_ASSIGNMENTS=all, or a comma-separated
    list, chooses others)."""
    found = assignments()
    wanted = os.environ.get("GRADING_TEST_ASSIGNMENTS", "")
    if wanted == "all":
        return found
    if wanted:
        return [a for a in wanted.split(",") if a in found]
    second = [a for a in ("04_gan", "02_vae", "01_autoencoders", "03_elbo") if a in found][:1]
    return ["00_setup", *second]


def solution_notebook(assignment: str) -> Path:
    """The one solution notebook of an assignment."""
    (path,) = sorted((SOLUTIONS / assignment).glob("*.ipynb"))
    return path


def read(path: Path) -> nbformat.NotebookNode:
    """A notebook, read as nbformat 4."""
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata (empty for ordinary cells)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_test_cells(notebook) -> list:
    """The autograded test cells: code cells with grade=True and solution=False."""
    return [c for c in notebook.cells if c.cell_type == "code"
            and nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]


def make_course(root: Path, assignment: str) -> Path:
    """A throwaway nbgrader course in `root` holding one assignment's source; returns the db."""
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS / assignment, root / "solutions" / assignment)
    return root / "gradebook.db"


def nbgrader(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run an nbgrader command in course `root` with its own gradebook; fail with its log."""
    db = f"--db=sqlite:///{root / 'gradebook.db'}"
    # nbgrader runs `alembic` from PATH to create a gradebook: use this environment's.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, db], cwd=root, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result


def solution_namespace(assignment: str) -> dict:
    """Globals after running, in-process and in `test` mode, the solution notebook's first code
    cell (imports and setup) and its solution cells (the definitions): what a test cell may
    rely on."""
    from grading.references import definitions

    return definitions(solution_notebook(assignment), mode="test")


# ---- the task checks as the grader runs them, in-process (mutant and grading tests) ----------

_namespaces: dict[str, list] = {}  # compiled definitions
_references: dict[tuple[str, int], tuple] = {}
TEST_SEED = 20261206  # the probe seed of in-process verdicts (a class run draws its own)


def hidden(assignment: str):
    """The assignment's hidden tests (solutions/<assignment>/hidden_tests/)."""
    from grading import verdicts

    return verdicts.load_hidden(SOLUTIONS / assignment)


def hidden_source(assignment: str) -> str:
    """The text of the assignment's hidden tests, both sides (probes.py and verdicts.py)."""
    folder = SOLUTIONS / assignment / "hidden_tests"
    return "\n".join((folder / name).read_text() for name in ("probes.py", "verdicts.py"))


def test_cell_source(assignment: str, grade_id: str) -> str:
    (cell,) = [c for c in graded_test_cells(read(solution_notebook(assignment)))
               if c.metadata.nbgrader.grade_id == grade_id]
    return cell.source


def namespace_with(assignment: str, replacement: str | None) -> dict:
    """The solution's definitions, run afresh (so the solution's functions look up their
    globals, a replaced earlier task included, in this namespace), with `replacement` (a
    mutant, variant or attack) run on top."""
    import contextlib
    import io

    from grading import references

    if assignment not in _namespaces:
        _namespaces[assignment] = references.definition_code(solution_notebook(assignment))
    namespace = references.run_definitions(_namespaces[assignment])
    if replacement is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(replacement, "<replacement>", "exec"), namespace)
    return namespace


def run_visible(assignment: str, grade_id: str, replacement: str | None) -> str:
    """Run the task's test cell as students see it and return what it printed (a notice
    included); AssertionError when a check fails. The earlier test cells that define a task's
    checks (`def check_...`, which later cells use to see whether that task is ready) run first,
    as in the notebook, whatever they raise."""
    import contextlib
    import io
    import warnings

    namespace = namespace_with(assignment, replacement)
    cells = graded_test_cells(read(solution_notebook(assignment)))
    ids = [c.metadata.nbgrader.grade_id for c in cells]
    for earlier in cells[:ids.index(grade_id)]:
        if "def check_" in earlier.source:
            with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # they belong to the earlier cell
                exec(compile(earlier.source, f"<{earlier.metadata.nbgrader.grade_id}>", "exec"),
                     namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(test_cell_source(assignment, grade_id), f"<{grade_id}>", "exec"), namespace)
    return printed.getvalue()


def reference(assignment: str, seed: int = TEST_SEED) -> tuple[dict, dict, dict]:
    """(inputs, records, tables) of the solution's probes for `seed`: what every verdict
    compares with, and what the probes lend of earlier tasks."""
    import contextlib
    import io

    from grading import verdicts

    if (assignment, seed) not in _references:
        inputs = hidden(assignment).probe_inputs(seed)
        with contextlib.redirect_stdout(io.StringIO()):
            records, tables = verdicts.in_process(hidden(assignment),
                                                  namespace_with(assignment, None), inputs)
        _references[assignment, seed] = inputs, records, tables
    return _references[assignment, seed]


def probe_record(assignment: str, grade_id: str, replacement: str | None,
                 seed: int = TEST_SEED):
    """The record of the hidden test's probe run against the solution's definitions with
    `replacement` on top, in this process, as a student's kernel would make it."""
    import contextlib
    import io

    from grading import verdicts

    inputs, _, tables = reference(assignment, seed)
    namespace = namespace_with(assignment, replacement)
    with contextlib.redirect_stdout(io.StringIO()):
        got, _ = verdicts.in_process(hidden(assignment), namespace, inputs, tables,
                                     only=grade_id)
    return got[grade_id]


def verdict_message(assignment: str, grade_id: str, replacement: str | None,
                    seed: int = TEST_SEED) -> str:
    """The hidden test's verdict as the grader decides it ('' when it passes), probing (and
    training a design task's design) in this process."""
    from grading import trials, verdicts

    inputs, records, _ = reference(assignment, seed)
    got = probe_record(assignment, grade_id, replacement, seed)
    folder = hidden(assignment).folder
    if grade_id in trials.trial_ids(folder) and not got.failure:  # the grader trains the design
        got.trial = trials.in_process(folder, grade_id, got, inputs.get(grade_id))
    return verdicts.decide(hidden(assignment).verdicts[grade_id], got, records[grade_id],
                           inputs.get(grade_id))


# ---- a small graded class (the browser and report tests) --------------------------------------

def grade_class(root: Path, assignment: str, notebooks: dict, timeout: int = 60,
                jobs: int = 2) -> Path:
    """Grade a class with one `python -m grading run` (collect, autograde, export, feedback,
    report), as tests/test_grading.py does: `notebooks` maps a student id to the notebook
    (an nbformat node, or the path of a notebook file) that student hands in. Returns the
    course folder (root/course); fails with the run's output."""
    folder, course_dir = root / "submissions", root / "course"
    folder.mkdir(parents=True, exist_ok=True)
    for student, notebook in notebooks.items():
        if isinstance(notebook, Path):
            (folder / f"{student}.ipynb").write_bytes(notebook.read_bytes())
        else:
            nbformat.write(notebook, str(folder / f"{student}.ipynb"))
    result = subprocess.run(
        [sys.executable, "-m", "grading", "run", assignment, str(folder), "--course",
         str(course_dir), "--jobs", str(jobs), "--timeout", str(timeout)],
        capture_output=True, text=True, timeout=1500, cwd=REPO)
    assert result.returncode == 0, (f"grading {assignment} failed:\n{result.stdout[-3000:]}\n"
                                    f"{result.stderr[-3000:]}")
    return course_dir


def with_answer(notebook, grade_id: str, extra: str):
    """A copy of `notebook` with `extra` appended to the answer cell `grade_id` (a mutant that
    replaces the function it defines, an attack)."""
    changed = nbformat.from_dict(notebook)
    (cell,) = [c for c in changed.cells if nbgrader_meta(c).get("grade_id") == grade_id
               and nbgrader_meta(c).get("solution")]
    cell.source += "\n\n" + extra + "\n"
    return changed


def elbo_class(root: Path) -> Path:
    """03_elbo (the assignment with the most task columns) graded for four students: the
    solution; `blank`, the released exercise untouched (Task 2 unfinished, so the visible
    checks of Tasks 3 and 6, which call it, skip); `hidden_mistake`, Task 4 right only for
    orthogonal W (a mistake only the hidden verdict catches: a genuine disagreement); and
    `patched_checks`, Task 1 wrong with every visible check replaced by one that passes
    (tampering: its cell passes in the notebook, its verdict fails)."""
    import importlib.util

    sys.path.insert(0, str(REPO / "tests" / "fixtures" / "grading"))
    import hostile

    solution = hostile.answered("03_elbo")
    spec = importlib.util.spec_from_file_location("mutants_03_elbo",
                                                  REPO / "tests" / "mutants" / "03_elbo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    orthogonal = module.MUTANTS["test_exact_log_marginal"][
        "relies on orthogonal columns of W (wrong for a general W)"]
    swapped = module.MUTANTS["test_kl_diagonal_gaussians"]["p and q swapped"]
    notebooks = {
        "solution": solution,
        "blank": EXERCISES / "03_elbo" / solution_notebook("03_elbo").name,
        "hidden_mistake": with_answer(solution, "exact_log_marginal", orthogonal),
        "patched_checks": with_answer(solution, "kl_diagonal_gaussians",
                                      swapped + "\n\n" + hostile.PATCH_CHECKS),
    }
    return grade_class(root, "03_elbo", notebooks)
