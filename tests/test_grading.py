"""The instructor workflow (`python -m grading` on nbgrader) on hostile and broken submissions.

For each assignment under test, tests/fixtures/grading/hostile.py derives a class of fixtures
from the assignment's own exercise and solution notebooks (a correct student, an untouched
exercise, a control that skips one task, and one notebook per hostile or broken case). The
whole class is graded by ONE `python -m grading run` (sandboxed, parallel, per-cell timeout,
memory limit), then each test checks one promise of issues 8 and 13 against the gradebook,
grades.csv, the autograded notebooks, the feedback HTML, the class report, the repository, the
grader's HOME and the machine's processes. The attacks of issue 13 (forged verdicts, gradebook
tampering, leaks, persistence, denial of service, reporting) are fixtures of that class.

GRADING_TEST_ASSIGNMENTS=all (or a comma-separated list) grades other assignments too; by
default 00_setup and one more assignment, to keep CI short."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

import course

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402

from grading import (  # noqa: E402
    collect, course_folder, execute, report, sandbox, verdicts)

TIMEOUT = 30  # per-cell seconds while grading the fixtures (legit cells need a few)
ASSIGNMENTS = course.class_graded_assignments()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _tree(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (what an attack must not change)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _guarded() -> dict[str, dict[str, str]]:
    """Files outside the course that a submission must never change."""
    return {str(folder): _tree(folder) for folder in (
        course.REPO / "common", course.REPO / "data", course.REPO / "solutions",
        course.REPO / "grading", Path.home() / ".ipython")} | {
        "nbgrader_config.py": {"": hashlib.sha256(
            (course.REPO / "nbgrader_config.py").read_bytes()).hexdigest()}}


def _marked_processes() -> list[str]:
    """Command lines of live processes that an attack started."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if hostile.MARKER in text and "pytest" not in text:
            found.append(text[:200])
    return found


class Graded:
    """One graded class: paths, facts about the fixtures, and gradebook lookups."""

    def __init__(self, assignment: str, root: Path):
        self.assignment = assignment
        self.folder, self.course = root / "submissions", root / "course"
        others = [a for a in course.assignments() if a != assignment]
        other = (course.EXERCISES / others[0] / course.solution_notebook(others[0]).name
                 if others else None)
        only = None if assignment == "00_setup" else hostile.TRAINING_FIXTURES
        self.facts = hostile.build(assignment, self.folder, self.course, other, only)
        self.fixtures = sorted(p.stem for p in self.folder.glob("*.ipynb"))
        self.students = [f for f in self.fixtures if hostile.EXPECT[f] != "rejected"]
        self.rejected = [f for f in self.fixtures if hostile.EXPECT[f] == "rejected"]
        self.before = _digests(self.folder)
        self.guarded_before = _guarded()
        command = [sys.executable, "-m", "grading", "run", assignment, str(self.folder),
                   "--course", str(self.course), "--jobs", "2", "--timeout", str(TIMEOUT)]
        self.result = subprocess.run(command, capture_output=True, text=True, timeout=1500,
                                     cwd=course.REPO)
        self.after = _digests(self.folder)
        self.guarded_after = _guarded()
        self.processes_after = _marked_processes()
        self.name = course.solution_notebook(assignment).name
        self.stem = Path(self.name).stem
        self.tests = [c.metadata.nbgrader.grade_id for c in course.graded_test_cells(
            course.read(course.solution_notebook(assignment)))]

    def need(self, *students: str) -> None:
        """Skip a check whose fixtures this class does not hold (see TRAINING_FIXTURES)."""
        missing = [s for s in students if s not in self.fixtures]
        if missing:
            pytest.skip(f"{', '.join(missing)} graded on 00_setup only")

    def scores(self, student: str) -> dict[str, tuple[float, float]]:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gradebook:
            notebook = gradebook.find_submission_notebook(self.stem, self.assignment, student)
            return {g.name: (g.auto_score, g.max_score) for g in notebook.grades
                    if g.name in self.tests}

    def autograded(self, student: str):
        return nbformat.read(str(self.course / "autograded" / student / self.assignment
                                 / self.name), 4)

    def errors(self, student: str, grade_id: str) -> list[tuple[str, str]]:
        for cell in self.autograded(student).cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
                return [(o.ename, o.evalue) for o in cell.get("outputs", [])
                        if o.output_type == "error"]
        raise KeyError(grade_id)


_graded: dict[str, Graded] = {}


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory) -> Graded:
    assignment = request.param
    if assignment not in _graded:
        _graded[assignment] = Graded(assignment, tmp_path_factory.mktemp(f"grading_{assignment}"))
    result = _graded[assignment]
    assert result.result.returncode == 0, (
        f"grading {assignment} failed:\n{result.result.stdout[-3000:]}\n"
        f"{result.result.stderr[-3000:]}")
    return result


def test_cli_help():
    result = subprocess.run([sys.executable, "-m", "grading", "--help"],
                            capture_output=True, text=True, cwd=course.REPO, timeout=300)
    assert result.returncode == 0
    for command in ("release", "collect", "autograde", "export", "feedback", "report", "run"):
        assert command in result.stdout


def test_default_gradebook_works_on_a_fresh_machine(tmp_path):
    """nbgrader_config.py's default gradebook lives under HOME, in a folder that does not exist
    before the first command: the command creates it (private) instead of failing."""
    env = dict(os.environ, HOME=str(tmp_path),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "db", "student", "list"],
                            capture_output=True, text=True, cwd=course.REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / ".local" / "share" / "genmodels-course"
    assert (folder / "gradebook.db").is_file()
    assert folder.stat().st_mode & 0o077 == 0, oct(folder.stat().st_mode)


