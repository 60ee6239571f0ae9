"""Instructor workflow on top of nbgrader: release, collect, autograde, export, feedback, report.

    python -m common.grading --help
    python -m common.grading run 02_vae ~/Downloads/vae-submissions/     # every step at once

Every step drives nbgrader's own commands (generate_assignment, autograde, export,
generate_feedback) in a course folder outside the repository (default
~/.local/share/genmodels-course/grading, or --course DIR). This module adds what nbgrader lacks:
collecting a loose folder of notebooks, rejecting files that are not notebooks of the assignment
with a reason, grading students in parallel processes with a watchdog, and a class report.

Autograding itself stays nbgrader's, with two extensions that nbgrader_config.py switches on
(they also apply to a plain `nbgrader autograde`):
- GradingKernelManager starts each kernel with an address-space limit (RLIMIT_AS), no core
  dumps, and COURSE_MODE=test, COURSE_OFFLINE=1, MPLBACKEND=Agg in its environment;
- GradingExecute (nbgrader's Execute) survives a kernel that dies (os._exit, segfault, memory)
  or a cell that cannot be interrupted after its timeout: it records the error in that cell,
  starts a new kernel, silently re-runs the earlier cells, and goes on, so the student's other
  tasks are still graded.

This file imports nothing from `common` (nbgrader_config.py loads it by path, so nbgrader does
not import Keras).
"""

from __future__ import annotations

import argparse
import ast
import collections
import copy
import csv
import dataclasses
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute, OverwriteCells
from traitlets import Dict, Integer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COURSE = Path.home() / ".local" / "share" / "genmodels-course" / "grading"
DEFAULT_MEMORY_MB = 4096  # per kernel; the test suite autogrades every assignment within it
DEFAULT_STUDENT_TIMEOUT = 900  # seconds for one student's whole autograde, a last resort
KERNEL_ENV = {  # every autograded kernel runs in test mode, offline, headless
    "COURSE_MODE": "test",
    "COURSE_OFFLINE": "1",
    "MPLBACKEND": "Agg",  # figures are made but never rendered: faster, and no display needed
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "MALLOC_ARENA_MAX": "2",  # fewer glibc arenas: less reserved address space per thread
}

# ---------------------------------------------------------------------------------------------
# nbgrader extensions (used through nbgrader_config.py)
# ---------------------------------------------------------------------------------------------

# Runs as `python -c _LAUNCHER LIMIT ENV_JSON kernel-command...`: set limits, then exec the kernel.
_LAUNCHER = """\
import json, os, sys
limit, env = int(sys.argv[1]), json.loads(sys.argv[2])
os.environ.update(env)
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ImportError, ValueError, OSError) as error:
    print(f"grading kernel: could not set the memory limit: {error}", file=sys.stderr)
os.execvp(sys.argv[3], sys.argv[3:])
"""


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start with a memory limit and the grading environment."""

    memory_limit_mb = Integer(DEFAULT_MEMORY_MB,
                              help="Address-space limit of the kernel in MiB (0: none).").tag(
        config=True)
    kernel_env = Dict(help="Environment variables set in the kernel.").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return [sys.executable, "-c", _LAUNCHER, str(self.memory_limit_mb * 2**20),
                json.dumps(self.kernel_env), *command]


def _error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def _error_names(cell) -> list[str]:
    return [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]


_FORGET_LAST_ERROR = """\
import sys as _grading_sys
for _grading_name in ("last_type", "last_value", "last_traceback", "last_exc"):
    setattr(_grading_sys, _grading_name, None)
