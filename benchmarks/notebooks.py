"""Wall time of every solution notebook per mode (nbclient, a fresh kernel each), and nbgrader
autograde seconds per submission (a throwaway course, as tests/course.py sets one up)."""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/course.py: assignments and nbgrader helpers

import course  # noqa: E402

LONG_CELL_SECONDS = 60.0


def _cell_seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))
            ).total_seconds()


def time_notebook(assignment: str, mode: str, timeout: int = 900) -> dict:
    """Run a solution notebook top to bottom in a fresh kernel, in a temp copy of its folder
    (so files it writes stay out of the repository), with COURSE_MODE=`mode`, offline."""
    import nbclient
    import nbformat

    source = course.solution_notebook(assignment)
    notebook = nbformat.read(str(source), as_version=4)
    env = dict(os.environ, COURSE_MODE=mode, COURSE_OFFLINE="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / assignment
        shutil.copytree(source.parent, folder)
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(folder)}})
        start = time.perf_counter()
        error = None
        try:
            client.execute(env=env)
        except Exception as failure:  # Report the failure in the table, keep benchmarking.
            error = f"{type(failure).__name__}: {str(failure).strip().splitlines()[-1][:200]}"
        seconds = time.perf_counter() - start
    cells = [(i, _cell_seconds(c)) for i, c in enumerate(notebook.cells)
             if c.cell_type == "code"]
    timed = [(i, s) for i, s in cells if s is not None]
    longest = max(timed, key=lambda item: item[1], default=(None, 0.0))
    return {"assignment": assignment, "mode": mode, "seconds": seconds, "error": error,
            "longest_cell": longest[0], "longest_cell_seconds": longest[1],
            "cells_over_60s": sum(s > LONG_CELL_SECONDS for _, s in timed),
            "cell_seconds": {i: round(s, 2) for i, s in timed}}


def time_autograde(assignment: str, students: tuple[str, ...] = ("solution", "untouched")
                   ) -> dict:
    """Seconds of `nbgrader autograde` for one submission at a time: the solution (full marks)
    and the untouched exercise (stops on its stubs), in a throwaway course, test mode."""
    saved = {k: os.environ.get(k) for k in ("COURSE_MODE", "COURSE_OFFLINE")}
    os.environ.update(COURSE_MODE="test", COURSE_OFFLINE="1")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            course.make_course(root, assignment)
            course.nbgrader(root, "generate_assignment", assignment, "--force")
            name = course.solution_notebook(assignment).name
            submissions = {"solution": course.solution_notebook(assignment),
                           "untouched": root / "exercises" / assignment / name}
            seconds = {}
            for student in students:
                path = submissions[student]
                folder = root / "submitted" / student / assignment
                folder.mkdir(parents=True)
                shutil.copy(path, folder / name)
                start = time.perf_counter()
                course.nbgrader(root, "autograde", assignment, "--student", student)
                seconds[student] = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"assignment": assignment, **{f"{k}_seconds": v for k, v in seconds.items()}}