def test_every_fixture_scores_as_expected(graded):
    """Full marks, zero, or 'the broken task 0 and every other task as in the control'."""
    target = graded.facts["test_id"]
    control = graded.scores("control")
    others = {k: v for k, v in control.items() if k != target}
    assert control[target][0] == 0
    assert any(score == top for score, top in others.values()), (
        "the control (broken task skipped) earns nothing else: the test would be vacuous")
    wrong = {}
    for student in graded.students:
        scores = graded.scores(student)
        assert set(scores) == set(graded.tests), f"{student}: graded cells {sorted(scores)}"
        expect = hostile.EXPECT[student]
        if expect == "full":
            bad = {k: v for k, v in scores.items() if v[0] != v[1]}
        elif expect == "zero":
            bad = {k: v for k, v in scores.items() if v[0] != 0}
        elif expect == "only_its_task":
            broken = graded.facts["early_mistake"]
            bad = {k: v for k, v in scores.items()
                   if (k == broken and v[0] != 0) or (k != broken and v[0] != v[1])}
        elif expect == "at_most_control":
            bad = {k: v for k, v in scores.items()
                   if (k == target and v[0] != 0) or (k != target and v[0] > control[k][0])}
        else:
            bad = {k: v for k, v in scores.items()
                   if (k == target and v[0] != 0) or (k != target and v != control[k])}
        if bad:
            wrong[student] = (expect, bad)
    assert not wrong, f"{graded.assignment}: unexpected (score, max) per fixture: {wrong}"


def test_max_scores_come_from_the_gradebook(graded):
    """The edited test cell claims 100 points; nbgrader keeps the released value."""
    source = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points
              for c in course.graded_test_cells(course.read(
                  course.solution_notebook(graded.assignment)))}
    for student in graded.students:
        assert {k: v[1] for k, v in graded.scores(student).items()} == source, student


def test_rejected_files_get_a_reason_and_no_score(graded):
    manifest = {e["student"]: e for e in json.loads(
        (graded.course / "collected" / f"{graded.assignment}.json").read_text())}
    assert manifest["empty_file"]["reason"] == "empty file"
    assert manifest["invalid_json"]["reason"].startswith("not valid JSON")
    assert manifest["wrong_assignment"]["reason"].startswith("wrong assignment")
    for student in graded.rejected:
        assert manifest[student]["status"] == "rejected"
        assert not (graded.course / "submitted" / student).exists()
    with open(graded.course / "grades.csv") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)
                if r["assignment"] == graded.assignment}
    assert set(rows) == set(graded.fixtures)
    for student in graded.rejected:  # listed as not graded, with the reason, never as a graded 0
        assert rows[student]["score"] == "" and rows[student]["graded"] == "no", rows[student]
        assert manifest[student]["reason"] in rows[student]["not_graded_reason"]
    assert all(rows[student]["graded"] == "yes" for student in graded.students)
    top = sum(float(course.nbgrader_meta(c)["points"]) for c in course.graded_test_cells(
        course.read(course.solution_notebook(graded.assignment))))
    assert float(rows["solution"]["raw_score"]) == top  # autograded part; written: by hand
    markdown = (graded.course / "reports" / graded.assignment / "report.md").read_text()
    for student in graded.rejected:
        assert f"`{student}`: not graded: {manifest[student]['reason']}" in markdown


def test_submissions_are_byte_identical_after_grading(graded):
    assert graded.after == graded.before
    for student in graded.students:
        copy = graded.course / "submitted" / student / graded.assignment / graded.name
        assert copy.read_bytes() == (graded.folder / f"{student}.ipynb").read_bytes(), student


def test_kernel_deaths_and_hangs_are_recorded_in_the_broken_cell(graded):
    answer = graded.facts["answer_id"]
    expected = {"os_exit": "DeadKernelError", "segfault": "DeadKernelError",
                "uninterruptible_loop": "CellTimeoutError", "infinite_loop": "CellTimeoutError",
                "memory_bomb": "MemoryError", "syntax_error": "SyntaxError"}
    graded.need(*expected)
    for student, ename in expected.items():
        names = [e for e, _ in graded.errors(student, answer)]
        assert ename in names, f"{student}: errors in the answer cell {names}"
    # The 16 GiB request was refused at once (the kernel's address-space limit), not granted
    # and written page by page until the machine ran out.
    (message,) = [v for e, v in graded.errors("memory_bomb", answer) if e == "MemoryError"]
    assert "16.0 GiB" in message


def test_memory_limit_applies_to_the_kernel(tmp_path):
    """GradingExecute's kernels run with RLIMIT_AS and the grading environment."""
    (output,) = _run_kernel(
        tmp_path, "import os, resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20,"
        " os.environ['COURSE_MODE'], os.environ['COURSE_OFFLINE'])", memory_limit_mb=1234)
    assert output.split() == ["1234", "test", "1"]


def _run_kernel(tmp_path: Path, *sources: str, **options) -> list[str]:
    """The printed text of each cell, run by GradingExecute in one kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    executor = execute.GradingExecute(timeout=120, **options)
    executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    return ["".join(o.get("text", "") or f"{o.get('ename')}: {o.get('evalue')}"
                    for o in cell.outputs) for cell in notebook.cells]


def test_sandboxed_kernel_sees_only_what_it_needs(tmp_path):
    """An unprivileged user, common/ and data/ read-only, a throw-away HOME and working folder,
    no repository, course, instructor HOME or network, and its own process namespace."""
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("instructor only")
    checks = f"""