del _grading_sys, _grading_name
"""


class GradingExecute(Execute):
    """nbgrader's Execute with a memory limit per kernel and recovery from dead or hung kernels.

    When a cell kills the kernel (os._exit, a segfault, the memory limit) or cannot be
    interrupted after its timeout, the cell gets an error output naming the cause, a new kernel
    starts, the earlier code cells run again silently (except those that died, timed out or ran
    out of memory), and execution goes on with the next cell. After `max_kernel_restarts` recoveries
    the remaining cells are marked as not run."""

    memory_limit_mb = Integer(DEFAULT_MEMORY_MB,
                              help="Address-space limit per kernel in MiB (0: none).").tag(
        config=True)
    max_kernel_restarts = Integer(3, help="Kernel restarts per notebook before giving up.").tag(
        config=True)
    kernel_threads = Integer(0, help="Threads per kernel for TensorFlow/BLAS (0: their "
                                     "default); set when grading in parallel.").tag(config=True)
    kernel_env = Dict(help="Extra environment variables for the kernel.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(*args, **kwargs)
        self.shutdown_kernel = "immediate"  # a graded kernel holds nothing worth a clean exit

    def _grading_env(self) -> dict[str, str]:
        env = dict(KERNEL_ENV)
        if self.kernel_threads > 0:
            threads = str(self.kernel_threads)
            env.update(OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
                       MKL_NUM_THREADS=threads, TF_NUM_INTRAOP_THREADS=threads,
                       TF_NUM_INTEROP_THREADS=threads)
        env.update(self.kernel_env)
        return env

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        if isinstance(manager, GradingKernelManager):
            manager.memory_limit_mb = self.memory_limit_mb
            manager.kernel_env = self._grading_env()
        return manager

    def preprocess(self, nb, resources=None, km=None):
        self._skip_on_replay: set[int] = set()
        self._restarts = 0
        self._abandoned = ""
        self.error_on_timeout = {
            "ename": "CellTimeoutError",
            "evalue": f"this cell ran longer than the {self.timeout} s per-cell limit and was "
                      "interrupted",
            "traceback": [f"\x1b[0;31mCellTimeoutError\x1b[0m: this cell ran longer than the "
                          f"{self.timeout} s per-cell limit and was interrupted"]}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        self._check_assign_resources(resources)
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        if self._abandoned:
            cell.outputs = [_error_output("NotRun", self._abandoned)]
            return cell, self.resources
        try:
            cell = self.execute_cell(cell, index, store_history=True)
        except (DeadKernelError, CellTimeoutError) as error:
            cell.outputs.append(self._failure_output(error))
            self._skip_on_replay.add(index)
            self._recover(index)
            return cell, self.resources
        names = _error_names(cell)
        if {"MemoryError", "CellTimeoutError", "KeyboardInterrupt"} & set(names):
            self._skip_on_replay.add(index)  # re-running it would cost as much again
        if names:
            self._forget_last_error()
        return cell, self.resources

    def _failure_output(self, error: Exception) -> nbformat.NotebookNode:
        if isinstance(error, DeadKernelError):
            limit = f"{self.memory_limit_mb} MiB" if self.memory_limit_mb else "none"
            return _error_output(
                "DeadKernelError",
                "the kernel died while running this cell (os._exit, a crash such as a "
                f"segfault, or running out of memory; the memory limit is {limit}). The grader "
                "restarted it, re-ran the earlier cells and went on with the next cell.")
        return _error_output(
            "CellTimeoutError",
            f"this cell ran longer than the {self.timeout} s per-cell limit and did not stop "
            "when interrupted. The grader restarted the kernel, re-ran the earlier cells and "
            "went on with the next cell.")

    def _forget_last_error(self) -> None:
        """Drop the kernel's reference to the last traceback, so the memory held by the failed
        cell's frames (e.g. after a MemoryError) is freed for the next cells."""
        try:
            msg_id = self.kc.execute(_FORGET_LAST_ERROR, silent=True, store_history=False)
            self.wait_for_reply(msg_id)
        except (DeadKernelError, CellTimeoutError, RuntimeError):
            pass

    def _restart_kernel(self) -> None:
        try:
            self._cleanup_kernel()
        except Exception as error:  # a dead kernel may fail to clean up; start afresh anyway
            self.log.warning("Cleaning up the dead kernel failed: %s", error)
        self.km = self.kc = None
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()

    def _recover(self, index: int) -> None:
        """New kernel, then re-run code cells before `index` that did not fail badly."""
        self._restarts += 1
        if self._restarts > self.max_kernel_restarts:
            self._abandoned = (f"not run: the kernel died or hung {self._restarts} times in this "
                               "notebook, so the grader stopped")
            return
        self.log.warning("Restarting the kernel (restart %d) and re-running cells before %d",
                         self._restarts, index)
        self._restart_kernel()
        for earlier_index, earlier in enumerate(self.nb.cells[:index]):
            if (earlier.cell_type != "code" or earlier_index in self._skip_on_replay
                    or not earlier.source.strip()):
                continue
            replay = copy.deepcopy(earlier)
            try:
                self.execute_cell(replay, earlier_index, store_history=False)
            except (DeadKernelError, CellTimeoutError):
                self._skip_on_replay.add(earlier_index)
                self._recover(index)
                return
            if {"MemoryError", "CellTimeoutError", "KeyboardInterrupt"} & set(
                    _error_names(replay)):
                self._skip_on_replay.add(earlier_index)


class GradingOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, but a missing test cell goes back after the nearest earlier
    cell that is still there: nbgrader 0.9 fails the whole submission (KeyError) when the
    cell just above the deleted test cell was deleted too (e.g. a whole task removed)."""

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        grade_cells = {cell.name: cell for cell in source.grade_cells}
        solution_ids = {cell.name for cell in source.solution_cells}
        position = -1  # insert after this index
        for source_cell in source.source_cells:  # in notebook order, as nbgrader assumes
            index = next((i for i, cell in enumerate(nb.cells) if cell.get("metadata", {}).get(
                "nbgrader", {}).get("grade_id") == source_cell.name), None)
            if index is not None:
                position = max(position, index)
            elif source_cell.name in grade_cells:
                self.log.warning("Missing grade cell %s: adding it back", source_cell.name)
                nb.cells.insert(position + 1, self.missing_cell_transform(
                    source_cell, grade_cells[source_cell.name].max_score,
                    is_solution=source_cell.name in solution_ids))
                position += 1
        return nb, resources


# ---------------------------------------------------------------------------------------------
# Course folder and nbgrader commands
# ---------------------------------------------------------------------------------------------


def _nbgrader_env() -> dict[str, str]:
    env = dict(os.environ, **KERNEL_ENV)
    # nbgrader runs `alembic` from PATH to create a gradebook: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run_nbgrader(course: Path, *args: str, check: bool = True,
                  log: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course, env=_nbgrader_env(), capture_output=True,
                            text=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                         f"{result.stderr[-3000:]}")
    return result


def _source_dir() -> Path:
    return REPO / "solutions"


def _assignments() -> list[str]:
    return sorted(p.name for p in _source_dir().iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def _check_assignment(assignment: str) -> None:
    if assignment not in _assignments():
        raise SystemExit(f"unknown assignment {assignment!r}; choose one of "
                         f"{', '.join(_assignments())}")


def _notebook_name(assignment: str) -> str:
    names = sorted(p.name for p in (_source_dir() / assignment).glob("*.ipynb"))
    if len(names) != 1:
        raise SystemExit(f"{assignment}: expected one notebook in solutions/, found {names}")
    return names[0]


def _db_url(course: Path) -> str:
    return "sqlite:///" + str(course / "gradebook.db")


def _digest_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_course(course: Path, assignment: str) -> Path:
    """A course folder with this repository's config and the assignment's current source,
    registered in the course gradebook (nbgrader generate_assignment). Returns the course."""
    course = course.expanduser().resolve()
    if REPO in (course, *course.parents):
        raise SystemExit(f"the grading course {course} is inside the repository; choose a "
                         "folder outside it (--course)")
    course.mkdir(parents=True, exist_ok=True)
    config = (REPO / "nbgrader_config.py").read_text()
    config += ("\n# ---- added by common.grading for this course folder ----\n"
               f"c.CourseDirectory.root = {str(course)!r}\n"
               f"c.CourseDirectory.db_url = {_db_url(course)!r}\n")
    (course / "nbgrader_config.py").write_text(config)
    source = _source_dir() / assignment
    target = course / "solutions" / assignment
    stamp = course / ".sources" / f"{assignment}.sha256"
    digest = _digest_tree(source)
    if not target.exists() or not stamp.exists() or stamp.read_text() != digest:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        _run_nbgrader(course, "generate_assignment", assignment, "--force",
                      log=course / "logs" / assignment / "generate_assignment.log")
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
        name = _notebook_name(assignment)
        released = REPO / "exercises" / assignment / name
        generated = course / "exercises" / assignment / name
        if released.exists() and (nbformat.read(str(released), 4).cells
                                  != nbformat.read(str(generated), 4).cells):
            print(f"warning: exercises/{assignment}/{name} differs from what solutions/ "
                  "generates now; students may hold an older copy (run `python -m "
                  f"common.grading release {assignment}` and commit).", file=sys.stderr)
    return course


# ---------------------------------------------------------------------------------------------
# Collect
# ---------------------------------------------------------------------------------------------


def _grade_ids(notebook) -> set[str]:
    ids = set()
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _source_grade_ids(assignment: str) -> set[str]:
    return _grade_ids(nbformat.read(str(_source_dir() / assignment / _notebook_name(assignment)),
                                    4))


def inspect_submission(path: Path, assignment: str) -> str:
    """'' when `path` is a notebook of `assignment`, else why it cannot be graded."""
    data = path.read_bytes()
    if not data.strip():
        return "empty file"
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not valid JSON ({error}); the file is damaged or not a notebook"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
        found = _grade_ids(notebook)
    except Exception as error:  # nbformat raises many types for non-notebooks
        return f"not a Jupyter notebook ({type(error).__name__}: {str(error)[:200]})"
    expected = _source_grade_ids(assignment)
    if found & expected:
        return ""
    if not found:
        return ("no nbgrader cells: this notebook was not made from the released exercise "
                "(or its cell metadata was stripped)")
    for other in _assignments():
        if other != assignment and found & _source_grade_ids(other):
            return f"wrong assignment: this is a notebook of {other}, not {assignment}"
    return f"wrong assignment: none of its graded cells belongs to {assignment}"


def _student_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._-") or "student"


def _find_submissions(source: Path, assignment: str) -> list[tuple[str, Path, Path | None]]:
    """(student id, notebook file, nbgrader folder or None) for each submission in `source`:
    nbgrader's <student>/<assignment>/ layout (optionally under submitted/), or a loose folder
    with one .ipynb per student (any names; a student's file may sit in its own subfolder)."""
    root = source / "submitted" if (source / "submitted").is_dir() else source
    layout = sorted(p for p in root.glob(f"*/{assignment}") if p.is_dir())
    found = []
    if layout:
        for folder in layout:
            notebooks = sorted(folder.glob("*.ipynb"))
            expected = folder / _notebook_name(assignment)
            if expected in notebooks:
                notebooks = [expected]
            found += [(folder.parent.name, notebook, folder) for notebook in notebooks[:1]]
            if not notebooks:
                found.append((folder.parent.name, folder / _notebook_name(assignment), folder))
        return found
    files = sorted(p for p in source.rglob("*.ipynb")
                   if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    per_folder = collections.Counter(p.parent for p in files)
    for path in files:
        relative = path.relative_to(source)
        if path.parent != source and per_folder[path.parent] == 1:
            name = str(relative.parent)  # e.g. an LMS download: one folder per student
        else:
            name = str(relative.with_suffix(""))
        found.append((name, path, None))
    return found


def collect(source: Path, assignment: str, course: Path) -> list[dict]:
    """Copy every submission in `source` into course/submitted/<student>/<assignment>/ (the
    originals are only read), rejecting files that cannot be graded with a reason. Writes and
    returns the manifest (course/collected/<assignment>.json)."""
    source = source.expanduser().resolve()
    if not source.is_dir():
        raise SystemExit(f"no such folder: {source}")
    course = prepare_course(course, assignment)
    name = _notebook_name(assignment)
    manifest_path = course / "collected" / f"{assignment}.json"
    previous = {e["student"]: e for e in _read_manifest(course, assignment)}
    entries, used = [], set()
    for raw_id, path, folder in _find_submissions(source, assignment):
        student = _student_id(raw_id)
        base, n = student, 2
        while student in used:
            student, n = f"{base}-{n}", n + 1
        used.add(student)
        target = course / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        entry = {"student": student, "source": str(path), "notebook": name}
        if not path.exists():
            entry.update(status="rejected", reason=f"no notebook in {folder}", sha256="")
        else:
            entry["sha256"] = _sha256(path)
            reason = inspect_submission(path, assignment)
            entry.update(status="rejected" if reason else "collected", reason=reason)
            old = previous.get(student, {})
            if old.get("sha256") != entry["sha256"]:  # new or changed: grade it again
                for stale in (course / "autograded" / student / assignment,
                              course / "feedback" / student / assignment):
                    if stale.exists():
                        shutil.rmtree(stale)
            if not reason:
                target.mkdir(parents=True)
                shutil.copyfile(path, target / name)
                if folder is not None and (folder / "timestamp.txt").exists():
                    shutil.copyfile(folder / "timestamp.txt", target / "timestamp.txt")
        entries.append(entry)
        previous.pop(student, None)
    entries += list(previous.values())  # students collected earlier from another folder
    entries.sort(key=lambda e: e["student"])
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(entries, indent=1))
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(course)) as gradebook:  # rejected students still get a 0 row
        for entry in entries:
            gradebook.update_or_create_student(entry["student"])
            if entry["status"] == "rejected":
                try:
                    gradebook.remove_submission(assignment, entry["student"])
                except Exception:  # no earlier submission: nothing to remove
                    pass
    for entry in entries:
        if entry["status"] == "rejected":
            autograded = course / "autograded" / entry["student"] / assignment
            if autograded.exists():
                shutil.rmtree(autograded)
    return entries


