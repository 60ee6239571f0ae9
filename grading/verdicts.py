"""Hidden-test verdicts, decided in the grader from what the probes recorded.

Each assignment's hidden tests live beside its notebook in solutions/<assignment>/hidden_tests/
(nbgrader never releases that folder), split by where they run:
- `probes.py` runs in the student's sandboxed kernel after the whole notebook:
  `probe_<test id>(answers, inputs)` calls the student's functions on `inputs` and records
  their outputs (see grading.probe_runtime). It holds no verdict, no expected value and no code
  that computes a graded answer; its source is all of the hidden tests the kernel receives.
- `verdicts.py` runs here, in a process that never ran student code: `probe_inputs(seed)` draws
  every probe's inputs for one class run ({test id: data}), and `verdict_<test id>(got, ref,
  inputs)` raises AssertionError with a teaching message when the student's record `got` is
  wrong. `ref` is the record of the same probe run against the solution's definitions, `inputs`
  the data the probe was given. It may import names from `.probes`. `DEPENDS = {test id:
  (earlier test ids, ...)}` names the earlier tasks whose functions a task's code calls (its
  probe lends them with `answers.earlier`, so its verdict never depends on them).
- `trials.py` (design tasks only) trains a design the probe recorded as data, in a sandbox of
  its own that never ran student code (grading.trials); the verdict reads its record as
  `got.trial`, after `trial_outcome` (below), which fails it with the same message in every
  assignment when the trial was lost or found that the design breaks the rules.

A record is checked from its headers (member names, dtypes, shapes, sizes) before anything is
loaded, and every student's verdicts are decided in a child process with its own memory and time
limits (`python -m grading.verdicts`), so a record built to exhaust the grader fails only its
own student's verdicts."""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import importlib.util
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

from grading import probe_runtime

HIDDEN_TESTS = "hidden_tests"  # folder beside the solution notebook
MAX_RECORD_BYTES = 64 * 2**20  # one probe's .npz; a larger file is treated as no record
MAX_ENTRIES = 10_000  # names in one record
MAX_ELEMENTS = 2**25  # array elements in one record, whatever their width
VERDICT_MEMORY_BYTES = 3 * 2**30  # address space of the process deciding one student
VERDICT_CPU_SECONDS = 120  # CPU time of that process
TRIAL_SUFFIX = ".trial.npz"  # beside <test id>.npz: the record of the grader's trial of a design