import os, pathlib, socket
print("uid", os.getuid())
print("common", os.path.exists({str(course.REPO / 'common' / 'checks.py')!r}))
for hidden in [{str(course.REPO / 'solutions')!r}, {str(course.REPO / 'grading')!r},
               {str(course.REPO / 'tests')!r}, {str(secret)!r}, {str(Path.home())!r} + "/.bashrc"]:
    print("sees", hidden, os.path.exists(hidden))
try:
    open({str(course.REPO / 'common' / 'checks.py')!r}, "a")
    print("common writable")
except OSError:
    print("common read-only")
print("home", os.environ["HOME"], os.access(os.environ["HOME"], os.W_OK))
print("pid", os.getpid(), "processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("network yes")
except OSError:
    print("network no")
"""
    (output,) = _run_kernel(tmp_path, checks)
    lines = output.splitlines()
    assert "uid 65534" in lines and "common True" in lines and "common read-only" in lines
    assert not [line for line in lines if line.startswith("sees") and line.endswith("True")]
    assert "network no" in lines
    (home,) = [line for line in lines if line.startswith("home ")]
    assert home.endswith("True") and str(Path.home()) not in home.split()[1]
    (pids,) = [line for line in lines if line.startswith("pid ")]
    assert max(int(p) for p in re.findall(r"\d+", pids.split("processes")[1])) < 50, pids


def test_sandboxed_kernel_finds_matplotlibs_font_list_ready(tmp_path):
    """The grader copies a font list into each kernel's MPLCONFIGDIR, so no kernel spends a
    second rebuilding it (matplotlib logs "generated new fontManager" when it does), and the
    list names no font of the instructor's HOME."""
    (output,) = _run_kernel(tmp_path, """
import logging, os, pathlib
class Remember(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
records, log = [], logging.getLogger("matplotlib.font_manager")
log.setLevel(logging.INFO)
log.addHandler(Remember())
before = sorted(p.name for p in pathlib.Path(os.environ["MPLCONFIGDIR"]).iterdir())
import matplotlib.font_manager as fm
print("ready", before, "rebuilt", any("generated new" in r for r in records))
print("fonts", len(fm.fontManager.ttflist), "from home",
      sum(os.environ["HOME"] in f.fname for f in fm.fontManager.ttflist))
""")
    ready, fonts = output.splitlines()
    assert "fontlist-v" in ready and ready.endswith("rebuilt False"), ready
    assert int(fonts.split()[1]) > 0 and fonts.endswith("from home 0"), fonts
    assert str(Path.home()) not in sandbox.font_list().read_text()


def test_unsandboxed_runs_with_the_graders_powers(tmp_path):
    """--unsandboxed (GradingExecute.sandboxed=False) is the documented unsafe mode."""
    (output,) = _run_kernel(tmp_path, "import os; print(os.getuid())", sandboxed=False)
    assert output.strip() == str(os.getuid())


def test_grading_stops_where_no_sandbox_can_be_made(tmp_path):
    """No bwrap: `run` refuses with how to get one, before touching anything."""
    env = dict(os.environ, PATH=str(tmp_path))  # no bwrap on PATH
    result = subprocess.run([sys.executable, "-m", "grading", "run", "00_setup", str(tmp_path),
                             "--course", str(tmp_path / "course")], capture_output=True,
                            text=True, cwd=course.REPO, env=env, timeout=300)
    assert result.returncode != 0
    assert "apt-get install bubblewrap" in result.stderr and "--unsandboxed" in result.stderr
    assert not (tmp_path / "course").exists()
    sandbox.unavailable_reason.cache_clear()


@pytest.mark.parametrize("student", ["deleted_test_cell", "deleted_task"])
def test_deleted_test_cell_is_restored_and_run(graded, student):
    """nbgrader re-adds a deleted test cell from the gradebook and runs it (its verdict is
    decided as for any test cell); with the answer cell deleted too (nbgrader 0.9 alone fails
    that submission), it runs and fails for want of the definition."""
    graded.need(student)
    target = graded.facts["test_id"]
    restored = [c for c in graded.autograded(student).cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == target]
    assert len(restored) == 1 and restored[0].source.endswith(course.test_cell_source(
        graded.assignment, target))
    assert restored[0].get("execution_count") is not None
    errors = [e for e, _ in graded.errors(student, target)]
    # without the definition the verdict fails too (its error comes first)
    assert errors == ([] if student == "deleted_test_cell" else ["AssertionError", "NameError"]
                      ), errors


@pytest.mark.parametrize("student", ["monkeypatched_checks", "forge_numpy", "custom_exc"])
def test_verdicts_decided_outside_the_kernel_fail_forged_checks(graded, student):
    """Attack class 1: the kernel's checks were disabled, so the test cell passed in the
    notebook; the verdict, decided in the grader from probe data, fails it with the message
    the grader's own run of the hidden test gives."""
    target = graded.facts["test_id"]
    assert graded.scores(student)[target][0] == 0
    errors = graded.errors(student, target)
    assert errors[0] == ("AssertionError", verdicts.for_student(graded.facts["verdict"]))
    if student == "forge_numpy" and errors[1:]:
        # Patching NumPy also breaks TensorFlow (its gradients compare shapes with
        # np.array_equal), so a check that differentiates may fail in the notebook as well.
        return
    assert errors == errors[:1]
    markdown = (graded.course / "reports" / graded.assignment / "report.md").read_text()
    assert f"`{student}`: {target} passed in the notebook but failed its verdict" in markdown


@pytest.mark.parametrize("student", ["proxy_names", "input_transformer"])
def test_kernel_wide_forgeries_earn_nothing_extra(graded, student):
    """Attack class 1: rebinding np and common, or rewriting every later cell; the scores are
    checked in test_every_fixture_scores_as_expected (at most the control's); here: every test
    cell that scored passed its verdict."""
    decided = json.loads((graded.course / "logs" / graded.assignment
                          / f"{student}.verdicts.json").read_text())
    for grade_id, (score, _) in graded.scores(student).items():
        if score:
            assert decided[grade_id]["verdict"] == "passed", (grade_id, decided[grade_id])


def test_gradebook_and_course_are_the_instructors_alone(graded):
    """Attack class 2 (tamper_gradebook knew the real paths), and the course's permissions."""
    import sqlite3
    import stat

    graded.need("tamper_gradebook")
    gradebook = graded.course / "gradebook.db"
    assert stat.S_IMODE(graded.course.stat().st_mode) == 0o700
    assert stat.S_IMODE(gradebook.stat().st_mode) == 0o600
    with sqlite3.connect(gradebook) as db:
        objects = db.execute("SELECT type, name FROM sqlite_master "
                             "WHERE type IN ('trigger', 'view')").fetchall()
        forged = db.execute("SELECT count(*) FROM grade WHERE manual_score IS NOT NULL "
                            "OR extra_credit IS NOT NULL").fetchone()[0]
    assert objects == [] and forged == 0
    assert hostile.MARKER not in (graded.course / "nbgrader_config.py").read_text()
    assert not Path(f"/tmp/{hostile.MARKER}-config").exists()
    assert course_folder.verify(graded.course) == []  # and so export ran: grades.csv is there
    assert (graded.course / "grades.csv").exists()


def _feedback_and_autograded(graded) -> dict[str, str]:
    texts = {}
    for student in graded.students:
        texts[f"{student} feedback"] = _text(graded.course / "feedback" / student
                                             / graded.assignment / (graded.stem + ".html"))
        texts[f"{student} autograded"] = (graded.course / "autograded" / student
                                          / graded.assignment / graded.name).read_text()
    return texts


def test_nothing_hidden_reaches_a_student(graded):
    """Attack class 3, and every student's feedback: no hidden-test source (probes, verdicts,
    their inputs), no classmate's answer, no file the sandbox hides."""
    released = "\n".join(c.source for path in (course.EXERCISES / graded.assignment / graded.name,
                                                course.solution_notebook(graded.assignment))
                         for c in course.read(path).cells)  # a student may write the same
    hidden_lines = [line.strip() for line in course.hidden_source(graded.assignment).splitlines()
                    if len(line.strip()) >= 30 and line.strip() not in released]
    assert len(hidden_lines) > 5
    leaks = {}
    for where, text in _feedback_and_autograded(graded).items():
        found = [line for line in hidden_lines if line in text]
        found += [s for s in ("def verdict_", "def probe_", "instructor only")
                  if s in text]
        if hostile.CLASSMATE_SECRET in text and not where.startswith("solution"):
            found.append("the classmate's secret line")
        if found:
            leaks[where] = found[:3]
    assert not leaks, leaks
    if "leak" not in graded.fixtures:
        return
    # The attack did run: it tried every secret and the spy saw the visible test call it.
    printed = {course.nbgrader_meta(c).get("grade_id"): "".join(
        o.get("text", "") for o in c.get("outputs", []))
        for c in graded.autograded("leak").cells if c.cell_type == "code"}
    tried = [line for line in printed[graded.facts["answer_id"]].splitlines()
             if line.startswith(f"{hostile.MARKER} could not read ")]
    assert len(tried) == 7, tried
    assert f"{hostile.MARKER} no classmate" in printed[graded.facts["answer_id"]]
    assert f"{hostile.MARKER} caller" in printed[graded.facts["test_id"]]


def test_nothing_outlives_the_run_or_changes_outside_the_course(graded):
    """Attack classes 2 and 4: detached processes, writes into common/, IPython startup files
    in the grader's HOME, the repository's files."""
    assert graded.processes_after == []
    assert graded.guarded_after == graded.guarded_before


def test_output_limits_are_in_bytes(graded):
    """Attack class 5: 40 MB of text or one 40 MB image are cut, with a note."""
    graded.need("huge_text", "huge_image")
    for student in ("huge_text", "huge_image"):
        autograded = (graded.course / "autograded" / student / graded.assignment / graded.name)
        page = (graded.course / "feedback" / student / graded.assignment
                / (graded.stem + ".html"))
        assert autograded.stat().st_size < 3 * 2**20, (student, autograded.stat().st_size)
        assert page.stat().st_size < 4 * 2**20, (student, page.stat().st_size)
        assert "[grader: output cut here" in autograded.read_text()


def _text(path: Path) -> str:
    page = path.read_text()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = html.unescape(re.sub(r"<[^>]+>", " ", page))
    page = re.sub(r"\x1b\[[0-9;]*m", "", page)
    return re.sub(r"\s+", " ", page)


def test_feedback_shows_the_figures_the_notebook_made(graded):
    """Figures made in the sandbox reach the feedback page as images (graders read the plots
    written answers discuss), never as `<Figure size ...>` text."""
    page = (graded.course / "feedback" / "solution" / graded.assignment
            / (graded.stem + ".html")).read_text()
    assert "data:image/png;base64," in page
    assert "&lt;Figure size" not in page and "<Figure size" not in page


def test_feedback_names_the_cause_of_a_wrong_answer(graded):
    page = graded.course / "feedback" / "wrong_answer" / graded.assignment / (
        graded.stem + ".html")
    message = re.sub(r"\s+", " ", graded.facts["message"])
    assert message in _text(page), f"feedback lacks the check message {message!r}"
    for student in graded.students:
        assert (graded.course / "feedback" / student / graded.assignment
                / (graded.stem + ".html")).exists(), student


def _main_error(errors: list[tuple[str, str]]) -> tuple[str, str]:
    error = report.main_error([{"ename": e, "evalue": v} for e, v in errors])
    return error["ename"], error["evalue"]


def test_class_report(graded):
    out = graded.course / "reports" / graded.assignment
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "report.md").read_text()
    page = _text(out / "report.html")
    # Per-task means equal the gradebook's.
    for grade_id in graded.tests:
        values = [graded.scores(s)[grade_id][0] for s in graded.students]
        mean = f"{sum(values) / len(values):.2f}"
        (row,) = [line for line in markdown.splitlines() if f"(`{grade_id}`)" in line
                  and line.startswith("|")]
        assert f"| {mean} |" in row, (grade_id, mean, row)
    # The wrong answer's check appears once per student who hit it, with its message.
    target = graded.facts["test_id"]
    key = report.normalize_message("AssertionError", graded.facts["message"])
    hits = [s for s in graded.students if graded.errors(s, target) and report.normalize_message(
        *_main_error(graded.errors(s, target))) == key]
    assert "wrong_answer" in hits
    assert f"| {len(hits)} | {key.replace('|', chr(92) + '|')} |" in markdown
    assert key in page
    # Kernel failures and integrity flags are listed for a person to look at.
    assert "`monkeypatched_checks`: " in markdown and "setattr(common.checks" in markdown
    assert "## Notebook and hidden tests disagree" in markdown
    # The noisy student's warnings (which cost nothing) are listed, with who printed them.
    warned = markdown.split("## Warnings")[1].split("## Look at these by hand")[0]
    assert "noisy" in warned and "is deprecated" in warned and "written to stderr" in warned, (
        warned)
    assert "is deprecated" in page.split("Warnings")[1]
    if graded.assignment == "00_setup":  # the class with every fixture
        assert "edited_test_cell" in hits
        assert "`os_exit`: DeadKernelError" in markdown
        assert "`segfault`: DeadKernelError" in markdown
        assert f"`edited_test_cell`: {target}: test cell edited" in markdown
        assert f"`deleted_test_cell`: {target}: test cell deleted" in markdown
        assert f"`deleted_task`: {graded.facts['answer_id']}: answer cell deleted" in markdown
    by_hand = markdown.split("## Look at these by hand")[1].split("##")[0]
    assert "`solution`:" not in by_hand, "nothing flagged"
    table = [line.split("|") for line in markdown.split("## Students")[1].splitlines()
             if line.startswith("| ") and "[html]" in line]
    pending = {cells[1].strip(): float(cells[-4]) for cells in table}
    assert pending["solution"] > 0, "solution's written answers wait for the formgrader"
    assert pending["untouched"] == 0, "an unanswered question scores 0 with no one's help"
    waiting = sum(points > 0 for points in pending.values())
    assert f"{waiting} student(s) have written answers not graded by hand yet" in by_hand
    # The report's score of each student is grades.csv's.
    with open(graded.course / "grades.csv") as handle:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)
                    if r["assignment"] == graded.assignment and r["score"]}
    scores = {cells[1].strip(): float(cells[-3]) for cells in table}
    assert scores == {s: exported[s] for s in scores}, (scores, exported)