def _read_manifest(course: Path, assignment: str) -> list[dict]:
    path = course / "collected" / f"{assignment}.json"
    return json.loads(path.read_text()) if path.exists() else []


# ---------------------------------------------------------------------------------------------
# Autograde
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class StudentRun:
    student: str
    seconds: float  # wall clock
    cpu_seconds: float  # nbgrader and the kernel together
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
    """(exit code or None on timeout, CPU seconds of the process and its waited-for children)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            _kill_tree(pid)
            _, _, usage = os.wait4(pid, 0)
            return None, usage.ru_utime + usage.ru_stime
        time.sleep(0.05)


def _student_run(student: str, code: int | None, seconds: float, cpu: float, log: Path,
                 timeout: float) -> StudentRun:
    if code is None:
        return StudentRun(student, seconds, cpu, "timeout", f"stopped after {timeout:.0f} s; "
                                                            f"see {log}")
    if code == 0:
        return StudentRun(student, seconds, cpu, "graded")
    text = log.read_text(errors="replace") if log.exists() else ""
    detail = "database is locked" if "database is locked" in text else f"exit {code}; see {log}"
    return StudentRun(student, seconds, cpu, "failed", detail)


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
            cwd=course, env=_nbgrader_env(), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True)
        code, cpu = _wait(process.pid, student_timeout)
        process.returncode = -1  # reaped by _wait
    return _student_run(student, code, time.monotonic() - start, cpu, log, student_timeout)


_MARK = "@@grading-result "
# Boots a grading worker: load this file under the name nbgrader_config.py looks for, then serve.
_WORKER_BOOT = """import importlib.util, sys
spec = importlib.util.spec_from_file_location("genmodels_grading", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["genmodels_grading"] = module
spec.loader.exec_module(module)
module._serve()
"""


def _serve() -> None:
    """Grading worker: import nbgrader once, then fork one child per student (read as JSON
    lines on stdin), so each autograde starts warm yet runs in its own process."""
    import traceback

    from nbgrader.apps import NbGraderApp

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
                log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
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
    """A `_serve` process owned by one grading thread."""

    def __init__(self, course: Path, log: Path):
        self.stderr = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER_BOOT, str(Path(__file__).resolve())], cwd=course,
            env=_nbgrader_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, bufsize=1)

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
        except (BrokenPipeError, OSError):
            pass
        return None  # the worker itself died: the caller falls back to a fresh process

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
              fork: bool = hasattr(os, "fork")) -> list[StudentRun]:
    """nbgrader autograde for every collected student: each in its own process (forked from a
    warm worker when the OS allows), `jobs` at a time, each stopped after `student_timeout`."""
    course = course.expanduser().resolve()
    entries = [e for e in _read_manifest(course, assignment) if e["status"] == "collected"]
    if not entries:
        raise SystemExit(f"nothing collected for {assignment} in {course}; run collect first")
    name = _notebook_name(assignment)
    students = [e["student"] for e in entries
                if force or not (course / "autograded" / e["student"] / assignment / name).exists()]
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs, len(students) or 1))
    options = [f"--GradingExecute.kernel_threads={max(1, cores // jobs) if jobs > 1 else 0}"]
    if timeout is not None:
        options.append(f"--Execute.timeout={timeout}")
    if memory_mb is not None:
        options.append(f"--GradingExecute.memory_limit_mb={memory_mb}")
    logs = course / "logs" / assignment
    logs.mkdir(parents=True, exist_ok=True)
    pending = list(reversed(students))
    runs: list[StudentRun] = []
    lock = threading.Lock()

    def grade_all(index: int) -> None:
        worker = _Worker(course, logs / f"worker-{index}.log") if fork else None
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    student = pending.pop()
                run = worker.grade(course, assignment, student, options,
                                   student_timeout) if worker else None
                if run is None:
                    run = _autograde_subprocess(course, assignment, student, options,
                                                student_timeout)
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
            runs[index] = _autograde_subprocess(course, assignment, run.student, options,
                                                student_timeout)
            print(f"  {run.student:<24} retried: {runs[index].status}", flush=True)
    wall = time.monotonic() - start
    runs.sort(key=lambda r: r.student)
    timing = {"assignment": assignment, "jobs": jobs, "students": len(students),
              "fork": fork, "wall_seconds": round(wall, 2),
              "seconds_per_submission": round(wall / max(1, len(students)), 2),
              "cpu_seconds_per_submission": round(
                  sum(r.cpu_seconds for r in runs) / max(1, len(runs)), 2),
              "load_average_before": load_before,
              "load_average_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
              "runs": [dataclasses.asdict(r) for r in runs]}
    (logs / "autograde.json").write_text(json.dumps(timing, indent=1))
    if students:
        print(f"autograded {len(students)} submission(s) of {assignment} in {wall:.1f} s with "
              f"{jobs} job(s): {wall / len(students):.1f} s per submission")
    return runs


# ---------------------------------------------------------------------------------------------
# Export and feedback (nbgrader's own)
# ---------------------------------------------------------------------------------------------


def export(course: Path, to: Path | None = None) -> Path:
    """nbgrader export: one CSV row per student and assignment (0 for no gradable submission)."""
    course = course.expanduser().resolve()
    target = (to or course / "grades.csv").expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _run_nbgrader(course, "export", f"--to={target}")
    return target


def feedback(course: Path, assignment: str) -> Path:
    """nbgrader generate_feedback: course/feedback/<student>/<assignment>/<notebook>.html."""
    course = course.expanduser().resolve()
    _run_nbgrader(course, "generate_feedback", assignment, "--force",
                  log=course / "logs" / assignment / "generate_feedback.log")
    return course / "feedback"


# ---------------------------------------------------------------------------------------------
# Class report
# ---------------------------------------------------------------------------------------------

_GOT = re.compile(r"([;,] got\b|: got\b).*?(?=(\.? Hint:)|$)", re.S)


def normalize_message(ename: str, evalue: str) -> str:
    """A failure message with the student-specific 'got ...' part cut, to group students."""
    first = (evalue or "").strip()
    if ename == "NotImplementedError":
        return "not attempted: the stub still raises NotImplementedError"
    if ename in ("DeadKernelError", "CellTimeoutError", "NotRun"):
        return f"{ename}: {first.split('.')[0]}"
    if ename == "KeyboardInterrupt":
        return "CellTimeoutError: interrupted at the per-cell time limit"
    if ename == "NameError":
        return (f"NameError: {first} (a definition is missing: its cell failed, was deleted, "
                "or was renamed)")
    text = _GOT.sub(r"\1 …", first)
    text = re.sub(r"\s+", " ", text)
    return text if ename == "AssertionError" else f"{ename}: {text}"


def _task_titles(assignment: str) -> dict[str, str]:
    """grade_id -> the '### Task N · ...' (or written question) heading above it."""
    notebook = nbformat.read(str(_source_dir() / assignment / _notebook_name(assignment)), 4)
    titles, heading = {}, ""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "markdown" and not meta.get("grade"):
            for line in cell.source.splitlines():
                if line.startswith("### "):
                    heading = line[4:].strip()
                elif line.startswith("**Written question"):
                    heading = line.strip("*").split(".")[0].strip("* ")
        if meta.get("grade"):
            titles[meta["grade_id"]] = heading or meta["grade_id"]
    return titles


_SUSPICIOUS_MODULES = {"common", "checks", "np", "numpy", "tf", "tensorflow", "keras",
                       "builtins", "sys", "os"}


def _root_name(node) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def integrity_flags(submitted: Path, assignment: str, course: Path) -> list[str]:
    """Things a person should look at in a submission (never a penalty by themselves): answer
    cells that reassign library or check functions, exit or crash the kernel, and test cells
    that were edited or deleted (nbgrader restores them before grading)."""
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(str(submitted), 4)
    flags = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        where = meta.get("grade_id", "?")
        try:
            tree = ast.parse("\n".join(line for line in cell.source.splitlines()
                                       if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            for target in targets:
                if (isinstance(target, (ast.Attribute, ast.Subscript))
                        and _root_name(target) in _SUSPICIOUS_MODULES):
                    flags.append(f"{where}: reassigns {ast.unparse(target)}")
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                if called in ("setattr", "delattr") and node.args and _root_name(
                        node.args[0]) in _SUSPICIOUS_MODULES:
                    flags.append(f"{where}: {called}({ast.unparse(node.args[0])}, ...)")
                if called in ("os._exit", "os.kill", "signal.signal", "ctypes.string_at",
                              "sys.setrecursionlimit", "resource.setrlimit"):
                    flags.append(f"{where}: calls {called}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(m.split(".")[0] in ("ctypes", "builtins", "gc", "inspect")
                       for m in modules):
                    flags.append(f"{where}: imports {', '.join(m for m in modules if m)}")
    present = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            present[meta["grade_id"]] = cell
    released = nbformat.read(str(course / "exercises" / assignment / submitted.name), 4)
    for cell in released.cells:  # compare with what the students were given
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution") and grade_id and grade_id not in present:
            flags.append(f"{grade_id}: answer cell deleted")
        if not meta.get("locked") or not grade_id:
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        if grade_id not in present:
            flags.append(f"{grade_id}: {kind} deleted (nbgrader restores a deleted test cell)")
        elif compute_checksum(present[grade_id]) != compute_checksum(cell):
            flags.append(f"{grade_id}: {kind} edited (nbgrader restored it before grading)")
    return sorted(set(flags))


def class_report(course: Path, assignment: str) -> Path:
    """Markdown and HTML class report with a score histogram: course/reports/<assignment>/."""
    from nbgrader.api import Gradebook, MissingEntry

    course = course.expanduser().resolve()
    name = _notebook_name(assignment)
    stem = Path(name).stem
    titles = _task_titles(assignment)
    manifest = _read_manifest(course, assignment)
    out = course / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)

    rows, failures, problems = [], collections.defaultdict(list), []
    auto_max = {}
    manual_ids = []
    with Gradebook(_db_url(course)) as gradebook:
        source = gradebook.find_notebook(stem, assignment)
        for cell in source.grade_cells:
            if cell.cell_type == "code":
                auto_max[cell.name] = cell.max_score
            else:
                manual_ids.append(cell.name)
        order = [g for g in titles if g in auto_max]
        for entry in manifest:
            student = entry["student"]
            if entry["status"] == "rejected":
                problems.append((student, f"not graded: {entry['reason']}"))
                continue
            try:
                submitted = gradebook.find_submission_notebook(stem, assignment, student)
            except MissingEntry:
                problems.append((student, "not graded: autograde did not record a submission "
                                          f"(see logs/{assignment}/{student}.log)"))
                continue
            scores = {g.name: (g.auto_score or 0.0) for g in submitted.grades
                      if g.name in auto_max}
            graded_nb = course / "autograded" / student / assignment / name
            if not graded_nb.exists():
                problems.append((student, "not graded: no autograded notebook "
                                          f"(see logs/{assignment}/{student}.log)"))
                continue
            notebook = nbformat.read(str(graded_nb), 4)
            for cell in notebook.cells:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                if grade_id in auto_max and errors:
                    first = errors[0]
                    failures[grade_id].append(
                        (student, normalize_message(first.ename, first.evalue),
                         f"{first.ename}: {first.evalue}"))
                for error in errors:
                    if error.ename in ("DeadKernelError", "CellTimeoutError", "NotRun"):
                        problems.append((student, f"{error.ename} in cell "
                                                  f"{grade_id or '(ungraded)'}"))
            flags = integrity_flags(course / "submitted" / student / assignment / name,
                                    assignment, course)
            copy_sha = _sha256(course / "submitted" / student / assignment / name)
            if entry.get("sha256") and copy_sha != entry["sha256"]:
                problems.append((student, "the submitted copy changed after collection"))
            rows.append({"student": student, "scores": scores,
                         "total": sum(scores.values()), "flags": flags,
                         "feedback": f"../../feedback/{student}/{assignment}/{stem}.html"})

    total_max = sum(auto_max.values())
    figure_path = out / "scores.png"
    _histogram([r["total"] for r in rows], total_max, figure_path, assignment)
    with open(out / "scores.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *order, "autograded_total", "autograded_max", "flags"])
        for row in rows:
            writer.writerow([row["student"], *(row["scores"].get(g, 0.0) for g in order),
                             row["total"], total_max, "; ".join(row["flags"])])
    tasks = []
    for grade_id in order:
        values = [r["scores"].get(grade_id, 0.0) for r in rows]
        groups = collections.defaultdict(list)
        for student, key, full in failures.get(grade_id, []):
            groups[key].append((student, full))
        tasks.append({
            "grade_id": grade_id, "title": titles.get(grade_id, grade_id),
            "points": auto_max[grade_id],
            "mean": sum(values) / len(values) if values else 0.0,
            "full": sum(v >= auto_max[grade_id] for v in values),
            "failures": sorted(groups.items(), key=lambda kv: -len(kv[1]))})
    report = {"assignment": assignment, "rows": rows, "tasks": tasks, "problems": problems,
              "manual": [(g, titles.get(g, g)) for g in manual_ids], "max": total_max,
              "collected": len(manifest)}
    (out / "report.md").write_text(_report_markdown(report))
    (out / "report.html").write_text(_report_html(report))
    return out


def _histogram(totals: list[float], total_max: float, path: Path, assignment: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = max(total_max / 10, 0.5) if total_max > 10 else 1.0
    edges = [i * width - width / 2 for i in range(int(total_max / width) + 2)]
    ax.hist(totals, bins=edges, color="#4c72b0", edgecolor="white")
    ax.set(xlabel=f"autograded score (out of {total_max:g})", ylabel="students",
           title=f"{assignment}: {len(totals)} graded submission(s)", xlim=(edges[0], edges[-1]))
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _report_markdown(report: dict) -> str:
    rows, tasks = report["rows"], report["tasks"]
    totals = [r["total"] for r in rows]
    mean = sum(totals) / len(totals) if totals else 0.0
    lines = [f"# Class report · {report['assignment']}", "",
             f"{len(rows)} submission(s) graded of {report['collected']} collected; "
             f"autograded mean {mean:.2f} / {report['max']:g}.", "",
             "![score distribution](scores.png)", "", "## Tasks", "",
             "| task | points | mean | full marks |", "|---|---:|---:|---:|"]
    for task in tasks:
        lines.append(f"| {task['title']} (`{task['grade_id']}`) | {task['points']:g} | "
                     f"{task['mean']:.2f} | {task['full']} / {len(rows)} |")
    if report["manual"]:
        lines += ["", "Graded by hand (nbgrader formgrader): "
                  + ", ".join(f"{t} (`{g}`)" for g, t in report["manual"]) + "."]
    lines += ["", "## Failing checks", "",
              "For each task, each distinct failure: how many students hit it, and its message "
              "(the student-specific 'got …' part is cut; one full example follows).", ""]
    for task in tasks:
        if not task["failures"]:
            continue
        lines += [f"### {task['title']}", "", "| students | message |", "|---:|---|"]
        for key, hits in task["failures"]:
            lines.append(f"| {len(hits)} | {_md_cell(key)} |")
        lines.append("")
        for _key, hits in task["failures"]:
            lines.append(f"- e.g. `{hits[0][0]}`: {_md_cell(hits[0][1])[:400]}")
        lines.append("")
    lines += ["## Problems", ""]
    lines += [f"- `{s}`: {p}" for s, p in report["problems"]] or ["None."]
    lines += ["", "## Look at these by hand", ""]
    flagged = [(r["student"], f) for r in rows for f in r["flags"]]
    lines += [f"- `{s}`: {f}" for s, f in flagged] or ["Nothing flagged."]
    lines += ["", "## Students", "", "| student | " + " | ".join(
        t["grade_id"] for t in tasks) + " | total | feedback |",
        "|---|" + "---:|" * (len(tasks) + 1) + "---|"]
    for row in rows:
        lines.append(f"| {row['student']} | " + " | ".join(
            f"{row['scores'].get(t['grade_id'], 0.0):g}" for t in tasks)
            + f" | {row['total']:g} | [html]({row['feedback']}) |")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|")


def _report_html(report: dict) -> str:
    esc = html.escape
    rows, tasks = report["rows"], report["tasks"]
    totals = [r["total"] for r in rows]
    mean = sum(totals) / len(totals) if totals else 0.0
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Class report · {esc(report['assignment'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;vertical-align:top}td.n{text-align:right}"
        "code{background:#f4f4f4}</style></head><body>",
        f"<h1>Class report · {esc(report['assignment'])}</h1>",
        f"<p>{len(rows)} submission(s) graded of {report['collected']} collected; "
        f"autograded mean {mean:.2f} / {report['max']:g}.</p>",
        "<img src='scores.png' alt='score distribution'>",
        "<h2>Tasks</h2><table><tr><th>task</th><th>points</th><th>mean</th>"
        "<th>full marks</th></tr>"]
    for task in tasks:
        parts.append(f"<tr><td>{esc(task['title'])} (<code>{esc(task['grade_id'])}</code>)</td>"
                     f"<td class=n>{task['points']:g}</td><td class=n>{task['mean']:.2f}</td>"
                     f"<td class=n>{task['full']} / {len(rows)}</td></tr>")
    parts.append("</table>")
    if report["manual"]:
        parts.append("<p>Graded by hand (nbgrader formgrader): " + ", ".join(
            f"{esc(t)} (<code>{esc(g)}</code>)" for g, t in report["manual"]) + ".</p>")
    parts.append("<h2>Failing checks</h2><p>For each task, each distinct failure: how many "
                 "students hit it, and its message (the student-specific 'got …' part is cut; "
                 "hover for a full example).</p>")
    for task in tasks:
        if not task["failures"]:
            continue
        parts.append(f"<h3>{esc(task['title'])}</h3><table><tr><th>students</th>"
                     "<th>message</th></tr>")
        for key, hits in task["failures"]:
            parts.append(f"<tr><td class=n>{len(hits)}</td><td title='{esc(hits[0][1])}'>"
                         f"{esc(key)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Problems</h2><ul>")
    parts += [f"<li><code>{esc(s)}</code>: {esc(p)}</li>" for s, p in report["problems"]] or [
        "<li>None.</li>"]
    parts.append("</ul><h2>Look at these by hand</h2><ul>")
    flagged = [(r["student"], f) for r in rows for f in r["flags"]]
    parts += [f"<li><code>{esc(s)}</code>: {esc(f)}</li>" for s, f in flagged] or [
        "<li>Nothing flagged.</li>"]
    parts.append("</ul><h2>Students</h2><table><tr><th>student</th>" + "".join(
        f"<th>{esc(t['grade_id'])}</th>" for t in tasks) + "<th>total</th><th>feedback</th></tr>")
    for row in rows:
        parts.append(f"<tr><td>{esc(row['student'])}</td>" + "".join(
            f"<td class=n>{row['scores'].get(t['grade_id'], 0.0):g}</td>" for t in tasks)
            + f"<td class=n>{row['total']:g}</td><td><a href='{esc(row['feedback'])}'>html</a>"
            "</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Release
# ---------------------------------------------------------------------------------------------


def release(assignments: list[str], db: str | None = None) -> None:
    """nbgrader generate_assignment --force in the repository: solutions/ -> exercises/."""
    for assignment in assignments or _assignments():
        _check_assignment(assignment)
        args = ["generate_assignment", assignment, "--force"] + ([f"--db={db}"] if db else [])
        _run_nbgrader(REPO, *args)
        print(f"released exercises/{assignment}/ (commit it with solutions/{assignment}/)")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _summary(course: Path, assignment: str) -> None:
    manifest = _read_manifest(course, assignment)
    rejected = [e for e in manifest if e["status"] == "rejected"]
    print(f"collected {len(manifest) - len(rejected)} notebook(s) of {assignment}, "
          f"rejected {len(rejected)}")
    for entry in rejected:
        print(f"  {entry['student']:<24} {entry['reason']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m common.grading",
        description="Instructor workflow on nbgrader: release, collect a folder of submissions, "
                    "autograde in parallel with a time and memory limit, export grades, "
                    "generate feedback, and write a class report.",
        epilog="A full round: `python -m common.grading run 02_vae SUBMISSIONS/`; then open "
               "COURSE/reports/02_vae/report.html. Steps can also be run one by one.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def add(name, text, course=True):
        command = commands.add_parser(name, help=text, description=text)
        if course:
            command.add_argument("--course", type=Path, default=DEFAULT_COURSE,
                                 help=f"grading course folder (default {DEFAULT_COURSE})")
        return command

    def grading_options(command):
        command.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                             help="students graded at once (default: number of cores)")
        command.add_argument("--timeout", type=int, default=None,
                             help="per-cell timeout in seconds (default: nbgrader_config.py)")
        command.add_argument("--memory-mb", type=int, default=None,
                             help="memory (address-space) limit per kernel in MiB, 0 for none "
                                  f"(default: nbgrader_config.py, {DEFAULT_MEMORY_MB})")
        command.add_argument("--student-timeout", type=float, default=DEFAULT_STUDENT_TIMEOUT,
                             help="wall-clock limit for one student's whole autograde, after "
                                  f"which it is killed (default {DEFAULT_STUDENT_TIMEOUT} s)")
        command.add_argument("--force", action="store_true",
                             help="re-grade students that were already autograded")

    command = add("release", "Regenerate exercises/ from solutions/ (nbgrader "
                             "generate_assignment --force) in the repository.", course=False)
    command.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    command.add_argument("--db", default=None, help="gradebook URL (default: nbgrader_config.py)")

    command = add("collect", "Copy a folder of submissions into the course (originals are only "
                             "read): one .ipynb per student with any names, or nbgrader's "
                             "submitted/<student>/<assignment>/ layout.")
    command.add_argument("assignment")
    command.add_argument("source", type=Path)

    command = add("autograde", "nbgrader autograde every collected student, in parallel.")
    command.add_argument("assignment")
    grading_options(command)

    command = add("export", "nbgrader export: grades CSV (default COURSE/grades.csv).")
    command.add_argument("--to", type=Path, default=None)

    command = add("feedback", "nbgrader generate_feedback: COURSE/feedback/<student>/...html.")
    command.add_argument("assignment")

    command = add("report", "Class report (Markdown, HTML, histogram PNG, scores CSV) in "
                            "COURSE/reports/<assignment>/.")
    command.add_argument("assignment")

    command = add("run", "collect, autograde, export, feedback and report in one go.")
    command.add_argument("assignment")
    command.add_argument("source", type=Path)
    grading_options(command)

    args = parser.parse_args(argv)
    if getattr(args, "assignment", None):
        _check_assignment(args.assignment)
    course = getattr(args, "course", None)
    if args.command == "release":
        release(args.assignments, args.db)
    elif args.command == "collect":
        collect(args.source, args.assignment, course)
        _summary(course.expanduser().resolve(), args.assignment)
    elif args.command == "autograde":
        prepare_course(course, args.assignment)
        autograde(course, args.assignment, args.jobs, args.timeout, args.memory_mb, args.force,
                  args.student_timeout)
    elif args.command == "export":
        print(export(course, args.to))
    elif args.command == "feedback":
        print(feedback(course, args.assignment))
    elif args.command == "report":
        print(class_report(course, args.assignment) / "report.html")
    elif args.command == "run":
        collect(args.source, args.assignment, course)
        course = course.expanduser().resolve()
        _summary(course, args.assignment)
        runs = autograde(course, args.assignment, args.jobs, args.timeout, args.memory_mb,
                         args.force, args.student_timeout)
        grades = export(course)
        feedback(course, args.assignment)
        report = class_report(course, args.assignment)
        failed = [r for r in runs if r.status != "graded"]
        print(f"grades:   {grades}\nfeedback: {course / 'feedback'}\n"
              f"report:   {report / 'report.html'}")
        for run in failed:
            print(f"  not graded: {run.student} ({run.status}: {run.detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
