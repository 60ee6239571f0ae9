"""Calibration of the design tasks' thresholds: the solution's design, other correct designs
(tests/mutants VARIANTS) and the weak ones (MUTANTS) of each design test, each probed, trained
by the grader's trial and decided by its verdict under many class-run seeds, in this process.
Each design should pass on at least 99% of seeds, each weak one fail on at least 99%.

    python -m benchmarks.designs 01_autoencoders --seeds 50
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/course.py: the solution's definitions

import course  # noqa: E402
from test_mutants import _spec  # noqa: E402

from grading import trials, verdicts  # noqa: E402


def designs(assignment: str, test_id: str) -> dict[str, tuple[str | None, bool]]:
    """{name: (source replacing the design or None for the solution's, should pass)}."""
    mutants, variants, _, _ = _spec(assignment)
    found = {"the solution's design": (None, True)}
    found.update({name: (source, True) for name, source in variants.get(test_id, {}).items()})
    found.update({name: (source, False) for name, source in mutants.get(test_id, {}).items()})
    return found


def calibrate(assignment: str, test_id: str, seeds: list[int], named: str = "") -> list[dict]:
    """One row per design (those whose name contains `named`): passes, seeds, the verdict
    module's measure (`design_outcome(got, inputs)["measure"]`, when it has one: the number its
    target is on) and the seconds of one trial."""
    hidden = course.hidden(assignment)
    measure = getattr(hidden.module, "design_outcome", None)
    rows = []
    for name, (source, should_pass) in designs(assignment, test_id).items():
        if named not in name:
            continue
        passed, measures, seconds = 0, [], []
        for seed in seeds:
            inputs = hidden.probe_inputs(seed)
            with contextlib.redirect_stdout(io.StringIO()):
                got, _ = verdicts.in_process(hidden, course.namespace_with(assignment, source),
                                             inputs, {}, only=test_id)
            got = got[test_id]
            start = time.perf_counter()
            if not got.failure and test_id in trials.trial_ids(hidden.folder):
                got.trial = trials.in_process(hidden.folder, test_id, got, inputs[test_id])
            seconds.append(time.perf_counter() - start)
            message = verdicts.decide(hidden.verdicts[test_id], got, got, inputs[test_id])
            passed += message == ""
            if measure:
                with contextlib.suppress(AssertionError, KeyError, ValueError):
                    measures.append(measure(got, inputs[test_id])["measure"])
        rows.append({"design": name, "should pass": should_pass, "passed": passed,
                     "seeds": len(seeds), "measures": measures,
                     "seconds": statistics.median(seconds)})
        print(_line(rows[-1]), flush=True)
    return rows


def _line(row: dict) -> str:
    measures = row["measures"]
    spread = (f"measure median {statistics.median(measures):.3f} (min {min(measures):.3f}, max "
              f"{max(measures):.3f})" if measures else "no measure (breaks the rules)")
    rate = row["passed"] / row["seeds"]
    verdict = "ok" if (rate >= 0.99) == row["should pass"] and (
        row["should pass"] or rate <= 0.01) else "MISCALIBRATED"
    return (f"{row['design'][:44]:44} {'pass' if row['should pass'] else 'fail':4} "
            f"passed {row['passed']:3}/{row['seeds']:<3} {spread}; trial "
            f"{row['seconds']:.1f} s  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--design", default="",
                        help="only the designs whose name contains this text")
    args = parser.parse_args()
    design_ids = [t for t in verdicts.notebook_test_ids(course.solution_notebook(args.assignment))
                  if t.startswith("test_design_")]
    for test_id in design_ids:
        print(f"{args.assignment} {test_id}, seeds {args.first_seed}..."
              f"{args.first_seed + args.seeds - 1}:")
        calibrate(args.assignment, test_id,
                  list(range(args.first_seed, args.first_seed + args.seeds)), args.design)


if __name__ == "__main__":
    main()
