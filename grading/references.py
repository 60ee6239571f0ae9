"""Reference records: the hidden tests' probes run against the solution notebook's definitions,
on the inputs drawn for one class run.

The definitions are what a test cell may rely on: the notebook's first code cell (imports and
setup) and its solution cells, run in notebook order in `test` mode without training. For a
seed, `compute` draws every probe's inputs (hidden_tests/verdicts.py), runs the probes against
the solution while recording what they lend of earlier tasks, and writes
- <test id>.npz: the solution's records, which verdicts compare with;
- inputs.npz: every probe's inputs, which verdicts recompute their expected values from;
- kernel/<test id>.npz: what a student's kernel receives for that probe: its inputs (less their
  grader-only part, see probe_runtime.kernel_inputs) and the solution's outputs it may look up
  ({"inputs", "tables"}; see grading.probe_runtime).
They are computed once per solution, hidden tests and seed, in a subprocess (trusted code only:
the instructor's solution), and cached in the course folder.

    python -m grading.references SOLUTION_NOTEBOOK SEED OUT_FOLDER
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

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


def compute(solution: Path, seed: int, out: Path) -> None:
    """Write the reference records, inputs and kernel data of one seed into `out`."""
    hidden = verdicts.load_hidden(solution.parent)
    namespace = definitions(solution)
    inputs = hidden.probe_inputs(seed)
    (out / "kernel").mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        records, tables = probe_runtime.run_all(hidden.probes_source, namespace, inputs)
    for test_id, record in records.items():
        probe_runtime.save(str(out / f"{test_id}.npz"), *record)
        np.savez(out / "kernel" / f"{test_id}.npz", **probe_runtime.encode(
            {"inputs": probe_runtime.kernel_inputs(inputs.get(test_id)),
             "tables": tables[test_id]}))
    np.savez(out / "inputs.npz", **probe_runtime.encode(inputs))


def cache_folder(course: Path, assignment: str, solution: Path, hidden: verdicts.Hidden,
                 seed: int) -> Path:
    """Where a course keeps the references of one solution, hidden tests and seed."""
    digest = hashlib.sha256()
    for part in (solution.read_bytes(), *hidden.digest_parts(),
                 Path(probe_runtime.__file__).read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    return (course / ".grading" / "references" / assignment
            / f"{digest.hexdigest()[:20]}-seed{int(seed)}")


def records(solution: Path, hidden: verdicts.Hidden, course: Path, assignment: str,
            seed: int) -> Path:
    """The folder of the references of `seed` (see the module docstring), computed into the
    course's cache on first use (one process at a time; parallel graders wait for the first)."""
    cache = cache_folder(course, assignment, solution, hidden, seed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "inputs.npz").exists():
            partial = cache.with_name(cache.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            env = dict(os.environ, **REFERENCE_ENV)
            result = subprocess.run([sys.executable, "-m", "grading.references", str(solution),
                                     str(int(seed)), str(partial)], capture_output=True,
                                    text=True, env=env)
            if result.returncode != 0:
                raise RuntimeError(f"computing the hidden tests' reference records from "
                                   f"{solution} failed:\n{result.stderr[-3000:]}")
            partial.rename(cache)
    missing = [t for t in hidden.test_ids if verdicts.load_record(
        cache / f"{t}.npz", t, reference=True) is None]
    if missing:
        raise RuntimeError(f"no reference record for {missing} in {cache}")
    return cache


if __name__ == "__main__":
    compute(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
