"""Style and repository hygiene: ruff is clean, CI runs the README's test command, no
nbgrader working state is committed."""

import subprocess
import sys
from pathlib import Path

import course

README_TEST_COMMAND = "python -m pytest"


def test_ruff_is_clean_on_common_tests_and_solution_notebooks():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format",
                             "concise", "."], cwd=course.REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (course.REPO / "README.md").read_text()
    ci = (course.REPO / ".ci" / "run").read_text()
    assert f"\n{README_TEST_COMMAND}\n" in readme
    assert f"\n{README_TEST_COMMAND}\n" in ci or f" {README_TEST_COMMAND}\n" in ci


def test_no_grading_state_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=course.REPO, capture_output=True,
                             text=True).stdout.split()
    bad = [p for p in tracked if Path(p).name == "gradebook.db"
           or Path(p).parts[0] in ("submitted", "autograded", "feedback")]
    assert not bad, f"grading state committed: {bad}"
