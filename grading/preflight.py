"""Before a class is graded, the instructor's solution is graded the same way: in the same
sandbox, environment, limits and probe seed. A class is graded only when the solution scores
full marks; otherwise the run stops with the cells and messages that failed (a missing package,
a `common/` the kernel cannot import, a library version whose errors change a verdict).

    python -m grading.preflight COURSE ASSIGNMENT SETTINGS_JSON
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat


def failing_cells(course: Path, assignment: str, settings: dict) -> list[tuple[str, str]]:
    """[(test cell, what failed)] when the course's solution is autograded with `settings`
    (trait name -> value, as given to nbgrader on the command line)."""
    from traitlets.config.loader import PyFileConfigLoader

    from grading.execute import GradingExecute

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    for name, value in settings.items():
        section, trait = name.split(".")
        config[section][trait] = value
    solution = next((course / "solutions" / assignment).glob("*.ipynb"))
    notebook = nbformat.read(str(solution), as_version=4)
    resources = {"nbgrader": {"assignment": assignment, "notebook": solution.stem}}
    executed, _ = GradingExecute(config=config).preprocess(notebook, resources)
    failed = []
    for cell in executed.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        errors = [f"{o.get('ename', '')}: {o.get('evalue', '')}" for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"]
        if errors:
            failed.append((meta.get("grade_id", "?"), errors[0][:1500]))
    return failed


def check_solution(course: Path, assignment: str, settings: dict, env: dict) -> None:
    """Grade the solution in a fresh process (as nbgrader would); SystemExit with what failed
    unless it scores full marks."""
    result = subprocess.run([sys.executable, "-m", "grading.preflight", str(course), assignment,
                             json.dumps(settings)], cwd=course, env=env, capture_output=True,
                            text=True)
    log = course / "logs" / assignment / "solution-check.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"grading stopped: the solution of {assignment} could not be graded "
                         f"here, so no student would be graded right (see {log}):\n"
                         f"{result.stderr[-3000:]}")
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    if failed:
        lines = "\n".join(f"  - {cell}: {message}" for cell, message in failed)
        raise SystemExit(f"grading stopped: the solution of {assignment}, graded in the sandbox "
                         f"with this run's settings, does not score full marks, so the class "
                         f"would not be graded right. Failing test cells:\n{lines}\n"
                         f"Fix the environment (packages, the installed `common/`) or the "
                         f"solution, then grade again (log: {log}).")


if __name__ == "__main__":
    print(json.dumps(failing_cells(Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))))
