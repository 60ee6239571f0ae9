"""Design tasks' trials: the grader trains a student's design itself, in a fresh sandbox that
never ran student code, and records what it reached for the verdict.

A design task's probe records the design as data (its networks' Keras configurations, numbers
such as a learning rate), never an outcome the student's code reports. `trial_<test id>(design,
inputs)` in solutions/<assignment>/hidden_tests/trials.py rebuilds and trains that design with the
grader's seeds and returns what the verdict measures (reconstructions, samples). It runs once the
student's kernel is gone, in a new sandbox with an empty working folder, as `python -I` (nothing
but the Python installation and the pack's `common/` on its path), under the kernel's memory
limit and TRIAL_CPU_SECONDS; its record reaches `verdict_<test id>` as `got.trial`. A probe's
inputs under probe_runtime.GRADER_ONLY (held-out indices, training seeds) reach the trial and the
verdict, never the kernel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from grading import probe_runtime, sandbox, verdicts

TRIALS = "trials.py"  # in hidden_tests/, beside probes.py and verdicts.py
TRIAL_CPU_SECONDS = 120
TRIAL_WALL_SECONDS = 300

# Runs as `python -I -c _PROGRAM CPU PACK_ROOT FOLDER TEST_ID`: read the design and the inputs
# the grader wrote into FOLDER, run the trial, write FOLDER/out.npz.
_PROGRAM = """\
import resource, sys
cpu = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
sys.path.insert(0, sys.argv[2])
folder, test_id = sys.argv[3], sys.argv[4]
runtime = {"__name__": "__grading__"}
exec(compile(open(folder + "/probe_runtime.py").read(), "probe_runtime.py", "exec"), runtime)
trials = {"__name__": "trials"}
exec(compile(open(folder + "/trials.py").read(), "trials.py", "exec"), trials)
design = runtime["load"](folder + "/design.npz")
inputs = runtime["load"](folder + "/inputs.npz")
trial = trials["trial_" + test_id]
runtime["save"](folder + "/out.npz",
                *runtime["probe_record"](lambda _answers, data: trial(design, data), None, inputs))
"""


def trial_ids(folder: Path) -> list[str]:
    """The test ids with a trial in hidden-tests `folder`."""
    path = Path(folder) / TRIALS
    if not path.exists():
        return []
    source = path.read_text()
    return [line[len("def trial_"):].split("(", 1)[0] for line in source.splitlines()
            if line.startswith("def trial_")]


def _design(record: verdicts.Probed) -> dict:
    """{name: value} of what a design's probe computed (its errors left out)."""
    return {name: value for name, value in record.values.items() if name not in record.errors}


def prepare(folder: Path, workdir: Path, design: verdicts.Probed, inputs) -> Path:
    """Write what a trial reads into workdir/trial (made here): the design's computed values
    (re-saved by the grader: none of the kernel's bytes), its inputs, the trials' and the
    runtime's source."""
    trial = workdir / "trial"
    trial.mkdir()
    np.savez(trial / "design.npz", **probe_runtime.encode(_design(design)))
    np.savez(trial / "inputs.npz", **probe_runtime.encode(inputs))
    shutil.copyfile(Path(folder) / TRIALS, trial / TRIALS)
    shutil.copyfile(probe_runtime.__file__, trial / "probe_runtime.py")
    return trial


def command(trial: Path, test_id: str, cpu_seconds: int = TRIAL_CPU_SECONDS) -> list[str]:
    """The trial's Python command, to run in a sandbox (or as it is when grading unsandboxed)."""
    pack_root = str(sandbox.pack_folders()[0].parent)
    return [sys.executable, "-I", "-c", _PROGRAM, str(cpu_seconds), pack_root, str(trial),
            test_id]


def read(trial: Path) -> bytes | None:
    """The bytes of the trial's record, or None when it wrote none."""
    return verdicts.read_record_bytes(trial / "out.npz")


def in_process(folder: Path, test_id: str, design: verdicts.Probed, inputs) -> verdicts.Probed:
    """The trial of a trusted design (the test suite's, the calibration's) in this process."""
    module = {"__name__": "trials"}
    exec(compile((Path(folder) / TRIALS).read_text(), TRIALS, "exec"), module)
    record = probe_runtime.probe_record(
        lambda _answers, data: module[f"trial_{test_id}"](_design(design), data), None, inputs)
    return verdicts.Probed(test_id, *record)
