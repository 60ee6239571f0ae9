"""A class graded on a Dask cluster (`--cluster tcp://HOST:8786`): each student is one task.

The grader (this machine) keeps the course folder. A worker needs only the pack installed (the
same version: the task checks), `bwrap`, and network access to the scheduler and to the
course's PostgreSQL gradebook; nothing is shared through a filesystem:
- to the workers go, once per run, the assignment's source and hidden tests, the reference
  records of this run's seed and the gradebook's URL (broadcast), and per task one student's
  submitted notebook;
- on a worker a task builds a private course in a temporary folder, runs the same
  `nbgrader autograde` process as a local run (grading.student_process: forked from a warm
  grading process the worker started while the grader checked the solution; sandbox, verdicts,
  limits, per-student timeout), which writes the grades to the shared gradebook, and sends back
  the autograded notebook, its log and its verdicts;
- the grader writes each student's files into the course once, as results arrive.
A worker that dies mid-task has its students graded again on another worker (Dask reschedules
them; the autograde process a dead worker started is killed with it, so it cannot write to the
gradebook afterwards); a task that fails on three workers leaves that student not graded, with
the reason.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import itertools
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from grading import course_folder
from grading.student_process import StudentRun, WarmWorker, autograde_subprocess

LOG_BYTES = 2**20  # of a student's autograde log sent back (its end)
PACKAGES = ("grading", "common")


def pack_digest() -> str:
    """What must be identical on the grader and every worker: the pack's code and config."""
    digest = hashlib.sha256()
    for name in PACKAGES:
        digest.update(course_folder.digest_tree(course_folder.REPO / name).encode())
    digest.update((course_folder.REPO / "nbgrader_config.py").read_bytes())
    return digest.hexdigest()


