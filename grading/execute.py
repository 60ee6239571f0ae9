"""nbgrader extensions that nbgrader_config.py switches on, for `python -m grading` and plain
`nbgrader autograde` alike.

- GradingKernelManager starts each kernel in the sandbox (grading.sandbox) with an address-space
  limit (RLIMIT_AS), no core dumps, and COURSE_MODE=test, COURSE_OFFLINE=1, figures inline.
- GradingExecute (nbgrader's Execute) survives a kernel that dies (os._exit, segfault, memory)
  or a cell that cannot be interrupted: it records the error in that cell, starts a new kernel,
  silently re-runs the earlier cells, and goes on, so the student's other tasks are still
  graded. After the last cell it runs the hidden tests' probes in the same kernel, one test at a
  time (outputs discarded; each record is taken out of the kernel's reach before the next probe
  starts), then, once the kernel is gone, trains each design a design task's probe recorded in a
  fresh sandbox of its own (grading.trials), and decides each test cell's verdict outside the
  student's interpreter, in a child process with its own limits (grading.verdicts): a test cell
  keeps its points only if its verdict passed and it passed in the notebook, or failed there
  only because an earlier task it uses (the verdicts' DEPENDS) lost its points. The probes'
  inputs are drawn from one seed per class run (`probe_seed`). Outputs are capped in bytes, per
  cell and per notebook.
- GradingSaveAutoGrades scores a test cell by its checks only: an error fails it, a warning or
  anything else on stderr does not (nbgrader 0.9 scores such a cell 0). What went to stderr
  stays in the cell for the student to read, and the class report lists it.
- GradingOverwriteCells restores deleted test cells more robustly than nbgrader 0.9.
"""

from __future__ import annotations

import copy
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, OverwriteCells, SaveAutoGrades
from traitlets import Bool, Dict, Integer, Unicode

from grading import cgroups, db_timing, probe_runtime, sandbox, trials, verdicts

db_timing.install()  # the scale benchmark's clock on gradebook statements (off by default)

DEFAULT_MEMORY_MB = 4096  # per kernel; the test suite autogrades every assignment within it
KERNEL_ENV = {  # every autograded kernel runs in test mode, offline, headless
    "COURSE_MODE": "test",
    "COURSE_OFFLINE": "1",
    # Figures become PNG outputs at the end of their cell, as in JupyterLab, without a display:
    # graders see the plots written answers discuss (feedback pages, formgrader).
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "MALLOC_ARENA_MAX": "2",  # fewer glibc arenas: less reserved address space per thread
}
FILE_SIZE_LIMIT = 256 << 20  # bytes per file the kernel writes (RLIMIT_FSIZE), its log included

