"""Wall time of every solution notebook per mode (nbclient, a fresh kernel each), what the live
training view costs per training cell, and autograde seconds per submission when a class is
graded with `grading` (throwaway courses)."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import statistics
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


# Runs in the kernel before the notebook: record each fit a LiveTraining view watches (the
# cell it ran in, its time budget, seconds training and drawing the final frame, how far it got).
_FIT_RECORDER = """import json as _json, time as _time, common.plotting as _plotting
from IPython import get_ipython as _get_ipython
_plotting.fit_records = []
_untimed_end = _plotting.LiveTraining.on_train_end
def _recorded_end(self, logs=None):
    ended = _time.perf_counter()
    _untimed_end(self, logs)
    _plotting.fit_records.append({
        "execution_count": _get_ipython().execution_count, "budget": self._budget,
        "training_seconds": round(ended - self._start, 2),
        "final_frame_seconds": round(_time.perf_counter() - ended, 2),
        "stopped_at_budget": self.stopped_at_budget, "epochs": round(self.epochs_trained, 2),
        "epochs_planned": self._epochs, "title": self.title,
        "last": {k: round(v[-1], 4) for k, v in self.history.items() if v}})
_plotting.LiveTraining.on_train_end = _recorded_end
print(_get_ipython().execution_count)  # the kernel's count, against the cell's In [n]"""
_FIT_RECORDS = "print(_json.dumps(_plotting.fit_records))"