class Hidden:
    """An assignment's hidden tests: the probes' source (what the kernel receives), the
    verdicts, and the function drawing each class run's probe inputs."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.probes_source = (self.folder / "probes.py").read_text()
        name = "_hidden_tests_" + re.sub(r"\W", "_", str(self.folder.resolve()))
        if name not in sys.modules:  # a package of its own, so verdicts.py can import .probes
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [str(self.folder)]
            sys.modules[name] = importlib.util.module_from_spec(spec)
        self.module = importlib.import_module(f"{name}.verdicts")
        self.verdicts = {key[len("verdict_"):]: value for key, value in vars(self.module).items()
                         if key.startswith("verdict_") and callable(value)}

    @property
    def depends(self) -> dict[str, tuple[str, ...]]:
        """{test id: the earlier test ids whose tasks' functions it calls}."""
        return {k: tuple(v) for k, v in getattr(self.module, "DEPENDS", {}).items()}

    @property
    def test_ids(self) -> list[str]:
        return list(self.verdicts)

    def probe_inputs(self, seed: int) -> dict:
        """{test id: the data its probe is given} for the class run of `seed`."""
        return self.module.probe_inputs(int(seed))

    def digest_parts(self) -> list[bytes]:
        return [(self.folder / name).read_bytes() for name in ("probes.py", "verdicts.py",
                                                                "trials.py")
                if (self.folder / name).exists()]


def load_hidden(source_folder: Path) -> Hidden | None:
    """The hidden tests of the assignment whose source is `source_folder` (None without)."""
    folder = Path(source_folder) / HIDDEN_TESTS
    return Hidden(folder) if (folder / "verdicts.py").exists() else None


class Probed:
    """One test's record: `record[name]` is the array a probe computed for `name`."""

    def __init__(self, test_id: str, names, arrays, errors, reference: bool = False):
        self.test_id, self.reference = test_id, reference
        self.values = {str(n): a for n, a in zip(names, arrays)}
        self.errors = {str(n): str(e) for n, e in zip(names, errors) if str(e)}
        self.trial: Probed | None = None  # what the grader's trial of a design reached

    @property
    def failure(self) -> str:
        """The error of a probe that could not run at all ('' when it ran)."""
        return self.errors.get("", "")

    def error(self, name: str) -> str:
        """The error computing `name` raised ('' when it was computed)."""
        return self.errors.get(name, "")

    def __contains__(self, name: str) -> bool:
        return name in self.values and name not in self.errors

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.errors:
            if self.reference:
                raise RuntimeError(f"{self.test_id}: the reference solution raised on {name!r}: "
                                   f"{self.errors[name]}")
            raise AssertionError(f"{name}: your code raised {error_kind(self.errors[name])}")
        if name not in self.values:
            raise (RuntimeError if self.reference else AssertionError)(
                f"{self.test_id}: nothing was recorded for {name!r}")
        return self.values[name]


def _header_problem(archive: zipfile.ZipFile) -> str:
    """Why a record's members cannot be loaded safely ('' when they can): checked from the
    zip directory and each array's .npy header alone, before any array is built."""
    members = archive.infolist()
    allowed = {"names.npy", "errors.npy"} | {f"v{i}.npy" for i in range(MAX_ENTRIES)}
    if len(members) > MAX_ENTRIES + 2 or any(m.filename not in allowed for m in members):
        return "unexpected members"
    if sum(m.file_size for m in members) > 4 * MAX_RECORD_BYTES:
        return "unpacks to too much"
    elements = 0
    for member in members:
        with archive.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            if version not in ((1, 0), (2, 0)):
                return f"{member.filename}: .npy version {version}"
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(handle, max_header_size=10_000)
        if dtype.hasobject or dtype.kind not in "biufcU?":
            return f"{member.filename}: dtype {dtype}"
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count < 0 or count * max(dtype.itemsize, 1) > member.file_size + 128:
            return f"{member.filename}: header promises more than the file holds"
        if member.filename in ("names.npy", "errors.npy") and (
                len(shape) != 1 or count > MAX_ENTRIES or dtype.kind != "U"):
            return f"{member.filename}: not a list of at most {MAX_ENTRIES} texts"
        elements += count
        if elements > MAX_ELEMENTS:
            return "too many elements"
    return ""


def load_record(source: Path | bytes, test_id: str, reference: bool = False) -> Probed | None:
    """A record written by probe_runtime.save (a path or its bytes), read without pickle; None
    when it is missing, too large, or not a record (the student's kernel wrote it, so trust
    nothing: its headers are checked before anything is loaded)."""
    try:
        if isinstance(source, (bytes, bytearray)):
            if len(source) > MAX_RECORD_BYTES:
                return None
            source = io.BytesIO(source)
        elif source.is_symlink() or not source.is_file() or (
                source.stat().st_size > MAX_RECORD_BYTES):
            return None
        with zipfile.ZipFile(source) as archive:
            if _header_problem(archive):
                return None
        if isinstance(source, io.BytesIO):
            source.seek(0)
        with np.load(source, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            errors = [str(e) for e in data["errors"]]
            if len(names) != len(errors):
                return None
            arrays = [np.array(data[f"v{i}"]) for i in range(len(names))]
    except Exception:  # damaged, forged or truncated: no record
        return None
    return Probed(test_id, names, arrays, errors, reference)


def read_record_bytes(path: Path) -> bytes | None:
    """A record file's bytes (None when missing, a link, not a file, or too large), read at
    once so the kernel cannot change it afterwards."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
            return None
        with open(path, "rb") as handle:
            data = handle.read(MAX_RECORD_BYTES + 1)
        return data if len(data) <= MAX_RECORD_BYTES else None
    except OSError:
        return None


def decide(verdict, got: Probed | None, ref: Probed, inputs) -> str:
    """'' when `got` passes `verdict` against `ref`, else the message a student should read."""
    if got is None:
        return ("hidden tests: no result came back from your kernel (it died, hung or was "
                "stopped before they finished)")
    if got.failure:
        return f"hidden tests could not run your code: it raised {error_kind(got.failure)}"
    if ref.failure:
        raise RuntimeError(f"{ref.test_id}: the reference solution failed its own probe: "
                           f"{ref.failure}")
    try:
        verdict(got, ref, inputs)
    except AssertionError as error:
        return f"hidden tests: {error}"
    except Exception as error:  # a verdict on malformed data: a failure, not a grader crash
        return (f"hidden tests: your answer gave data the tests cannot use "
                f"({type(error).__name__}: {error})")
    return ""


def named_mistake(got, default: str, mistakes, rtol: float, atol: float) -> str:
    """For a verdict's message: the hint of the first typical mistake ([(hint, result)]) whose
    result `got` equals, else `default`, so that a wrong value is told by its likely cause."""
    value = np.asarray(got, np.float64)
    for hint, result in mistakes:
        result = np.asarray(result, np.float64)
        if (value.shape == result.shape and np.all(np.isfinite(value))
                and np.allclose(value, result, rtol=rtol, atol=atol)):
            return hint
    return default


def trial_outcome(got: Probed, call: str, budget: str) -> Probed:
    """The record of the grader's trial of a design (`got.trial`), for a design verdict to
    measure; AssertionError with the verdict's message when there is none to measure: the
    trial is missing or failed (the design could not be trained within the limits of `budget`,
    a text such as "5 epochs of 3,000 digits"; `call` is how the design's check cell calls it,
    such as "design_autoencoder(16)"), or the design breaks the rules (the trial's problems)."""
    trial = got.trial
    if trial is None or trial.failure:
        raise AssertionError(
            "the grader could not train your design within the limits (it must train in the "
            f"budget: {budget}). Run the design's check cell: does {call} build and train there?")
    problems = trial["problems"].item()
    if problems:
        raise AssertionError(f"{call.partition('(')[0]} breaks the rules: {problems}")
    return trial


def error_kind(error: str) -> str:
    """The name of a built-in exception ('TypeError'), else 'an exception': the text an
    exception carries was written by the student's code while the probes ran."""
    name = error.split(":", 1)[0]
    return name if isinstance(getattr(builtins, name, None), type) else "an exception"


_GOT = re.compile(r"([;,:] got\b|\(got\b).*?(?=(\.? Hint:)|$)", re.S)
_WHERE = re.compile(r" at index \([0-9, ]*\)")


def _texts(record: Probed | None) -> set[str]:
    """Every string a record holds (names a student chose, such as log keys)."""
    if record is None:
        return set()
    arrays = [np.asarray(a) for a in record.values.values() if a is not None]
    return {str(t) for a in arrays if a.dtype.kind == "U" for t in a.ravel()}


def for_student(message: str, got: Probed | None = None, ref: Probed | None = None) -> str:
    """A verdict's message without what the student's kernel computed while the probes ran
    (the 'got …' parts, the index of the worst element, the texts of the errors it raised, and
    any text it recorded that the reference did not, wherever the verdict quotes it): nothing
    the kernel wrote after it saw the hidden tests may reach the student. The expected values
    and hints stay."""
    for error in sorted((got.errors.values() if got else ()), key=len, reverse=True):
        quoted = next((error[:n] for n in range(len(error), 11, -1) if error[:n] in message), "")
        if quoted:  # a verdict may quote an error whole or cut
            message = message.replace(quoted, error_kind(error))
    for text in sorted(_texts(got) - _texts(ref), key=len, reverse=True):
        if len(text) >= 2:
            message = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", "…", message)
    return _WHERE.sub("", _GOT.sub(r"\1 something else", message))[:2000]


def notebook_test_ids(notebook: Path) -> list[str]:
    """The grade ids of a notebook's autograded test cells, in notebook order."""
    cells = json.loads(Path(notebook).read_text()).get("cells", [])
    return [meta["grade_id"] for meta in (c.get("metadata", {}).get("nbgrader", {})
                                          for c in cells if c.get("cell_type") == "code")
            if meta.get("grade") and not meta.get("solution") and meta.get("grade_id")]


def in_process(hidden: Hidden, namespace: dict, inputs: dict, tables: dict | None = None,
               only: str | None = None) -> tuple[dict[str, Probed], dict]:
    """({test id: record}, tables): every probe (or the one of test `only`) run against
    `namespace` in this process, trusted code only (the reference solution, recording what it
    lends when `tables` is None, and the test suite)."""
    found, recorded = probe_runtime.run_all(hidden.probes_source, namespace, inputs, tables,
                                            only)
    return ({test_id: Probed(test_id, *record, reference=tables is None)
             for test_id, record in found.items()}, recorded)


def decide_student(folder: Path, inputs_file: Path, references: Path, records: Path) -> dict:
    """{test id: [message, message for the student]} for one student, by the hidden tests in
    `folder` (solutions/<assignment>/hidden_tests): `records` holds the
    bytes the kernel wrote (<test id>.npz, copied out of its reach), `references` the
    solution's records and `inputs_file` the class run's probe inputs."""
    hidden = Hidden(folder)
    inputs = probe_runtime.load(str(inputs_file))
    decided = {}
    for test_id, verdict in hidden.verdicts.items():
        ref = load_record(references / f"{test_id}.npz", test_id, reference=True)
        if ref is None:
            raise RuntimeError(f"no reference record for {test_id} in {references}")
        got = load_record(records / f"{test_id}.npz", test_id)
        if got is not None:
            got.trial = load_record(records / f"{test_id}{TRIAL_SUFFIX}", test_id)
        message = decide(verdict, got, ref, inputs.get(test_id))
        decided[test_id] = [message, for_student(message, got, ref) if message else ""]
    return decided


def _limit_self(cpu_seconds: int) -> None:
    """The child's own limits, set before it reads a record (not in a preexec_fn: the grader
    that starts it runs threads, where forking into Python code can deadlock)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (VERDICT_MEMORY_BYTES, VERDICT_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def decide_in_child(folder: Path, inputs_file: Path, references: Path, records: Path,
                    timeout: float = 2 * VERDICT_CPU_SECONDS) -> dict | str:
    """decide_student in a child process under its own memory, CPU and wall-clock limits:
    its result, or why it gave none (then every verdict of that student fails)."""
    import subprocess

    try:
        result = subprocess.run(
            [sys.executable, "-m", "grading.verdicts", str(folder), str(inputs_file),
             str(references), str(records), str(VERDICT_CPU_SECONDS)], capture_output=True,
            text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"deciding them took longer than {timeout:.0f} s"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["killed at its limits"])[-1]
        return f"deciding them failed ({last[:300]})"
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return "deciding them gave no result"


if __name__ == "__main__":
    _limit_self(int(sys.argv[5]))
    json.dump(decide_student(*map(Path, sys.argv[1:5])), sys.stdout)