# Runs as `python -c _LAUNCHER LIMIT ENV_JSON kernel-command...`: set limits, then exec the kernel.
_LAUNCHER = """\
import json, os, sys
limit, env = int(sys.argv[1]), json.loads(sys.argv[2])
os.environ.update(env)
os.environ.pop("JPY_PARENT_PID", None)  # the kernel would watch a PID it cannot see, and exit
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ImportError, ValueError, OSError) as error:
    print(f"grading kernel: could not set the limits: {error}", file=sys.stderr)
os.execvp(sys.argv[3], sys.argv[3:])
""".replace("FILE_SIZE_LIMIT", str(FILE_SIZE_LIMIT))


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start sandboxed, with limits and the grading environment.
    The grader sets `workdir` (see sandbox.make_workdir) before starting the kernel."""

    memory_limit_mb = Integer(DEFAULT_MEMORY_MB,
                              help="Address-space limit of the kernel in MiB (0: none).").tag(
        config=True)
    kernel_env = Dict(help="Environment variables set in the kernel.").tag(config=True)
    sandboxed = Bool(True, help="Run the kernel in the bubblewrap sandbox.").tag(config=True)
    workdir = Unicode("", help="The kernel's private working folder.")
    group = None  # the kernel's control group (grading.cgroups), when the machine gives one

    def use_workdir(self, workdir: Path, group: cgroups.Group | None = None) -> None:
        self.workdir, self.group = str(workdir), group
        if self.sandboxed:  # Unix sockets in the shared folder: the sandbox has no network
            self.transport = "ipc"
            self.ip = str(workdir / "kernel")
            self.connection_file = str(workdir / "kernel.json")

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.sandboxed:
            spec.interrupt_mode = "message"  # the grader cannot signal into the PID namespace
        return spec

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        launch = [sys.executable, "-c", _LAUNCHER, str(self.memory_limit_mb * 2**20),
                  json.dumps(self.kernel_env), *command]
        if not self.sandboxed:
            return launch
        workdir = Path(self.workdir)
        command = sandbox.command(workdir, launch, sandbox.base_env(workdir))
        if self.group is not None:  # the sandbox and all it starts, from the first instruction
            command = [sys.executable, "-c", cgroups.JOIN, *self.group.procs_files(), "--",
                       *command]
        return command


MESSAGE_WIDTH = 100  # characters per line of the grader's messages as feedback pages show them


def _error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    """An error the grader adds to a cell; its traceback (what the feedback pages and the
    formgrader show, in a box that does not wrap) is wrapped to MESSAGE_WIDTH."""
    shown = "\n".join(textwrap.fill(line, MESSAGE_WIDTH, subsequent_indent="  ",
                                     break_long_words=False, break_on_hyphens=False) or line
                       for line in f"{ename}: {evalue}".splitlines())
    shown = shown.replace(f"{ename}:", f"\x1b[0;31m{ename}\x1b[0m:", 1)
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[shown])


def _error_names(cell) -> list[str]:
    return [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def _output_bytes(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode())


ERROR_BYTES = 8192  # of an error's message and traceback, kept whatever the budget


def _short_error(output):
    """An error output cut to ERROR_BYTES: errors decide scores, so they are never dropped."""
    if _output_bytes(output) <= ERROR_BYTES:
        return output
    output = copy.deepcopy(output)
    output["evalue"] = str(output.get("evalue", ""))[:ERROR_BYTES // 4]
    lines, size = [], 0
    for line in reversed(output.get("traceback", [])):  # the innermost frames say the most
        size += len(line.encode())
        if size > ERROR_BYTES // 2:
            break
        lines.insert(0, line)
    output["traceback"] = ["[grader: traceback cut]", *lines]
    return output


def cut_outputs(outputs: list, budget: int) -> tuple[list, int]:
    """(outputs that fit in `budget` bytes, bytes used), in their order. Errors are always kept
    (cut to ERROR_BYTES); a stream that does not fit is cut, other outputs dropped, and a note
    says so."""
    errors = [_short_error(o) for o in outputs if o.get("output_type") == "error"]
    room = budget - sum(map(_output_bytes, errors))
    kept, used, cut = [], 0, False
    for output in outputs:
        if output.get("output_type") == "error":
            kept.append(errors.pop(0))
            continue
        size = _output_bytes(output)
        if not cut and used + size <= room:
            kept.append(output)
            used += size
            continue
        if not cut and output.get("output_type") == "stream" and room - used > 200:
            output = copy.deepcopy(output)
            output["text"] = output["text"].encode()[:room - used - 200].decode(errors="ignore")
            kept.append(output)
        if not cut:
            kept.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[grader: output cut here; a cell may keep {budget:,} bytes of "
                     "output]\n"))
        cut = True
    return kept, (budget if cut else used + budget - room)


_FORGET_LAST_ERROR = """\
import sys as _grading_sys
for _grading_name in ("last_type", "last_value", "last_traceback", "last_exc"):
    setattr(_grading_sys, _grading_name, None)
del _grading_sys, _grading_name
"""


def _probe_program(source: str, test_id: str, inputs: Path, out: Path) -> str:
    """Kernel code that runs probe `test_id` of the probes' `source` against the student's
    globals, with the runtime in a namespace of its own (the student's names are not touched)."""
    runtime = Path(probe_runtime.__file__).read_text()
    return (f"(lambda _g: (exec(compile({runtime!r}, '<grading>', 'exec'), _g), "
            f"_g['run_one']({source!r}, globals(), {test_id!r}, {str(inputs)!r}, "
            f"{str(out)!r})))({{'__name__': '__grading__'}})\n")


_PROCESS_SEED: list[int] = []  # plain `nbgrader autograde`: one seed per process, drawn once
_WARNED: list[bool] = []  # the missing control groups are said once per process


def _excuse(cell, failed_earlier: list[str]) -> None:
    """A test cell whose visible checks failed on an earlier task's mistake keeps its points:
    its verdict, decided with correct versions of those tasks' functions, passed. Its errors
    stay readable as text, with the grader's note first."""
    note = (f"[grader: the checks above failed, but {', '.join(failed_earlier)} (an earlier "
            "task this one uses) lost its own points; this task was graded by its hidden tests "
            "with a correct version of that task, and passed them: full points]\n")
    texts = [f"{o.get('ename', '')}: {o.get('evalue', '')}\n" for o in cell.outputs
             if o.get("output_type") == "error"]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=note + "".join(texts))
                    ] + [o for o in cell.outputs if o.get("output_type") != "error"]