def _files(folder: Path, under: Path) -> dict[str, bytes]:
    return {str(p.relative_to(under)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def bundle(course: Path, assignment: str, seed: int) -> dict:
    """What every task of this run needs besides its student's notebook."""
    from grading import references, verdicts

    source = course / "solutions" / assignment
    solution = source / course_folder.notebook_name(assignment)
    files = _files(source, course)
    hidden = verdicts.load_hidden(source)
    if hidden is not None:
        cache = references.records(solution, hidden, course, assignment, seed)
        files.update(_files(cache, course))
    return {"assignment": assignment, "db_url": course_folder.db_url(course),
            "pack": pack_digest(), "files": files}


_IDLE: list[WarmWorker] = []  # this worker process's warm grading processes not in use
_IDLE_LOCK = threading.Lock()
_NUMBER = itertools.count()


def _start_warm() -> WarmWorker | None:
    scratch = Path(tempfile.gettempdir())
    try:
        return WarmWorker(scratch / f"grading-worker-{os.getpid()}-{next(_NUMBER)}.log", scratch,
                          die_with_parent=True)
    except Exception:  # a fresh process per student instead
        return None


def warm_up(count: int) -> int:
    """Start warm grading processes on this worker (nbgrader imported once, killed with the
    worker) until `count` wait idle: one per thread. Runs while the grader checks the solution,
    so the first students do not wait for it."""
    with _IDLE_LOCK:
        while len(_IDLE) < count:
            worker = _start_warm()
            if worker is None:
                break
            _IDLE.append(worker)
        return len(_IDLE)


@contextlib.contextmanager
def _warm_worker():
    """An idle warm grading process of this worker, or a new one (None if none can start)."""
    with _IDLE_LOCK:
        worker = _IDLE.pop() if _IDLE else None
    if worker is None:
        worker = _start_warm()
    try:
        yield worker
    finally:
        if worker is not None and worker.broken:
            worker.close()
        elif worker is not None:
            with _IDLE_LOCK:
                _IDLE.append(worker)


def start_warm_up(address: str) -> None:
    """Have every worker of the cluster at `address` start its warm grading processes now (they
    import nbgrader while the grader checks the solution)."""
    from distributed import Client

    with Client(address, timeout=60) as client:
        for worker, info in client.scheduler_info()["workers"].items():
            client.run(warm_up, info["nthreads"], workers=[worker])


def _kernel_threads(shared: dict) -> int:
    """Threads for this task's kernel: this machine's cores shared by the tasks its workers run
    at once (as a local run gives each of its jobs cores / jobs)."""
    from distributed import get_worker

    host = get_worker().address.split("://")[-1].rsplit(":", 1)[0]
    return max(1, (os.cpu_count() or 1) // max(1, shared["slots"].get(host, 1)))


def grade_on_worker(shared: dict, student: str, notebook: bytes, options: list[str],
                    student_timeout: float) -> dict:
    """One student's autograde in a private course on this worker (a Dask task): the run and
    the files to write into the grader's course ({relative path: bytes})."""
    where = socket.gethostname() + ":" + str(os.getpid())
    assignment = shared["assignment"]
    if shared["pack"] != pack_digest():
        run = StudentRun(student, 0.0, 0.0, "failed",
                                  f"worker {where} runs another version of the pack "
                                  f"({course_folder.REPO}); install the grader's on every worker")
        return {"run": dataclasses.asdict(run), "files": {}, "worker": where}
    with tempfile.TemporaryDirectory(prefix="grading-task-") as folder:
        course = Path(folder) / "course"
        for relative, data in shared["files"].items():
            path = course / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        options = [*options, f"--GradingExecute.kernel_threads={_kernel_threads(shared)}"]
        course_folder.use_database(course, shared["db_url"])
        (course / "nbgrader_config.py").write_text(course_folder.course_config(course))
        name = course_folder.notebook_name(assignment)
        submitted = course / "submitted" / student / assignment / name
        submitted.parent.mkdir(parents=True)
        submitted.write_bytes(notebook)
        with _warm_worker() as warm:
            run = warm.grade(course, assignment, student, options, student_timeout) if (
                warm) else None
        if run is None:
            run = autograde_subprocess(course, assignment, student, options, student_timeout,
                                       die_with_parent=True)
        files = {}
        graded = course / "autograded" / student / assignment
        if graded.exists():
            files.update(_files(graded, course))
        logs = course / "logs" / assignment
        verdicts_file = logs / f"{student}.verdicts.json"
        if verdicts_file.exists():
            files[str(verdicts_file.relative_to(course))] = verdicts_file.read_bytes()
        log = logs / f"{student}.log"
        if log.exists():
            with open(log, "rb") as handle:
                handle.seek(max(0, log.stat().st_size - LOG_BYTES))
                files[str(log.relative_to(course))] = handle.read()
    run.detail = run.detail.replace(str(course), "COURSE")  # paths as in the grader's course
    return {"run": dataclasses.asdict(run), "files": files, "worker": where}


def grade_class(address: str, course: Path, assignment: str, students: list[str],
                options: list[str], student_timeout: float, seed: int,
                report) -> list[StudentRun]:
    """Every student as one task on the cluster at `address`; each result is written into the
    course once, as it arrives, and passed to `report`."""
    from distributed import Client, as_completed

    if course_folder.db_url(course).startswith("sqlite"):
        raise SystemExit("a cluster run needs a gradebook every worker can reach: give the "
                         "course a PostgreSQL gradebook (--db postgresql://USER:PASSWORD@HOST:"
                         "PORT/DATABASE)")
    name = course_folder.notebook_name(assignment)
    runs, written = [], set()
    with Client(address, timeout=60) as client:
        workers = client.scheduler_info()["workers"]
        print(f"cluster {address}: {len(workers)} worker(s)", flush=True)
        slots = collections.Counter()  # tasks each machine runs at once
        for info in workers.values():
            slots[info["host"]] += info["nthreads"]
        shared = client.scatter({**bundle(course, assignment, seed), "slots": dict(slots)},
                                broadcast=True)
        tag = f"{assignment}-{seed}-{time.time_ns()}"
        futures = {client.submit(
            grade_on_worker, shared, student,
            (course / "submitted" / student / assignment / name).read_bytes(), options,
            student_timeout, key=f"grade-{tag}-{student}", pure=False): student
            for student in students}
        for future in as_completed(futures):
            student = futures[future]
            if student in written:  # never twice, whatever the cluster does
                continue
            try:
                result = future.result()
            except Exception as error:  # KilledWorker after three workers died on it, ...
                run = StudentRun(student, 0.0, 0.0, "failed",
                                          f"the cluster could not grade this submission "
                                          f"({type(error).__name__}: {str(error)[:300]})")
            else:
                run = StudentRun(**result["run"])
                run.detail = (run.detail + f" (on {result['worker']})").strip()
                _write(course, student, assignment, result["files"])
            written.add(student)
            runs.append(run)
            report(run)
    return runs


def _write(course: Path, student: str, assignment: str, files: dict[str, bytes]) -> None:
    """A worker's files for `student`, written into the course: only where that student's
    results belong (the worker is trusted, its paths checked all the same)."""
    allowed = [course / "autograded" / student / assignment, course / "logs" / assignment]
    graded = course / "autograded" / student / assignment
    if graded.exists():
        import shutil

        shutil.rmtree(graded)
    for relative, data in files.items():
        path = (course / relative).resolve()
        if not any(path.is_relative_to(folder) for folder in allowed):
            continue
        if path.parent == course / "logs" / assignment and not path.name.startswith(
                f"{student}."):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
