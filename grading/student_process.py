"""One student's `nbgrader autograde` in a process of its own: started (fresh, or killed with
the process that started it), stopped after a wall-clock limit with everything it started, its
leftovers swept, and what happened (StudentRun). Used on this machine (grading.parallel) and on
a cluster's workers (grading.cluster)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grading import cgroups, course_folder, sandbox

DEFAULT_STUDENT_TIMEOUT = 900  # seconds for one student's whole autograde, a last resort


@dataclasses.dataclass
class StudentRun:
    student: str
    seconds: float  # wall clock
    cpu_seconds: float  # of nbgrader's process only: a sandboxed kernel's is not counted
    status: str  # graded | failed | timeout
    detail: str = ""


def kill_tree(pid: int) -> None:
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


def wait(pid: int, timeout: float) -> tuple[int | None, float]:
    """(exit code or None on timeout, CPU seconds of the process and its waited-for children).
    Whatever its sandboxes left (a process stopped at the timeout cleans up nothing) goes too."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
            if time.monotonic() > deadline:
                kill_tree(pid)
                _, _, usage = os.wait4(pid, 0)
                return None, usage.ru_utime + usage.ru_stime
            time.sleep(0.05)
    finally:
        cgroups.sweep(pid)
        sandbox.sweep(pid)


def student_run(student: str, code: int | None, seconds: float, cpu: float, log: Path,
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


def autograde_argv(assignment: str, student: str, options: list[str]) -> list[str]:
    return ["autograde", assignment, f"--student={student}", "--force", *options]


# Runs as `python -c _ORPHAN_GUARD PARENT_PID command...`: the command is killed when the process
# that started it dies (Linux), e.g. a Dask worker killed mid-task, so it cannot write grades
# after the student was handed to another worker.
_ORPHAN_GUARD = """\
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, as below
if os.getppid() != int(sys.argv[1]):  # the parent died before the line above
    sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


def autograde_subprocess(course: Path, assignment: str, student: str, options: list[str],
                         student_timeout: float, die_with_parent: bool = False) -> StudentRun:
    """One student in a fresh `python -m nbgrader autograde` process (killed with this process
    when `die_with_parent`, on Linux)."""
    log = course / "logs" / assignment / f"{student}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "nbgrader", *autograde_argv(assignment, student, options)]
    if die_with_parent and sys.platform.startswith("linux"):
        command = [sys.executable, "-c", _ORPHAN_GUARD, str(os.getpid()), *command]
    start = time.monotonic()
    with open(log, "w") as handle:
        process = subprocess.Popen(command, cwd=course, env=course_folder.nbgrader_env(),
                                   stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        code, cpu = wait(process.pid, student_timeout)
        process.returncode = -1  # reaped by _wait
    return student_run(student, code, time.monotonic() - start, cpu, log, student_timeout)


_MARK = "@@grading-result "
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def serve() -> None:
    """Grading worker: import nbgrader once, then fork one child per student (read as JSON
    lines on stdin: argv, cwd, log, timeout), so each autograde starts warm yet runs in its own
    process, in its course folder."""
    import json
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
                if sys.platform.startswith("linux"):
                    _die_with_parent()  # a worker that dies takes its student with it
                os.setsid()
                os.chdir(job["cwd"])
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
                from grading import db_timing

                db_timing.flush()  # os._exit skips atexit
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        code, cpu = wait(pid, job["timeout"])
        result = {"code": code, "seconds": time.monotonic() - start, "cpu": cpu}
        print(_MARK + json.dumps(result), flush=True)


class WarmWorker:
    """A `serve` process owned by one grading thread; with `die_with_parent` (a cluster's
    worker) it is killed when the process that started it dies, and so is its student."""

    def __init__(self, log: Path, cwd: Path, die_with_parent: bool = False):
        command = [sys.executable, "-c", "from grading.student_process import serve; serve()"]
        if die_with_parent and sys.platform.startswith("linux"):
            command = [sys.executable, "-c", _ORPHAN_GUARD, str(os.getpid()), *command]
        self.stderr = open(log, "w")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=course_folder.nbgrader_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1)
        self.broken = False

    def grade(self, course: Path, assignment: str, student: str, options: list[str],
              student_timeout: float) -> StudentRun | None:
        """One student's autograde in the course folder `course` (None when this worker could
        not do it: the caller grades in a fresh process instead)."""
        import json

        log = course / "logs" / assignment / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        job = {"argv": autograde_argv(assignment, student, options), "cwd": str(course),
               "log": str(log), "timeout": student_timeout}
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            for line in self.process.stdout:
                if line.startswith(_MARK):
                    result = json.loads(line[len(_MARK):])
                    return student_run(student, result["code"], result["seconds"],
                                       result["cpu"], log, student_timeout)
        except Exception:  # the worker died, or its answer is not one: it is not used again
            pass
        self.broken = True
        return None

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
        self.stderr.close()
