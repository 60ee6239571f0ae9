"""Autograde a class: every student in its own process (forked from a warm nbgrader worker where
the OS allows), `jobs` at a time, each stopped after a wall-clock limit. The student's code runs
in sandboxed kernels (grading.execute); this module only runs nbgrader."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from grading import cgroups, collect, course_folder, preflight, sandbox

DEFAULT_STUDENT_TIMEOUT = 900  # seconds for one student's whole autograde, a last resort


@dataclasses.dataclass
class StudentRun:
    student: str
    seconds: float  # wall clock
    cpu_seconds: float  # of nbgrader's process only: a sandboxed kernel's is not counted
    status: str  # graded | failed | timeout
    detail: str = ""


def _kill_tree(pid: int) -> None:
    """Kill process `pid`, its process group, and every descendant (kernels start their own
    session, so the group alone would miss them)."""
    try:
        import psutil

        children = psutil.Process(pid).children(recursive=True)
    except Exception:
        children = []
    for child in children:
        try:
            child.kill()
        except Exception:
            pass
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def _wait(pid: int, timeout: float) -> tuple[int | None, float]:
    """(exit code or None on timeout, CPU seconds of the process and its waited-for children).
    Whatever its sandboxes left (a process stopped at the timeout cleans up nothing) goes too."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
            if time.monotonic() > deadline:
                _kill_tree(pid)
                _, _, usage = os.wait4(pid, 0)
                return None, usage.ru_utime + usage.ru_stime
            time.sleep(0.05)
    finally:
        cgroups.sweep(pid)
        sandbox.sweep(pid)


def _student_run(student: str, code: int | None, seconds: float, cpu: float, log: Path,
                 timeout: float) -> StudentRun:
    if code is None:
        return StudentRun(student, seconds, cpu, "timeout",
                          f"stopped after the {timeout:.0f} s per-student limit; see {log}")
    if code == 0:
        return StudentRun(student, seconds, cpu, "graded")
    text = ""
    try:  # the end of the log is enough (a log may hold 256 MiB of a student's output)
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - 2**16))
            text = handle.read().decode(errors="replace")
    except OSError:
        pass
    detail = "database is locked" if "database is locked" in text else f"exit {code}; see {log}"
    return StudentRun(student, seconds, cpu, "failed", detail)


def _grade_one(worker: _Worker | None, course: Path, assignment: str, student: str,
               options: list[str], student_timeout: float) -> StudentRun:
    """One student's autograde, in the warm worker or else a fresh process; whatever goes wrong
    here makes that student not graded, with the reason, and no one else."""
    start = time.monotonic()
    try:
        run = worker.grade(course, assignment, student, options,
                           student_timeout) if worker else None
        if run is None:
            run = _autograde_subprocess(course, assignment, student, options, student_timeout)
        return run
    except Exception as error:
        return StudentRun(student, time.monotonic() - start, 0.0, "failed",
                          f"the grader could not grade this submission ({type(error).__name__}: "
                          f"{str(error)[:300]})")


def _autograde_argv(assignment: str, student: str, options: list[str]) -> list[str]:
    return ["autograde", assignment, f"--student={student}", "--force", *options]


def _autograde_subprocess(course: Path, assignment: str, student: str, options: list[str],
                          student_timeout: float) -> StudentRun:
    """One student in a fresh `python -m nbgrader autograde` process."""
    log = course / "logs" / assignment / f"{student}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbgrader", *_autograde_argv(assignment, student, options)],
            cwd=course, env=course_folder.nbgrader_env(), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True)
        code, cpu = _wait(process.pid, student_timeout)
        process.returncode = -1  # reaped by _wait
    return _student_run(student, code, time.monotonic() - start, cpu, log, student_timeout)


_MARK = "@@grading-result "


def serve() -> None:
    """Grading worker: import nbgrader once, then fork one child per student (read as JSON
    lines on stdin), so each autograde starts warm yet runs in its own process."""
    import traceback

    from nbgrader.apps import NbGraderApp

    if not sandbox.unavailable_reason():  # found once here, not once per student
        sandbox.font_list()
    for line in sys.stdin:
        job = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child: one student's `nbgrader autograde`, output to its log
            code = 1
            try:
                os.setsid()
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(log, 1)
                os.dup2(log, 2)
                NbGraderApp.launch_instance(argv=job["argv"])
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else int(bool(exit_.code))
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        code, cpu = _wait(pid, job["timeout"])
        result = {"code": code, "seconds": time.monotonic() - start, "cpu": cpu}
        print(_MARK + json.dumps(result), flush=True)


class _Worker:
    """A `serve` process owned by one grading thread."""

    def __init__(self, course: Path, log: Path):
        self.stderr = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from grading.parallel import serve; serve()"], cwd=course,
            env=course_folder.nbgrader_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, bufsize=1)
        self.broken = False

    def grade(self, course: Path, assignment: str, student: str, options: list[str],
              student_timeout: float) -> StudentRun | None:
        log = course / "logs" / assignment / f"{student}.log"
        job = {"argv": _autograde_argv(assignment, student, options), "log": str(log),
               "timeout": student_timeout}
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            for line in self.process.stdout:
                if line.startswith(_MARK):
                    result = json.loads(line[len(_MARK):])
                    return _student_run(student, result["code"], result["seconds"],
                                        result["cpu"], log, student_timeout)
        except Exception:  # the worker died, or its answer is not one: it is not used again
            pass
        self.broken = True
        return None  # the caller falls back to a fresh process

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
        self.stderr.close()


def autograde(course: Path, assignment: str, jobs: int = 1, timeout: int | None = None,
              memory_mb: int | None = None, force: bool = False,
              student_timeout: float = DEFAULT_STUDENT_TIMEOUT,
              fork: bool = hasattr(os, "fork"), sandboxed: bool = True,
              seed: int | None = None) -> list[StudentRun]:
    """nbgrader autograde for every collected student: each in its own process (forked from a
    warm worker when the OS allows), `jobs` at a time, each stopped after `student_timeout`,
    every kernel sandboxed unless `sandboxed` is False (trusted code only). The hidden tests'
    probe inputs are drawn from `seed` (default: a fresh one, logged); the solution is graded
    first with the same settings, and nothing is graded unless it scores full marks."""
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
    checked = time.monotonic()
    preflight.check_solution(course, assignment, settings, course_folder.nbgrader_env())
    checked = time.monotonic() - checked
    settings["GradingExecute.kernel_threads"] = max(1, cores // jobs) if jobs > 1 else 0
    options = [f"--{name}={value}" for name, value in settings.items()]
    pending = list(reversed(students))
    runs: list[StudentRun] = []
    lock = threading.Lock()

    def grade_all(index: int) -> None:
        worker = None
        if fork:
            try:
                worker = _Worker(course, logs / f"worker-{index}.log")
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
                        worker = _Worker(course, logs / f"worker-{index}-{student}.log")
                    except Exception:
                        worker = None
                with lock:
                    runs.append(run)
                    print(f"  {run.student:<24} {run.status:<8} {run.seconds:6.1f} s "
                          f"{run.detail}", flush=True)
        finally:
            if worker:
                worker.close()

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    start = time.monotonic()
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
    wall = time.monotonic() - start
    runs.sort(key=lambda r: r.student)
    timing = {"assignment": assignment, "jobs": jobs, "students": len(students),
              "probe_seed": seed, "control_groups": limits or "yes",
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
        print(f"autograded {len(students)} submission(s) of {assignment} in {wall:.1f} s with "
              f"{jobs} job(s): {wall / len(students):.1f} s per submission")
    return runs

