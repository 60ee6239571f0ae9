"""Wall time of every solution notebook per mode (nbclient, a fresh kernel each), and autograde
seconds per submission when a class is graded with `grading` (throwaway courses)."""

from __future__ import annotations

import datetime
import json
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


def time_class_autograde(assignment: str, class_size: int, jobs: tuple[int, ...] = (1, 2)
                         ) -> dict:
    """Grade a class of `class_size` complete submissions (copies of the solution notebook, so
    every cell runs: the slowest honest case) with the instructor's command,
    `python -m grading` collect then autograde, once per entry of `jobs` (students graded at
    once), each in a fresh throwaway course. Seconds per submission are wall time over the
    class (nbgrader's start-up included; releasing the assignment excluded)."""
    from grading import collect, parallel

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        submissions.mkdir()
        solution = course.solution_notebook(assignment)
        for number in range(1, class_size + 1):
            shutil.copyfile(solution, submissions / f"student{number:02d}.ipynb")
        for parallel_jobs in jobs:
            root = Path(tmp) / f"course-jobs{parallel_jobs}"
            collect.collect(submissions, assignment, root)
            runs = parallel.autograde(root, assignment, jobs=parallel_jobs)
            timing = json.loads((root / "logs" / assignment / "autograde.json").read_text())
            rows.append({"assignment": assignment, "jobs": timing["jobs"],
                         "students": timing["students"], "wall_seconds": timing["wall_seconds"],
                         "seconds_per_submission": timing["seconds_per_submission"],
                         "graded": sum(r.status == "graded" for r in runs),
                         "load_before": timing["load_average_before"]})
    return {"assignment": assignment, "rounds": rows}
