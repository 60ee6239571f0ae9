"""Style and repository hygiene: ruff is clean, CI runs the README's test command, no
nbgrader working state is committed."""

import subprocess
import sys
from pathlib import Path

import course

README_TEST_COMMAND = "python -m pytest -n auto --dist loadscope"


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


def _imports_of(path: Path, package: str) -> set[str]:
    """Modules of `package` that a file imports, at any depth (inside functions too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom) and node.module and (
                node.module.split(".")[0] == package):
            if node.module == package:
                found |= {f"{package}.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


def test_packages_split_by_who_uses_them_without_cycles():
    """`common` (what notebooks import) needs nothing of `grading` (the instructor's), and
    neither package has an import cycle."""
    for package in ("common", "grading"):
        modules = {f"{package}.{p.stem}": p for p in (course.REPO / package).glob("*.py")
                   if p.stem not in ("__init__", "__main__")}
        graph = {name: _imports_of(path, package) & set(modules) - {name}
                 for name, path in modules.items()}
        if package == "common":
            assert not any(_imports_of(p, "grading") for p in modules.values())
        done: set[str] = set()

        def visit(name: str, stack: tuple[str, ...], graph=graph, done=done) -> None:
            assert name not in stack, f"import cycle: {' -> '.join((*stack, name))}"
            if name not in done:
                for imported in graph[name]:
                    visit(imported, (*stack, name))
                done.add(name)

        for name in graph:
            visit(name, ())
