"""Autograde a class: every student in its own process (forked from a warm nbgrader worker where
the OS allows), `jobs` at a time, or each as a task on a Dask cluster (grading.cluster); each
stopped after a wall-clock limit. The student's code runs in sandboxed kernels
(grading.execute); this module only runs nbgrader."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import sys
import threading
import time
from pathlib import Path

from grading import cgroups, collect, course_folder, preflight, sandbox
from grading.student_process import (DEFAULT_STUDENT_TIMEOUT, StudentRun, WarmWorker,
                                     autograde_subprocess)

def _grade_one(worker: WarmWorker | None, course: Path, assignment: str, student: str,
               options: list[str], student_timeout: float) -> StudentRun:
    """One student's autograde, in the warm worker or else a fresh process; whatever goes wrong
    here makes that student not graded, with the reason, and no one else."""
    start = time.monotonic()
    try:
        run = worker.grade(course, assignment, student, options,
                           student_timeout) if worker else None
        if run is None:
            run = autograde_subprocess(course, assignment, student, options, student_timeout)
        return run
    except Exception as error:
        return StudentRun(student, time.monotonic() - start, 0.0, "failed",
                          f"the grader could not grade this submission ({type(error).__name__}: "
                          f"{str(error)[:300]})")


def autograde(course: Path, assignment: str, jobs: int = 1, timeout: int | None = None,
              memory_mb: int | None = None, force: bool = False,
              student_timeout: float = DEFAULT_STUDENT_TIMEOUT,
              fork: bool = hasattr(os, "fork"), sandboxed: bool = True,
              seed: int | None = None, cluster: str | None = None) -> list[StudentRun]:
    """nbgrader autograde for every collected student: each in its own process (forked from a
    warm worker when the OS allows), `jobs` at a time, or each as one task on the Dask cluster
    at `cluster` (grading.cluster); each stopped after `student_timeout`, every kernel
    sandboxed unless `sandboxed` is False (trusted code only). The hidden tests' probe inputs
    are drawn from `seed` (default: a fresh one, logged); the solution is graded first with the
    same settings, and nothing is graded unless it scores full marks."""
    course = course.expanduser().resolve()
    if sandboxed and sandbox.unavailable_reason():
        raise SystemExit("cannot grade: " + sandbox.unavailable_reason())
    entries = [e for e in collect.read_manifest(course, assignment) if e["status"] == "collected"]
    if not entries:
        raise SystemExit(f"nothing collected for {assignment} in {course}; run collect first")
    name = course_folder.notebook_name(assignment)
    students = [e["student"] for e in entries
                if force or not (course / "autograded" / e["student"] / assignment / name).exists()]
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs, len(students) or 1))
    seed = secrets.randbelow(2**31) if seed is None else seed
    settings = {"GradingExecute.probe_seed": seed}
    if timeout is not None:
        settings["Execute.timeout"] = timeout
    if memory_mb is not None:
        settings["GradingExecute.memory_limit_mb"] = memory_mb
    if not sandboxed:
        settings["GradingExecute.sandboxed"] = False
    logs = course / "logs" / assignment
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "probe-seeds.log", "a") as log:
        log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} seed {seed}\n")
    print(f"hidden tests: probe inputs drawn from seed {seed} (--seed {seed} reproduces them)",
          flush=True)
    limits = cgroups.unavailable_reason() if sandboxed else ""
    if limits:
        print(f"warning: {limits}", file=sys.stderr, flush=True)
    course_folder.record_differences(course, f"before autograding {assignment}")
    if cluster:  # the workers get ready while the solution is checked
        from grading import cluster as dask_cluster

        dask_cluster.start_warm_up(cluster)
    checked = time.monotonic()
    preflight.check_solution(course, assignment, settings, course_folder.nbgrader_env())
    checked = time.monotonic() - checked
    if not cluster:  # on a cluster each worker grades one student at a time, on all its cores
        settings["GradingExecute.kernel_threads"] = max(1, cores // jobs) if jobs > 1 else 0
    options = [f"--{name}={value}" for name, value in settings.items()]
    lock = threading.Lock()

    def report(run: StudentRun) -> None:
        with lock:
            print(f"  {run.student:<24} {run.status:<8} {run.seconds:6.1f} s {run.detail}",
                  flush=True)

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    start = time.monotonic()
    if cluster:
        runs = dask_cluster.grade_class(cluster, course, assignment, students, options,
                                        student_timeout, seed, report)
    else:
        runs = _grade_locally(course, assignment, students, jobs, options, student_timeout,
                              fork, logs, report)
    wall = time.monotonic() - start
    runs.sort(key=lambda r: r.student)
    timing = {"assignment": assignment, "jobs": jobs, "cluster": cluster,
              "students": len(students), "probe_seed": seed, "control_groups": limits or "yes",
              "solution_check_seconds": round(checked, 2),
              "fork": fork, "wall_seconds": round(wall, 2),
              "seconds_per_submission": round(wall / max(1, len(students)), 2),
              "grader_cpu_seconds_per_submission": round(
                  sum(r.cpu_seconds for r in runs) / max(1, len(runs)), 2),
              "load_average_before": load_before,
              "load_average_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
              "runs": [dataclasses.asdict(r) for r in runs]}
    (logs / "autograde.json").write_text(json.dumps(timing, indent=1))
    course_folder.record_status(course, assignment, {
        r.student: ("graded", "") if r.status == "graded" else ("not graded",
                                                                 f"{r.status}: {r.detail}")
        for r in runs})
    course_folder.record_differences(course, f"while autograding {assignment}")
    course_folder.seal(course)
    if students:
        where = f"on {cluster}" if cluster else f"with {jobs} job(s)"
        print(f"autograded {len(students)} submission(s) of {assignment} in {wall:.1f} s "
              f"{where}: {wall / len(students):.1f} s per submission")
    return runs


def _grade_locally(course: Path, assignment: str, students: list[str], jobs: int,
                   options: list[str], student_timeout: float, fork: bool, logs: Path,
                   report) -> list[StudentRun]:
    """Every student on this machine, `jobs` threads each feeding a warm forking worker."""
    pending = list(reversed(students))
    runs: list[StudentRun] = []
    lock = threading.Lock()

    def grade_all(index: int) -> None:
        worker = None
        if fork:
            try:
                worker = WarmWorker(logs / f"worker-{index}.log", course)
            except Exception as error:  # a fresh process per student instead
                print(f"warning: grading worker {index} did not start ({error})", flush=True)
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    student = pending.pop()
                run = _grade_one(worker, course, assignment, student, options, student_timeout)
                if worker is not None and worker.broken:  # a fresh worker for the next one
                    worker.close()
                    try:
                        worker = WarmWorker(logs / f"worker-{index}-{student}.log", course)
                    except Exception:
                        worker = None
                with lock:
                    runs.append(run)
                report(run)
        finally:
            if worker:
                worker.close()

    threads = [threading.Thread(target=grade_all, args=(i,)) for i in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, run in enumerate(runs):  # sqlite contention: retry those one at a time
        if run.status == "failed" and run.detail == "database is locked":
            runs[index] = _grade_one(None, course, assignment, run.student, options,
                                     student_timeout)
            print(f"  {run.student:<24} retried: {runs[index].status}", flush=True)
    return runs