def test_report_lists_disagreements_but_not_skipped_checks(elbo_class):
    """Issue 29, item 5: a blank 03_elbo submission is not a disagreement. Task 2 unfinished,
    the visible checks of Tasks 3 and 6 (and the design task), which call it, skip, so their
    cells pass in the notebook while their verdicts fail: not tampering. A cell that passed in
    the notebook and failed its verdict with nothing skipped is listed: a mistake only the
    hidden tests catch, and visible checks patched to pass (tests/course.py's elbo_class)."""
    decided = json.loads((elbo_class / "logs" / "03_elbo" / "blank.verdicts.json").read_text())
    skipped = {t for t, r in decided.items() if r["notebook"] == "passed"
               and r["verdict"] != "passed"}
    assert {"test_monte_carlo_kl", "test_elbo_estimate"} <= skipped, decided  # not vacuous
    out = elbo_class / "reports" / "03_elbo"
    markdown = (out / "report.md").read_text()
    section = markdown.split("## Notebook and hidden tests disagree")[1].split("## Warnings")[0]
    page = _text(out / "report.html")
    shown = page.split("Notebook and hidden tests disagree")[1].split("Warnings")[0]
    listed = "passed in the notebook but failed its verdict"
    assert "`blank`" not in section and "blank" not in shown, section
    assert sorted(re.findall(rf"^- `(\w+)`: (\w+) {listed}", section, re.M)) == [
        ("hidden_mistake", "test_exact_log_marginal"),
        ("patched_checks", "test_kl_diagonal_gaussians")], section
    assert f"hidden_mistake : test_exact_log_marginal {listed}" in shown, shown
    assert f"patched_checks : test_kl_diagonal_gaussians {listed}" in shown, shown


