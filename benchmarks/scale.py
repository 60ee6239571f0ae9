"""Grading at scale: one class of generated submissions of a fast assignment graded locally
(`--jobs 2`) with the SQLite and with a PostgreSQL gradebook, and on a local Dask cluster of 2
workers (PostgreSQL), side by side on this machine; the gradebook's share of the time; and what
1,000 students would take on 10 and 50 workers, from the measured cost per task and the
scheduler's overhead per task. On one machine PostgreSQL's server shares the cores with the
kernels, so the cluster's own overhead is the cluster against the local run with PostgreSQL.

The class cycles through a complete submission, one with a typical mistake and a blank one (the
released exercise). The cluster and PostgreSQL come from tests/services.py (separate processes
on 127.0.0.1); PostgreSQL's server must be installed (Debian: postgresql)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "fixtures" / "grading")]

import course  # noqa: E402
import hostile  # noqa: E402
import nbformat  # noqa: E402
import services  # noqa: E402

PROJECTED_STUDENTS = 1000
PROJECTED_WORKERS = (10, 50)
OVERHEAD_TASKS = 2000  # no-op tasks timed for the scheduler's overhead per task


def _class(folder: Path, assignment: str, size: int) -> dict[str, int]:
    """`size` submissions: complete, one mistake, blank, in turn. Returns how many of each."""
    folder.mkdir(parents=True)
    solution = hostile.answered(assignment)
    answer, test = hostile.target(solution)
    _, mutant, _ = hostile.pick_mutant(assignment,
                                       course.nbgrader_meta(solution.cells[test])["grade_id"])
    wrong = nbformat.from_dict(solution)
    wrong.cells[answer].source += "\n\n" + mutant
    blank = course.read(course.EXERCISES / assignment / course.solution_notebook(
        assignment).name)
    kinds = [("complete", solution), ("mistake", wrong), ("blank", blank)]
    counts = dict.fromkeys([k for k, _ in kinds], 0)
    for number in range(size):
        kind, notebook = kinds[number % len(kinds)]
        nbformat.write(notebook, str(folder / f"{kind}{number:04d}.ipynb"))
        counts[kind] += 1
    return counts


def _db_seconds(path: Path) -> float:
    if not path.exists():
        return 0.0
    return sum(float(line.split()[1]) for line in path.read_text().splitlines() if line.strip())


def _grade(root: Path, submissions: Path, assignment: str, seed: int, **where) -> dict:
    """collect + autograde one class; the run's timing and the gradebook's seconds."""
    from grading import collect, course_folder, parallel

    timing_file = root / "db-seconds.txt"
    os.environ["GRADING_DB_SECONDS"] = str(timing_file)
    try:
        if where.get("db"):
            course_folder.use_database(root, where["db"])
        collect.collect(submissions, assignment, root)
        course_folder.prepare_course(root, assignment)
        runs = parallel.autograde(root, assignment, jobs=where.get("jobs", 2), seed=seed,
                                  cluster=where.get("cluster"))
    finally:
        os.environ.pop("GRADING_DB_SECONDS", None)
    timing = json.loads((root / "logs" / assignment / "autograde.json").read_text())
    task_seconds = [r["seconds"] for r in timing["runs"] if r["status"] == "graded"]
    database = _db_seconds(timing_file)
    return {"students": timing["students"], "wall_seconds": timing["wall_seconds"],
            "seconds_per_submission": timing["seconds_per_submission"],
            "solution_check_seconds": timing["solution_check_seconds"],
            "graded": sum(r.status == "graded" for r in runs),
            "task_seconds_median": round(statistics.median(task_seconds), 2),
            "database_seconds_per_submission": round(database / max(1, len(runs)), 3),
            "database_share": round(database / max(1e-9, sum(task_seconds)), 4),
            "load_before": timing["load_average_before"],
            "load_after": timing["load_average_after"]}


def _scheduler_overhead(address: str) -> float:
    """Seconds per task the scheduler adds: OVERHEAD_TASKS no-op tasks, submitted at once."""
    from distributed import Client, wait

    with Client(address) as client:
        client.submit(int, 0).result()  # connections warm
        start = time.perf_counter()
        futures = client.map(int, range(OVERHEAD_TASKS), pure=False)
        wait(futures)
        return (time.perf_counter() - start) / OVERHEAD_TASKS


def run(assignment: str = "00_setup", size: int = 200, seed: int = 2026) -> dict:
    """The scale benchmark's figures (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="benchmark-scale-") as tmp:
        tmp = Path(tmp)
        counts = _class(tmp / "submissions", assignment, size)
        local = _grade(tmp / "local", tmp / "submissions", assignment, seed, jobs=2)
        postgres = services.Postgres()
        try:
            local_postgres = _grade(tmp / "local-postgres", tmp / "submissions", assignment,
                                    seed, jobs=2, db=postgres.database())
        except BaseException:
            postgres.stop()
            raise
        os.environ["GRADING_DB_SECONDS"] = str(tmp / "cluster" / "db-seconds.txt")
        try:  # the workers inherit the gradebook clock's variable
            cluster = services.DaskCluster(workers=2)
        finally:
            os.environ.pop("GRADING_DB_SECONDS", None)
        try:
            distributed = _grade(tmp / "cluster", tmp / "submissions", assignment, seed,
                                 db=postgres.database(), cluster=cluster.address)
            overhead = _scheduler_overhead(cluster.address)
        finally:
            cluster.stop()
            postgres.stop()
    projection = {
        workers: round((PROJECTED_STUDENTS * distributed["task_seconds_median"] / workers
                        + PROJECTED_STUDENTS * overhead
                        + distributed["solution_check_seconds"]) / 60, 1)
        for workers in PROJECTED_WORKERS}
    return {"assignment": assignment, "class": counts, "local": local,
            "local_postgres": local_postgres, "cluster": distributed,
            "cluster_over_local": round(distributed["seconds_per_submission"]
                                        / local["seconds_per_submission"], 3),
            "cluster_over_local_postgres": round(distributed["seconds_per_submission"]
                                                 / local_postgres["seconds_per_submission"], 3),
            "scheduler_seconds_per_task": round(overhead, 5),
            "projected_minutes_for_1000": projection}
