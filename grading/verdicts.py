"""Hidden-test verdicts, decided in the grader from what the probes recorded.

Each assignment's hidden tests live beside its notebook in solutions/<assignment>/hidden_tests.py
(nbgrader never releases that file): `probe_<test id>(answers)` runs in the student's sandboxed
kernel after the whole notebook and records outputs (see grading.probe_runtime);
`verdict_<test id>(got, ref)` runs here, in a process that never ran student code, and raises
AssertionError with a teaching message when the student's record `got` is wrong. `ref` is the
record of the same probe run against the solution notebook's definitions."""

from __future__ import annotations

import builtins
import re
import zipfile
from pathlib import Path

import numpy as np

from grading import probe_runtime

HIDDEN_TESTS = "hidden_tests.py"
MAX_RECORD_BYTES = 64 * 2**20  # one probe's .npz; a larger file is treated as no record
MAX_ENTRIES = 10_000


class Probed:
    """One test's record: `record[name]` is the array a probe computed for `name`."""

    def __init__(self, test_id: str, names, arrays, errors, reference: bool = False):
        self.test_id, self.reference = test_id, reference
        self.values = {str(n): a for n, a in zip(names, arrays)}
        self.errors = {str(n): str(e) for n, e in zip(names, errors) if str(e)}

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


def load_record(path: Path, test_id: str, reference: bool = False) -> Probed | None:
    """A record written by probe_runtime.save, read without pickle; None when the file is
    missing, too large, or not a record (the student's kernel wrote it, so trust nothing)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
            return None
        with zipfile.ZipFile(path) as archive:  # refuse archives that unpack to too much
            if sum(i.file_size for i in archive.infolist()) > 4 * MAX_RECORD_BYTES:
                return None
        with np.load(path, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            errors = [str(e) for e in data["errors"]]
            if len(names) != len(errors) or len(names) > MAX_ENTRIES:
                return None
            arrays = [np.array(data[f"v{i}"]) for i in range(len(names))]
    except Exception:  # damaged, forged or truncated: no record
        return None
    return Probed(test_id, names, arrays, errors, reference)


def load_records(folder: Path, test_ids, reference: bool = False) -> dict[str, Probed | None]:
    """{test id: record or None} from folder/<test id>.npz (a folder the kernel could write)."""
    if folder.is_symlink() or not folder.is_dir():
        return dict.fromkeys(test_ids)
    return {t: load_record(folder / f"{t}.npz", t, reference) for t in test_ids}


def hidden_tests_source(source_folder: Path) -> str:
    """The text of source_folder/hidden_tests.py ('' when the assignment has none)."""
    path = Path(source_folder) / HIDDEN_TESTS
    return path.read_text() if path.exists() else ""


def load_verdicts(source: str) -> dict:
    """{test id: verdict function} of a hidden-tests source text."""
    module = {"__name__": "hidden_tests"}
    exec(compile(source, HIDDEN_TESTS, "exec"), module)
    return {name[len("verdict_"):]: value for name, value in module.items()
            if name.startswith("verdict_") and callable(value)}


def decide(verdict, got: Probed | None, ref: Probed) -> str:
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
        verdict(got, ref)
    except AssertionError as error:
        return f"hidden tests: {error}"
    except Exception as error:  # a verdict on malformed data: a failure, not a grader crash
        return (f"hidden tests: your answer gave data the tests cannot use "
                f"({type(error).__name__}: {error})")
    return ""


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


def in_process(source: str, namespace: dict, reference: bool = False,
               only: str | None = None) -> dict[str, Probed]:
    """Run every probe of `source` (or the one of test `only`) against `namespace` in this
    process (trusted code only: the reference solution and the test suite)."""
    answers = probe_runtime.Answers(namespace)
    return {test_id: Probed(test_id, *probe_runtime.probe_record(function, answers),
                            reference=reference)
            for test_id, function in probe_runtime.probes(source).items()
            if only is None or test_id == only}