def test_parallel_grading_had_no_failures(graded):
    timing = json.loads((graded.course / "logs" / graded.assignment / "autograde.json")
                        .read_text())
    assert timing["jobs"] == 2
    assert {r["student"] for r in timing["runs"]} == set(graded.students)
    assert all(r["status"] == "graded" for r in timing["runs"]), timing["runs"]


# ---- fast unit tests -------------------------------------------------------------------------


def test_normalize_message_cuts_what_differs_between_students():
    a = ("x: expected 1 at index (2,) (rtol=1e-05, atol=1e-06); got 0.996094, off by 0.00391; "
         "2 of 3 element(s) differ. Hint: divide by 255.")
    b = a.replace("0.996094, off by 0.00391", "0.5, off by 0.5")
    assert report.normalize_message("AssertionError", a) == report.normalize_message(
        "AssertionError", b)
    assert "Hint: divide by 255." in report.normalize_message("AssertionError", a)
    assert report.normalize_message("NotImplementedError", "").startswith("not attempted")


def test_collect_reads_both_layouts(tmp_path):
    """Loose files (any names, one LMS-style subfolder per student) and nbgrader's
    submitted/<student>/<assignment>/ layout; nothing in the source folder changes."""
    name = course.solution_notebook("00_setup").name
    exercise = course.EXERCISES / "00_setup" / name
    loose = tmp_path / "loose"
    (loose / "Jo Bloggs_123_assignsubmission").mkdir(parents=True)
    (loose / "Jo Bloggs_123_assignsubmission" / "my setup.ipynb").write_bytes(
        exercise.read_bytes())
    (loose / "ann (2).ipynb").write_bytes(exercise.read_bytes())
    (loose / "ann_2.ipynb").write_bytes(exercise.read_bytes())
    found = sorted(collect.student_id(s) for s, _, _ in collect.find_submissions(
        loose, "00_setup"))
    assert found == ["Jo_Bloggs_123_assignsubmission", "ann_2", "ann_2"]
    layout = tmp_path / "course" / "submitted" / "kim" / "00_setup"
    layout.mkdir(parents=True)
    (layout / "setup-Copy1.ipynb").write_bytes(exercise.read_bytes())
    (layout / "timestamp.txt").write_text("2024-01-01 10:00:00")
    before = _digests(layout)
    entries = collect.collect(tmp_path / "course", "00_setup", tmp_path / "grading")
    assert [(e["student"], e["status"]) for e in entries] == [("kim", "collected")]
    copied = tmp_path / "grading" / "submitted" / "kim" / "00_setup"
    assert (copied / name).read_bytes() == exercise.read_bytes()
    assert (copied / "timestamp.txt").exists() and _digests(layout) == before
    entries = collect.collect(loose, "00_setup", tmp_path / "grading")
    assert sorted(e["student"] for e in entries) == [
        "Jo_Bloggs_123_assignsubmission", "ann_2", "ann_2-2", "kim"]