class GradingExecute(Execute):
    """nbgrader's Execute, sandboxed, with kernel-death recovery, byte limits on outputs and
    hidden-test verdicts decided outside the kernel (see the module docstring)."""

    memory_limit_mb = Integer(DEFAULT_MEMORY_MB,
                              help="Address-space limit per kernel in MiB (0: none).").tag(
        config=True)
    max_kernel_restarts = Integer(3, help="Kernel restarts per notebook before giving up.").tag(
        config=True)
    kernel_threads = Integer(0, help="Threads per kernel for TensorFlow/BLAS (0: their "
                                     "default); set when grading in parallel.").tag(config=True)
    kernel_env = Dict(help="Extra environment variables for the kernel.").tag(config=True)
    sandboxed = Bool(True, help="Run every kernel in the bubblewrap sandbox. Turn off only for "
                                "code you trust: without it a submission runs with your "
                                "powers.").tag(config=True)
    cell_output_bytes = Integer(256 * 1024, help="Output bytes kept per cell.").tag(config=True)
    notebook_output_bytes = Integer(2 * 2**20, help="Output bytes kept per notebook.").tag(
        config=True)
    control_groups = Bool(True, help="Put each sandboxed kernel in a control group: memory "
                                     "(tmpfs included), processes and CPU weight limited for "
                                     "everything it starts, where the machine allows.").tag(
        config=True)
    max_processes = Integer(512, help="Processes and threads a sandboxed kernel may have at "
                                      "once (with control groups).").tag(config=True)
    probe_seed = Integer(-1, help="Seed of the hidden tests' probe inputs for this class run "
                                  "(-1: draw one; `python -m grading` draws one per run and "
                                  "logs it).").tag(config=True)

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
        group = self._control_group()
        self._workdir = sandbox.make_workdir(on_tmpfs=group is not None)
        self._workdirs.append(self._workdir)
        if isinstance(manager, GradingKernelManager):
            manager.memory_limit_mb = self.memory_limit_mb
            manager.kernel_env = self._grading_env()
            manager.sandboxed = self.sandboxed
            manager.use_workdir(self._workdir, group)
        return manager

    def _control_group(self) -> cgroups.Group | None:
        """A control group for the next kernel (memory, pids, CPU weight for all it starts),
        or None where the machine gives none (said once per process) or unsandboxed."""
        if not self.sandboxed or not self.control_groups:
            return None
        if cgroups.unavailable_reason():
            if not _WARNED:
                self.log.warning("Grading without control groups: %s",
                                 cgroups.unavailable_reason())
                _WARNED.append(True)
            return None
        memory = self.memory_limit_mb * 2**20 if self.memory_limit_mb > 0 else 2**62
        group = cgroups.Group.create(cgroups.Limits(memory, self.max_processes))
        self._groups.append(group)
        return group

    # --- the whole notebook -------------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        if self.sandboxed and sandbox.unavailable_reason():
            raise sandbox.SandboxUnavailable(sandbox.unavailable_reason())
        self._skip_on_replay: set[int] = set()
        self._restarts = 0
        self._abandoned = ""
        self._workdirs: list[Path] = []
        self._groups: list[cgroups.Group] = []
        self.error_on_timeout = {
            "ename": "CellTimeoutError",
            "evalue": f"this cell ran longer than the {self.timeout} s per-cell limit and was "
                      "interrupted",
            "traceback": [f"\x1b[0;31mCellTimeoutError\x1b[0m: this cell ran longer than the "
                          f"{self.timeout} s per-cell limit and was interrupted"]}
        hidden = self._hidden_tests(resources or {})
        records = Path(tempfile.mkdtemp(prefix="grading-records-"))  # the grader's alone
        try:
            try:
                self._execute_notebook(nb, resources, hidden, records)
            finally:
                for group in self._groups:  # nothing the student started outlives grading
                    group.remove()
                for workdir in self._workdirs:
                    shutil.rmtree(workdir, ignore_errors=True)
            if hidden:
                self._run_trials(hidden, records)
                self._apply_verdicts(hidden, records, resources or {})
        finally:
            shutil.rmtree(records, ignore_errors=True)
        self._limit_outputs()
        return self.nb, self.resources

    def _execute_notebook(self, nb, resources, hidden, records: Path) -> None:
        """nbconvert's ExecutePreprocessor.preprocess, plus the probes before the kernel ends."""
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        with self.setup_kernel():
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                self.preprocess_cell(cell, resources, index)
            if hidden and not self._abandoned:
                self._run_probes(hidden, records)
        self.set_widgets_metadata()

    def _run_probes(self, hidden: dict, records: Path) -> None:
        """Run the probes in the student's kernel, one test at a time in notebook order, each
        given only its own data; nothing it prints is kept. Each record is copied out of the
        kernel's reach before the next probe starts, so no later probe can change it."""
        folder = self._workdir / "probes"
        for test_id in hidden["order"]:
            inputs, out = folder / f"{test_id}.inputs.npz", folder / f"{test_id}.npz"
            shutil.copyfile(hidden["references"] / "kernel" / f"{test_id}.npz", inputs)
            try:
                msg_id = self.kc.execute(
                    _probe_program(hidden["hidden"].probes_source, test_id, inputs, out),
                    silent=True, store_history=False, allow_stdin=False)
                self.wait_for_reply(msg_id)
            except Exception as error:  # a hung or dead kernel: the missing records fail
                self.log.warning("The hidden-test probes stopped at %s: %s", test_id, error)
                return
            data = verdicts.read_record_bytes(out)
            if data is not None:
                (records / f"{test_id}.npz").write_bytes(data)
            for path in (inputs, out):
                path.unlink(missing_ok=True)

    def _run_trials(self, hidden: dict, records: Path) -> None:
        """Train each design the probes recorded, each in a fresh sandbox of its own, under the
        kernel's limits (grading.trials); its record goes beside the probe's."""
        folder = hidden["hidden"].folder
        ids = trials.trial_ids(folder)
        inputs = probe_runtime.load(str(hidden["references"] / "inputs.npz")) if ids else {}
        for test_id in ids:
            design = verdicts.load_record(records / f"{test_id}.npz", test_id)
            if design is None or design.failure:
                continue  # no design: its verdict says so
            group = self._control_group()
            workdir = sandbox.make_workdir(on_tmpfs=group is not None)
            try:
                trial = trials.prepare(folder, workdir, design, inputs.get(test_id))
                command = [sys.executable, "-c", _LAUNCHER, str(self.memory_limit_mb * 2**20),
                           json.dumps(self._grading_env()), *trials.command(trial, test_id)]
                if self.sandboxed:
                    command = sandbox.command(workdir, command, sandbox.base_env(workdir))
                if group is not None:
                    command = [sys.executable, "-c", cgroups.JOIN, *group.procs_files(), "--",
                               *command]
                try:
                    result = subprocess.run(command, capture_output=True, text=True,
                                            timeout=trials.TRIAL_WALL_SECONDS, check=False)
                    failure = "" if result.returncode == 0 else result.stderr[-500:]
                except subprocess.TimeoutExpired:
                    failure = f"it ran longer than {trials.TRIAL_WALL_SECONDS} s"
                data = trials.read(trial)
                if data is not None:
                    (records / f"{test_id}{verdicts.TRIAL_SUFFIX}").write_bytes(data)
                elif failure:
                    self.log.warning("The trial of %s's design failed: %s", test_id, failure)
            finally:
                if group is not None:
                    group.remove()
                    self._groups.remove(group)
                shutil.rmtree(workdir, ignore_errors=True)

    # --- hidden tests -------------------------------------------------------------------------

    def seed(self, log_folder: Path | None = None) -> int:
        """This class run's probe seed: probe_seed, else one drawn once in this process (and
        logged, so the run can be reproduced)."""
        if self.probe_seed >= 0:
            return self.probe_seed
        if not _PROCESS_SEED:
            _PROCESS_SEED.append(secrets.randbelow(2**31))
            self.log.warning("Hidden-test probe inputs drawn from seed %d (reproduce with "
                             "--GradingExecute.probe_seed=%d)", _PROCESS_SEED[0],
                             _PROCESS_SEED[0])
            if log_folder is not None:
                log_folder.mkdir(parents=True, exist_ok=True)
                with open(log_folder / "probe-seeds.log", "a") as log:
                    log.write(f"{_PROCESS_SEED[0]}\n")
        return _PROCESS_SEED[0]

    def _hidden_tests(self, resources: dict) -> dict | None:
        """This notebook's hidden tests, the references of this class run's seed, and the
        order of its test cells, or None."""
        info = resources.get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if not assignment:
            return None
        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        hidden = verdicts.load_hidden(folder)
        if hidden is None:
            return None
        from grading import references

        root = Path(coursedir.root)
        seed = self.seed(root / "logs" / assignment)
        cache = references.records(folder / f"{notebook}.ipynb", hidden, root, assignment, seed)
        cells = verdicts.notebook_test_ids(folder / f"{notebook}.ipynb")
        order = [t for t in cells if t in hidden.verdicts]
        order += [t for t in hidden.test_ids if t not in order]
        return {"hidden": hidden, "references": cache, "order": order, "seed": seed}

    def _apply_verdicts(self, hidden: dict, records: Path, resources: dict) -> None:
        """Fail every test cell whose verdict failed (its message becomes the cell's error)
        and write what was decided to logs/<assignment>/<student>.verdicts.json."""
        decided = verdicts.decide_in_child(hidden["hidden"].folder,
                                           hidden["references"] / "inputs.npz",
                                           hidden["references"], records)
        if isinstance(decided, str):  # a record that broke the limits: this student's loss
            message = (f"hidden tests: the grader could not decide them from what your kernel "
                       f"recorded: {decided}")
            decided = {t: [message, message] for t in hidden["hidden"].test_ids}
        depends = hidden["hidden"].depends
        summary, lost = {}, set()
        for cell in self.nb.cells:  # notebook order: a task's dependencies are decided first
            meta = cell.get("metadata", {}).get("nbgrader", {})
            test_id = meta.get("grade_id")
            if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            if test_id not in decided:
                continue
            message, for_student = decided[test_id]
            passed_in_notebook = not _error_names(cell)
            summary[test_id] = {"notebook": "passed" if passed_in_notebook else "failed",
                                "verdict": message or "passed"}
            failed_earlier = [d for d in depends.get(test_id, ()) if d in lost]
            if failed_earlier:
                summary[test_id]["earlier_failed"] = failed_earlier
            if message:  # first: nbgrader scores a code cell by its first error or result
                cell.outputs.insert(0, _error_output("AssertionError", for_student))
                lost.add(test_id)
            elif not passed_in_notebook and failed_earlier:
                _excuse(cell, failed_earlier)  # its own verdict, on correct earlier answers
            elif not passed_in_notebook:
                lost.add(test_id)
        info = resources.get("nbgrader", {})
        if info.get("student"):
            coursedir = CourseDirectory(config=self.config)
            path = Path(coursedir.root) / "logs" / info["assignment"] / \
                f"{info['student']}.verdicts.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(summary, indent=1))

    # --- outputs ------------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and sum(map(_output_bytes, outs)) > 2 * self.cell_output_bytes:
            outs[:], _ = cut_outputs(outs, self.cell_output_bytes)  # bound memory as it comes
        return out

    def _limit_outputs(self) -> None:
        left = self.notebook_output_bytes
        for cell in self.nb.cells:
            if cell.cell_type == "code" and cell.get("outputs"):
                cell.outputs, used = cut_outputs(cell.outputs, max(0, min(
                    self.cell_output_bytes, left)))
                left -= used

    # --- one cell, and recovery ---------------------------------------------------------------

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
        while self._groups:  # what the dead kernel held (its tmpfs files too) goes with it
            self._groups.pop().remove()
        shutil.rmtree(self._workdir, ignore_errors=True)
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


def is_stderr(output) -> bool:
    return output.get("output_type") == "stream" and output.get("name") == "stderr"


class GradingSaveAutoGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, but a code cell's score ignores what it wrote to stderr: a
    correct answer written in a tutorial's idiom (`LeakyReLU(alpha=...)` in Keras 3) or a
    library that starts to warn on upgrade must not cost a class its points."""

    @staticmethod
    def scored(cell):
        """The cell as it is scored: without its stderr outputs."""
        if cell.cell_type != "code":
            return cell
        cell = copy.copy(cell)
        cell["outputs"] = [o for o in cell.get("outputs", []) if not is_stderr(o)]
        return cell

    def _add_score(self, cell, resources):
        super()._add_score(self.scored(cell), resources)


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
