"""Reference records: the hidden tests' probes run against the solution notebook's definitions.

The definitions are what a test cell may rely on: the notebook's first code cell (imports and
setup) and its solution cells, run in notebook order in `test` mode without training. The
records are computed once per solution and hidden-tests version, in a subprocess (trusted code
only: the instructor's solution), and cached in the course folder.

    python -m grading.references SOLUTION_NOTEBOOK OUT_FOLDER
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from grading import probe_runtime, verdicts

REFERENCE_ENV = {"COURSE_MODE": "test", "COURSE_OFFLINE": "1", "MPLBACKEND": "Agg",
                 "TF_CPP_MIN_LOG_LEVEL": "3"}


def definition_code(path: Path, also: Callable[[dict], bool] = lambda cell: False) -> list:
    """Compiled code of the notebook's first code cell, its solution cells and any code cell
    for which `also(cell)` is true, in notebook order."""
    import nbformat

    cells = [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
    return [compile(c.source, f"<{path.name}:{c.get('id', '?')}>", "exec")
            for i, c in enumerate(cells) if i == 0 or also(c)
            or c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def run_definitions(code: list, mode: str = "test") -> dict:
    """A fresh namespace after running `code` (see definition_code) with COURSE_MODE=`mode`."""
    namespace = {"__name__": "__main__"}
    previous = os.environ.get("COURSE_MODE")
    os.environ["COURSE_MODE"] = mode
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in code:
                exec(cell, namespace)
    finally:
        if previous is None:
            os.environ.pop("COURSE_MODE", None)
        else:
            os.environ["COURSE_MODE"] = previous
    return namespace


def definitions(path: Path, mode: str = "test",
                also: Callable[[dict], bool] = lambda cell: False) -> dict:
    """Globals after the notebook's first code cell, its solution cells and any code cell for
    which `also(cell)` is true, run in notebook order with COURSE_MODE=`mode`."""
    return run_definitions(definition_code(path, also), mode)


def compute(solution: Path, out: Path) -> None:
    """Write out/<test id>.npz for every probe of the solution's hidden tests."""
    source = verdicts.hidden_tests_source(solution.parent)
    namespace = definitions(solution)
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        for test_id, function in probe_runtime.probes(source).items():
            record = probe_runtime.probe_record(function, probe_runtime.Answers(namespace))
            probe_runtime.save(str(out / f"{test_id}.npz"), *record)


def cache_folder(course: Path, assignment: str, solution: Path, source: str) -> Path:
    """Where a course keeps the records of one version of the solution and hidden tests."""
    digest = hashlib.sha256()
    for part in (solution.read_bytes(), source.encode(),
                 Path(probe_runtime.__file__).read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    return course / ".grading" / "references" / assignment / digest.hexdigest()[:20]


def records(solution: Path, source: str, course: Path, assignment: str,
            test_ids: list[str]) -> dict:
    """{test id: reference record}, computed into the course's cache on first use (one process
    at a time; parallel graders wait for the first)."""
    cache = cache_folder(course, assignment, solution, source)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((cache / f"{t}.npz").exists() for t in test_ids):
            env = dict(os.environ, **REFERENCE_ENV)
            result = subprocess.run([sys.executable, "-m", "grading.references", str(solution),
                                     str(cache)], capture_output=True, text=True, env=env)
            if result.returncode != 0:
                raise RuntimeError(f"computing the hidden tests' reference records from "
                                   f"{solution} failed:\n{result.stderr[-3000:]}")
    found = verdicts.load_records(cache, test_ids, reference=True)
    missing = [t for t, record in found.items() if record is None]
    if missing:
        raise RuntimeError(f"no reference record for {missing} in {cache}")
    return found


if __name__ == "__main__":
    compute(Path(sys.argv[1]), Path(sys.argv[2]))