def test_grading_course_must_live_outside_the_repository():
    with pytest.raises(SystemExit, match="inside the repository"):
        course_folder.prepare_course(course.REPO / "graded", "00_setup")


def test_students_not_graded_are_reported_as_such(tmp_path):
    """Attack class 6: a student stopped by the per-student limit, and one whose forged nbgrader
    metadata makes nbgrader refuse the notebook, are listed as not graded with the reason, in
    the report and in grades.csv (no score), while the rest of the class is graded."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    solution = hostile.answered("00_setup")
    nbformat.write(solution, str(folder / "honest.ipynb"))
    sleeper = nbformat.from_dict(solution)
    answers = [c for c in sleeper.cells if course.nbgrader_meta(c).get("solution")
               and c.cell_type == "code"]
    for cell in answers[:2]:  # each cell is under the per-cell limit, together over the total
        cell.source = "import time\ntime.sleep(100)\n" + cell.source
    nbformat.write(sleeper, str(folder / "sleeper.ipynb"))
    forged = nbformat.from_dict(solution)
    forged.cells.append(nbformat.v4.new_code_cell("1", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": False, "grade_id": "", "points": 100,
        "schema_version": 3}}))
    nbformat.write(forged, str(folder / "forged_metadata.ipynb"))
    command = [sys.executable, "-m", "grading", "run", "00_setup", str(folder), "--course",
               str(tmp_path / "course"), "--jobs", "2", "--timeout", "120",
               "--student-timeout", "45"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            cwd=course.REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "course" / "grades.csv") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    assert rows["honest"]["graded"] == "yes" and float(rows["honest"]["raw_score"]) == 4.0
    assert rows["honest"]["hand_graded_points_pending"] == "2", "its written answer waits"
    assert rows["sleeper"]["hand_graded_points_pending"] == ""
    assert rows["sleeper"]["graded"] == "no" and rows["sleeper"]["score"] == ""
    assert "per-student limit" in rows["sleeper"]["not_graded_reason"]
    assert rows["forged_metadata"]["graded"] == "no" and rows["forged_metadata"]["score"] == ""
    markdown = (tmp_path / "course" / "reports" / "00_setup" / "report.md").read_text()
    assert "`sleeper`: not graded: timeout: stopped after the 45 s per-student limit" in markdown
    assert "`forged_metadata`: not graded: failed" in markdown
    # honest's written answer is still pending: the LMS file is written only when asked to.
    result = subprocess.run([*command[:3], "export", "--format", "canvas", "--allow-pending",
                             "--course", str(tmp_path / "course")], capture_output=True,
                            text=True, timeout=300, cwd=course.REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "course" / "grades-canvas.csv") as handle:
        canvas = {r["SIS User ID"]: r["00_setup"] for r in csv.DictReader(handle)}
    assert float(canvas.pop("")) >= 4, "the Points Possible row"
    assert canvas == {"honest": "4", "sleeper": "", "forged_metadata": ""}
    assert "grades-canvas.csv.not-graded.csv" in result.stdout
    assert "1 submission(s) graded of 3 collected" in markdown
    assert _marked_processes() == []


def test_export_stops_when_the_gradebook_or_config_changed_outside_the_grader(tmp_path):
    """Integrity (issue 13, deliver 3): what a submission graded with --unsandboxed could do,
    done by hand: a trigger, a forged extra credit, Python appended to the course config. Each
    stops the export with a message naming it; `python -m grading seal` accepts them."""
    import sqlite3

    course_dir = course_folder.prepare_course(tmp_path / "course", "00_setup")
    course_folder.seal(course_dir)
    assert course_folder.verify(course_dir) == []
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        db.execute("INSERT INTO student (id) VALUES ('mallory')")
        db.execute("CREATE TRIGGER hostile AFTER UPDATE ON student BEGIN SELECT 1; END")
    with open(course_dir / "nbgrader_config.py", "a") as config:
        config.write("\nprint('runs in every nbgrader command')\n")
    problems = course_folder.verify(course_dir)
    assert any("trigger hostile" in p for p in problems), problems
    assert any("nbgrader_config.py" in p for p in problems), problems
    with pytest.raises(SystemExit, match="(?s)export stopped.*trigger hostile"):
        course_folder.export(course_dir)
    assert not (course_dir / "grades.csv").exists()
    course_folder.prepare_course(course_dir, "00_setup")  # rewrites the config
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        db.execute("DROP TRIGGER hostile")
    course_folder.record_differences(course_dir, "test")  # nothing left to record
    assert course_folder.verify(course_dir) == []
    # A manual score set outside the formgrader, then accepted by the instructor.
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        db.execute("INSERT INTO grade (id, extra_credit, needs_manual_grade) "
                   "VALUES ('forged', 100, 0)")
    course_folder.record_differences(course_dir, "after a late write")
    assert any("forged" in p for p in course_folder.verify(course_dir))
    course_folder.accept(course_dir)
    assert course_folder.verify(course_dir) == []


def test_what_a_student_reads_of_a_failed_verdict():
    """Nothing the kernel wrote after it saw the probes reaches the student: a verdict's
    message loses the 'got …' part, the worst element's index and the texts of the student's
    errors (which could quote the probes), and keeps what was expected and the hint."""
    got = verdicts.Probed("t", ["f(x)"], [None], ["ValueError: def verdict_t(got, ref): ..."])
    message = ("hidden tests: f(x): expected 0.2 at index (0, 3) (rtol=1e-05, atol=1e-06); got "
               "0.19, off by 0.01; 2 of 4 element(s) differ. Hint: divide by 255. f raised "
               "ValueError: def verdict_t(got")
    shown = verdicts.for_student(message, got)
    assert "0.19" not in shown and "(0, 3)" not in shown and "verdict_t" not in shown
    assert "expected 0.2" in shown and "Hint: divide by 255." in shown
    assert "raised ValueError" in shown
    assert verdicts.error_kind("Custom: anything") == "an exception"
    # Text the kernel recorded (a log key it named) is cut wherever a verdict quotes it; the
    # names the reference also recorded stay.
    got = verdicts.Probed("t", ["log keys"], [np.array(["d_loss", "def verdict_t(got"])], [""])
    ref = verdicts.Probed("t", ["log keys"], [np.array(["d_loss", "g_loss"])], [""])
    message = ("train_step's logs miss g_loss; the keys d_loss and def verdict_t(got are not "
               "expected. Hint: name the trackers d_loss and g_loss.")
    shown = verdicts.for_student(message, got, ref)
    assert "verdict_t" not in shown and shown.count("d_loss") == 2 and "g_loss" in shown, shown


def test_common_digest_sees_code_changes_not_caches(tmp_path):
    """The seal's digest of common/ changes with any source file, not with the bytecode and
    checkpoint caches Python and Jupyter write on their own (no false alarm at export)."""
    package = tmp_path / "common"
    package.mkdir()
    (package / "checks.py").write_text("OK = True\n")
    before = course_folder.digest_tree(package)
    for cache in ("__pycache__/checks.cpython-311.pyc", ".ipynb_checkpoints/x-checkpoint.py"):
        (package / cache).parent.mkdir()
        (package / cache).write_bytes(b"cache")
    assert course_folder.digest_tree(package) == before
    (package / "checks.py").write_text("OK = False\n")
    assert course_folder.digest_tree(package) != before
    (package / "checks.py").write_text("OK = True\n")
    (package / "extra.py").write_text("")
    assert course_folder.digest_tree(package) != before


@pytest.mark.parametrize("graded", ["00_setup"], indirect=True)
@pytest.mark.parametrize("ending", ["SIGINT", "SIGTERM"])  # Ctrl-C, kill
def test_formgrader_session_grades_by_hand_and_seals(graded, ending, tmp_path):
    """`python -m grading formgrader` serves nbgrader's formgrader for the course; a written
    answer graded through it is sealed when the session ends, so export accepts it, and
    JupyterLab ends with it."""
    import signal
    import socket
    import urllib.request

    from nbgrader.api import Gradebook

    copy = tmp_path / "course"
    shutil.copytree(graded.course, copy, symlinks=True)
    course_folder.prepare_course(copy, graded.assignment)  # its config now names the copy
    course_folder.accept(copy)
    with Gradebook(course_folder.db_url(copy)) as gradebook:
        notebook = gradebook.find_submission_notebook(graded.stem, graded.assignment, "solution")
        (written,) = [g for g in notebook.grades if g.cell_type == "markdown"]
        grade_id, top = written.id, written.max_score
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "grading", "formgrader", "--course", str(copy), "--port",
         str(port)], cwd=course.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
        # Started with SIGINT ignored, as a pytest-xdist worker's earlier tests can leave it:
        # Ctrl-C must still end the session.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        url = re.search(r"http://\S+", server.stdout.readline()).group(0)
        token = url.split("token=")[1]

        def call(path: str, data: bytes | None = None) -> bytes:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", data=data, method="PUT" if data else "GET",
                headers={"Authorization": f"token {token}"})
            return urllib.request.urlopen(request, timeout=10).read()

        deadline = time.monotonic() + 120
        while True:
            try:
                page = call("/formgrader").decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no formgrader"
                time.sleep(0.5)
        assert "formgrader" in page.lower()
        assert "warning-exchange" not in call("/formgrader/manage_assignments").decode()
        call(f"/formgrader/api/grade/{grade_id}", json.dumps({"manual_score": top}).encode())
    finally:
        os.killpg(server.pid, getattr(signal, ending))
        output = server.communicate(timeout=600)[0]  # it ends by remaking grades and pages
    assert server.returncode == 0, output[-2000:]
    assert "Unwritable directory" not in output, "the formgrader looked for an exchange"
    with pytest.raises(OSError):  # JupyterLab ended with the session
        call("/formgrader")
    with Gradebook(course_folder.db_url(copy)) as gradebook:
        assert gradebook.find_grade_by_id(grade_id).manual_score == top
        score = gradebook.find_submission(graded.assignment, "solution").score
    assert course_folder.verify(copy) == [], "the session's grade was not sealed"
    # What people read was made again with the hand-graded points: grades.csv, the report and
    # the student's feedback page agree with the gradebook.
    with open(copy / "grades.csv") as handle:
        (row,) = [r for r in csv.DictReader(handle) if r["student_id"] == "solution"
                  and r["assignment"] == graded.assignment]
    assert float(row["score"]) == score and row["hand_graded_points_pending"] == "0", row
    markdown = (copy / "reports" / graded.assignment / "report.md").read_text()
    (line,) = [x for x in markdown.split("## Students")[1].splitlines()
               if x.startswith("| solution |")]
    assert float(line.split("|")[-3]) == score, line
    feedback = (copy / "feedback" / "solution" / graded.assignment / f"{graded.stem}.html")
    assert f"(Score: {round(float(score), 2)} / " in _text(feedback), (
        "the feedback page does not show the hand-graded total")


def test_lms_exports_leave_students_not_graded_blank_and_flagged(tmp_path):
    """Canvas's and Moodle's import files carry every graded score as the LMS reads it, a blank
    (never 0) and a flag for a student who was not graded, and nothing else in grade columns."""
    from grading import lms

    grades = tmp_path / "grades.csv"
    fields = ["assignment", "student_id", "first_name", "last_name", "email", "score",
              "max_score", "graded", "not_graded_reason"]
    rows = [["00_setup", "ann", "Ann", "Lee", "ann@uni.example", "4.0", "6.0", "yes", ""],
            ["00_setup", "bob", "", "", "", "", "6.0", "no", "timeout: stopped after 45 s"],
            ["03_elbo", "ann", "Ann", "Lee", "ann@uni.example", "12.5", "20.0", "yes", ""],
            ["03_elbo", "bob", "", "", "", "0.0", "20.0", "yes", ""]]
    with open(grades, "w", newline="") as handle:
        csv.writer(handle).writerows([fields, *rows])

    canvas, flagged = lms.convert(grades, "canvas", tmp_path / "canvas.csv")
    table = list(csv.reader(open(canvas)))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00_setup",
                        "03_elbo"]
    assert table[1][0] == "Points Possible" and table[1][5:] == ["6", "20"]
    assert table[2] == ["Lee, Ann", "", "ann", "", "", "4", "12.5"]
    assert table[3] == ["bob", "", "bob", "", "", "", "0"], "not graded: blank; no submission: 0"
    assert list(csv.reader(open(flagged)))[1] == ["bob", "00_setup", "timeout: stopped after 45 s"]

    (moodle, _) = lms.convert(grades, "moodle", tmp_path / "moodle.csv")
    table = list(csv.reader(open(moodle)))
    assert table[0] == ["ID number", "Email address", "First name", "Last name", "00_setup",
                        "00_setup feedback", "03_elbo", "03_elbo feedback"]
    assert table[1] == ["ann", "ann@uni.example", "Ann", "Lee", "4", "", "12.5", ""]
    assert table[2][:6] == ["bob", "", "", "", "", "not graded: timeout: stopped after 45 s"]

    with open(grades, "w", newline="") as handle:  # everyone graded: no stale flag file
        csv.writer(handle).writerows([fields, rows[0]])
    assert lms.convert(grades, "canvas", tmp_path / "canvas.csv") == [tmp_path / "canvas.csv"]
    assert not flagged.exists()


def test_grader_messages_wrap_in_feedback_and_formgrader_boxes():
    """A message the grader adds to a cell is shown in a box that does not wrap (feedback pages,
    the formgrader): its traceback is wrapped instead, its text (what scores and the report
    read) kept whole."""
    from grading.execute import MESSAGE_WIDTH, _error_output

    message = "the verdict says " + "why it failed " * 40 + "\nTable:\n  a  b"
    output = _error_output("AssertionError", message)
    assert output.evalue == message
    lines = output.traceback[0].replace("\x1b[0;31m", "").replace("\x1b[0m", "").splitlines()
    assert max(map(len, lines)) <= MESSAGE_WIDTH and len(lines) > 3
    assert " ".join(" ".join(lines).split()) == " ".join(f"AssertionError: {message}".split())
    assert "  a  b" in lines, "the message's own lines are kept"
