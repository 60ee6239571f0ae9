"""How much of each task's reference answer its contract gives away, and whether its hints
reach the rest (issue 27).

A task is a solution cell with a grade id. Its *reference items* are the library calls and the
keyword settings of the code between `### BEGIN SOLUTION` and `### END SOLUTION`: every call
except Python builtins and the notebook's own functions, named by its last attribute
(`keras.random.normal` -> `normal`, `tape.gradient` -> `gradient`), and every `keyword=` of those
calls, less CONVENTIONS: the words a contract has to use to state shapes, dtypes, sums and means,
axes, names, seeds, training flags, logits and labels.

Its *contract* is what a student reads before the answer: the markdown since the previous task's
test cell, without its hint ladder and model answers of written questions, plus the solution cell
outside the solution block (signature and docstring). An item counts as *named* when it appears
there as a whole word (not part of a hyphenated compound) outside maths ($...$), in prose or code
alike. Its *hints* are the ladder: one markdown cell of nested `<details>` elements (idea, then
tool, then the shape of the code), opened one level at a time.

`python -m tests.contracts` prints the table and the median share."""

from __future__ import annotations

import ast
import builtins
import re
import statistics
import textwrap
from dataclasses import dataclass, field

from tests import course

# Words every contract may need (Deliver 1: shapes, dtypes, conventions): never counted.
CONVENTIONS = frozenset({"shape", "dtype", "float32", "float64", "int64", "sum", "mean", "axis",
                         "name", "seed", "training", "logits", "labels"})
HINT_LEVELS = ("the idea", "the tool", "the shape of the code")

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+?\$", re.S)
_SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.S)


def is_hint_cell(cell) -> bool:
    """A hint ladder: a markdown cell that opens with a collapsed <details> element."""
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith("<details")


def hint_levels(source: str) -> list[str]:
    """The summaries of a hint cell's levels, outermost first."""
    return [s.strip() for s in _SUMMARY.findall(source)]


def is_nested(source: str) -> bool:
    """Every level opens inside the one before it, so levels open one at a time."""
    opened = closed = 0
    for tag in re.findall(r"</?details\b", source):
        if tag == "<details":
            if closed:  # a level opened after one closed: a sibling, shown all at once
                return False
            opened += 1
        else:
            closed += 1
    return opened == closed


@dataclass
class Task:
    """One graded answer cell: its contract, its hint ladder and its reference items."""

    assignment: str
    grade_id: str
    contract: str
    hints: str
    test_source: str = ""
    items: set[str] = field(default_factory=set)

    def _found_in(self, text: str) -> set[str]:
        prose = _MATH.sub(" ", text)
        # a whole word: "log" in "log-variance" is part of a compound, not the call
        return {item for item in self.items
                if re.search(rf"(?<![\w-]){re.escape(item)}(?![\w-])", prose)}

    @property
    def named(self) -> set[str]:
        """The reference items the contract names."""
        return self._found_in(self.contract)

    @property
    def unreachable(self) -> set[str]:
        """Reference items that neither the contract, the hints nor the visible checks name."""
        return self.items - self._found_in(self.contract + self.hints + self.test_source)

    @property
    def share(self) -> float:
        """The fraction of the reference items the contract names."""
        return len(self.named) / len(self.items) if self.items else 0.0


def reference_items(code: str, own: tuple[set[str], set[str]]) -> set[str]:
    """Call and keyword names of `code`, less builtins, the notebook's own names and CONVENTIONS.

    `own` is (every name the notebook binds, the functions, classes and `self.` attributes it
    defines): `encoder(x)` or `self.encoder(x)` call the notebook's own code, not a library."""
    bound, defined = own
    items = set()
    for node in ast.walk(ast.parse(textwrap.dedent(code))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in bound or hasattr(builtins, func.id):
                continue
            items.add(func.id)
        elif isinstance(func, ast.Attribute):
            if func.attr in defined:
                continue
            items.add(func.attr)
        else:
            continue
        items |= {k.arg for k in node.keywords if k.arg}
    return items - CONVENTIONS


def _own_names(notebook) -> tuple[set[str], set[str]]:
    bound, defined = set(), set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source.replace("%", "#"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id == "self"):
                defined.add(node.attr)
    return bound | defined, defined


def tasks(assignment: str) -> list[Task]:
    """Every task of an assignment's solution notebook, in order."""
    notebook = course.read(course.solution_notebook(assignment))
    own = _own_names(notebook)
    found: list[Task] = []
    markdown, hints = [], []
    for cell in notebook.cells:
        meta = course.nbgrader_meta(cell)
        if is_hint_cell(cell):
            hints.append(cell.source)
        elif cell.cell_type == "markdown" and meta.get("solution"):
            continue  # a written question's model answer: students see "YOUR ANSWER HERE"
        elif cell.cell_type == "markdown":
            markdown.append(cell.source)
        elif meta.get("solution") and meta.get("grade_id"):
            contract = "\n".join(markdown) + "\n" + _SOLUTION.sub("", cell.source)
            task = Task(assignment, meta["grade_id"], contract, "\n".join(hints))
            for answer in _SOLUTION.findall(cell.source):
                task.items |= reference_items(answer, own)
            found.append(task)
            markdown, hints = [], []
        elif meta.get("grade"):
            if found and not found[-1].test_source:
                found[-1].test_source = cell.source
            markdown, hints = [], []
    return found


def every_task() -> list[Task]:
    """The tasks of every assignment."""
    return [task for assignment in course.assignments() for task in tasks(assignment)]


def median_share(found: list[Task]) -> float:
    """The median task's share of named reference items."""
    return statistics.median(task.share for task in found)


if __name__ == "__main__":
    found = every_task()
    for task in found:
        levels = len(hint_levels(task.hints))
        print(f"{task.assignment:15} {task.grade_id:31} {task.share:4.0%} "
              f"{len(task.named):2}/{len(task.items):<2} hints {levels}  named: "
              f"{', '.join(sorted(task.named))}"
              + (f"  UNREACHABLE: {', '.join(sorted(task.unreachable))}"
                 if task.unreachable else ""))
    print(f"{len(found)} tasks, median share named {median_share(found):.0%}")
