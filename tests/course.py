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