def time_notebook(assignment: str, mode: str, timeout: int = 900,
                  source: Path | None = None) -> dict:
    """Run a solution notebook top to bottom in a fresh kernel, in a temp copy of its folder
    (so files it writes stay out of the repository), with COURSE_MODE=`mode`, offline. Also
    returns each training cell's fits (`training_cells`): its time budget, seconds training
    and drawing the final frame, and the epochs and last metrics it reached. `source`: another
    notebook than the assignment's solution."""
    import nbclient
    import nbformat

    source = source or course.solution_notebook(assignment)
    notebook = nbformat.read(str(source), as_version=4)
    env = dict(os.environ, COURSE_MODE=mode, COURSE_OFFLINE="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    # A cell before the notebook's and one after, taken out before reading the cells' times.
    notebook.cells = ([nbformat.v4.new_code_cell(_FIT_RECORDER)] + notebook.cells
                      + [nbformat.v4.new_code_cell(_FIT_RECORDS)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / source.parent.name
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
    records = notebook.cells.pop().get("outputs", [])
    recorder = notebook.cells.pop(0)
    fits = json.loads(records[0]["text"]) if records and "text" in records[0] else []
    # IPython may count a running cell one ahead of the In [n] the cell gets.
    ahead = int(recorder.outputs[0]["text"]) - recorder.execution_count if fits else 0
    cells = [(i, _cell_seconds(c)) for i, c in enumerate(notebook.cells)
             if c.cell_type == "code"]
    timed = [(i, s) for i, s in cells if s is not None]
    longest = max(timed, key=lambda item: item[1], default=(None, 0.0))
    by_count = {c.get("execution_count"): i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code"}
    training = {}
    for fit in fits:
        index = by_count.get(fit.pop("execution_count") - ahead)
        training.setdefault(index, {"cell": index, "cell_seconds": dict(timed).get(index),
                                    "fits": []})["fits"].append(fit)
    return {"assignment": assignment, "mode": mode, "seconds": seconds, "error": error,
            "longest_cell": longest[0], "longest_cell_seconds": longest[1],
            "cells_over_60s": sum(s > LONG_CELL_SECONDS for _, s in timed),
            "cell_seconds": {i: round(s, 2) for i, s in timed},
            "training_cells": list(training.values())}


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
                         "solution_check_seconds": timing.get("solution_check_seconds"),
                         "graded": sum(r.status == "graded" for r in runs),
                         "load_before": timing["load_average_before"]})
    return {"assignment": assignment, "rounds": rows}


# Runs in the kernel: turn the live view's drawing off or back on for the next cells, and clock
# each frame LiveTraining draws (on the training thread, between batches) from here on.
_LIVE_SWITCH = """import common.runtime as _runtime, common.plotting as _plotting, time as _time
_runtime.__dict__.setdefault("_kernel_check", _runtime.in_jupyter_kernel)
_runtime.in_jupyter_kernel = {}
if not hasattr(_plotting, "_untimed_draw"):
    _plotting._untimed_draw = _plotting.LiveTraining._draw
    def _timed_draw(self, *args, **kwargs):
        start = _time.perf_counter()
        try:
            return _plotting._untimed_draw(self, *args, **kwargs)
        finally:
            _plotting.frame_seconds.append(_time.perf_counter() - start)
    _plotting.LiveTraining._draw = _timed_draw
_plotting.frame_seconds = []"""
_FRAMES = "print(_plotting.frame_seconds)"


def training_cells(source: Path) -> list[int]:
    """Indices of the notebook's cells that show a LiveTraining view, found by running it in
    `test` mode (quick) and reading the outputs."""
    notebook = _run(source, "test")[0]
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            and any("LiveTraining:" in str(output.get("data", {}).get("text/plain", ""))
                    for output in cell.get("outputs", []))]


def _run(source: Path, mode: str, timeout: int = 900, each_twice: tuple[int, ...] = (),
         pairs: int = 1):
    """Run a notebook in a fresh kernel in a temp copy of its folder; return it with
    {cell index: [(live view on?, seconds, [seconds per frame drawn]), ...]} for the cells in
    `each_twice`, which run `pairs` times twice in a row: once with the live view drawing and
    once without, the order alternating from one pair to the next (so neither side always runs
    first)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(str(source), as_version=4)
    env = dict(os.environ, COURSE_MODE=mode, COURSE_OFFLINE="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    timings: dict[int, list[tuple[bool, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / source.parent.name
        shutil.copytree(source.parent, folder)
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(folder)}})
        with client.setup_kernel(env=env):
            for index, cell in enumerate(list(notebook.cells)):
                if cell.cell_type != "code":
                    continue
                if index not in each_twice:
                    client.execute_cell(cell, index)
                    continue
                order = []
                for pair in range(pairs):
                    first_on = (len(timings) + pair) % 2 == 0
                    order += [first_on, not first_on]
                for live in order:
                    # Each run is a fresh copy at the end of the notebook: nbclient keeps
                    # in-place display updates by cell index, so one index must not run twice.
                    switch = nbformat.v4.new_code_cell(_LIVE_SWITCH.format(
                        "_runtime._kernel_check" if live else "lambda: False"))
                    run = nbformat.v4.new_code_cell(cell.source)
                    notebook.cells += [switch, run]
                    client.execute_cell(switch, len(notebook.cells) - 2)
                    start = time.perf_counter()
                    client.execute_cell(run, len(notebook.cells) - 1)
                    seconds = time.perf_counter() - start
                    clock = nbformat.v4.new_code_cell(_FRAMES)
                    notebook.cells.append(clock)
                    client.execute_cell(clock, len(notebook.cells) - 1)
                    frames = json.loads(clock.outputs[0]["text"])
                    timings.setdefault(index, []).append((live, seconds, frames))
    return notebook, timings


def time_live_view(assignment: str, mode: str = "demo", source: Path | None = None,
                   pairs: int = 1) -> dict:
    """What the live training view costs: each training cell (found in test mode) of the
    assignment's solution notebook (or of `source`) runs `pairs` times twice in `mode`, with
    the view drawing and without (its callback then only records), side by side in one
    kernel. Each run starts from the previous run's state; in these notebooks every training
    cell builds its models afresh, so all runs train alike. Reported: the median seconds of
    each side, the median of the pairs' ratios (a single pair varies by 10-20% on a shared
    machine) and, with the view on, the median share of the cell's time spent drawing: the
    view's whole cost to the cell, measured inside the run and free of that noise (the view
    draws on the training thread between batches; with it off, the callback still runs and
    samples). Also: the frames each run with the view drew, and the dearest frame's seconds."""
    source = source or course.solution_notebook(assignment)
    cells = training_cells(source)
    _, timings = _run(source, mode, each_twice=tuple(cells), pairs=pairs)
    rows = []
    for index in cells:
        runs = timings[index]
        off = [seconds for live, seconds, _ in runs if not live]
        on = [seconds for live, seconds, _ in runs if live]
        drawn = [frames for live, _, frames in runs if live]
        ratios = [b / a for a, b in zip(off, on)]
        rows.append({"cell": index, "pairs": pairs,
                     "seconds_off": round(statistics.median(off), 2),
                     "seconds_on": round(statistics.median(on), 2),
                     "ratio": round(statistics.median(ratios), 3),
                     "ratios": [round(r, 3) for r in ratios],
                     "drawing_share": round(statistics.median(
                         sum(frames) / seconds for live, seconds, frames in runs if live), 4),
                     "frames": [len(frames) for frames in drawn],
                     "dearest_frame": round(max(max(frames) for frames in drawn), 3),
                     "first": "on" if runs[0][0] else "off"})
    return {"assignment": assignment, "mode": mode, "cells": rows}
