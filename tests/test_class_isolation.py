"""One student's file, one student's loss (issue 25, deliver 2).

Collect refuses symbolic links (to files or folders, at any depth, in a loose folder and in
nbgrader's submitted/<student>/<assignment>/ layout) and anything that is not a regular file,
reads notebooks within size, JSON depth and number-length limits (no RecursionError, no
ValueError: Python's int max str digits), and maps student ids to safe, bounded, unique names
while keeping the original. Every per-student step of `python -m grading run` (collect,
autograde, feedback, export) makes a failing student *not graded* with the reason, and the run
goes on. Fast unit tests of each case, then ONE class graded end to end
(tests/fixtures/grading/malformed.py), whose course the feedback and export cases reuse."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import course

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402
import malformed  # noqa: E402

from grading import collect, course_folder, parallel  # noqa: E402

ASSIGNMENT = "00_setup"
NAME = course.solution_notebook(ASSIGNMENT).name
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@pytest.fixture(scope="module")
def answered():
    return hostile.answered(ASSIGNMENT)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A course folder with the assignment generated once (nbgrader takes a few seconds)."""
    return course_folder.prepare_course(tmp_path_factory.mktemp("prepared") / "course",
                                        ASSIGNMENT)


@pytest.fixture
def course_dir(prepared, tmp_path) -> Path:
    """A fresh copy of the prepared course (collect points its config at the copy)."""
    target = tmp_path / "course"
    shutil.copytree(prepared, target, symlinks=True)
    return target


def _write(path: Path, notebook) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def _by_original(entries: list[dict]) -> dict[str, dict]:
    return {e["original"]: e for e in entries}


# ---- reading a notebook within limits ------------------------------------------------------


def test_json_shape_is_found_without_parsing():
    assert collect.json_shape(b'{"a": [[1, 2], {"b": []}]}') == (4, 0)
    assert collect.json_shape(b'{"a": "[[[[{{{ \\" [[[ 123456"}') == (1, 0)  # text, not JSON
    assert collect.json_shape(b"[" * 100_000 + b"]" * 100_000)[0] == 100_000
    assert collect.json_shape(b'{"n": 1' + b"0" * 4_999 + b"}")[1] == 5_000
    assert collect.json_shape(b'{"n": "1' + b"0" * 4_999 + b'"}')[1] == 0  # a string


def test_deep_json_and_long_numbers_are_rejected_with_a_reason(answered):
    """A valid JSON notebook nested 100,000 levels deep (RecursionError in json) or holding a
    5,000-digit number (ValueError: int max str digits) is refused before any parser sees it;
    so is one nested just past the limit, which Python's json would still read."""
    reason = collect.inspect_notebook(malformed.deep_json(answered), ASSIGNMENT)
    assert reason.startswith("nested 100002 levels deep"), reason
    reason = collect.inspect_notebook(malformed.deep_json(answered, 200), ASSIGNMENT)
    assert "nested" in reason and "limit is 100" in reason, reason
    reason = collect.inspect_notebook(malformed.long_number(answered), ASSIGNMENT)
    assert reason.startswith("holds a number of 5000 digits"), reason
    assert collect.inspect_notebook(malformed.long_number(answered, 50), ASSIGNMENT) == ""
    text = nbformat.writes(answered).encode()
    assert collect.inspect_notebook(text, ASSIGNMENT) == ""
    cells = json.loads(text)
    cells["cells"] *= collect.MAX_CELLS // len(cells["cells"]) + 1
    assert "cells (the limit is" in collect.inspect_notebook(json.dumps(cells).encode(),
                                                            ASSIGNMENT)


def test_files_over_the_size_limit_are_not_read(tmp_path, monkeypatch, answered):
    path = _write(tmp_path / "big.ipynb", answered)
    assert collect.read_submission(path)[1] == ""
    monkeypatch.setattr(collect, "MAX_NOTEBOOK_BYTES", path.stat().st_size - 1)
    data, reason = collect.read_submission(path)
    assert data is None and reason.startswith("too large"), reason


# ---- links and special files ---------------------------------------------------------------


def test_links_and_special_files_are_refused_in_a_loose_folder(tmp_path, course_dir, answered):
    """A link to the instructor's solution, to a folder (at the top or deeper), a link inside a
    student's own subfolder, a dangling link and a named pipe: each rejected with its reason,
    nothing behind a link read or copied, the honest student collected."""
    source, elsewhere = tmp_path / "submissions", tmp_path / "elsewhere"
    _write(source / "honest.ipynb", answered)
    _write(elsewhere / NAME, answered)
    _write(elsewhere / "inner" / "mine.ipynb", answered)
    os.symlink(course.solution_notebook(ASSIGNMENT), source / "link_to_solution.ipynb")
    (source / "Jo Bloggs_12_assignsubmission").mkdir()
    os.symlink(course.solution_notebook(ASSIGNMENT),
               source / "Jo Bloggs_12_assignsubmission" / "setup.ipynb")
    os.symlink(elsewhere, source / "linked_folder")
    (source / "deeper" / "still").mkdir(parents=True)
    os.symlink(elsewhere, source / "deeper" / "still" / "linked")
    os.symlink(tmp_path / "missing.ipynb", source / "dangling.ipynb")
    os.mkfifo(source / "pipe.ipynb")
    entries = _by_original(collect.collect(source, ASSIGNMENT, course_dir))
    assert entries["honest"]["status"] == "collected"
    for original in ("link_to_solution", "Jo Bloggs_12_assignsubmission", "linked_folder",
                     "deeper/still/linked", "dangling"):
        assert entries[original]["status"] == "rejected", original
        assert "symbolic link" in entries[original]["reason"], entries[original]
    assert "folder" in entries["linked_folder"]["reason"]
    assert entries["pipe"]["status"] == "rejected"
    assert "not a regular file (a named pipe (FIFO))" in entries["pipe"]["reason"]
    assert set(entries) == {"honest", "link_to_solution", "Jo Bloggs_12_assignsubmission",
                            "linked_folder", "deeper/still/linked", "dangling", "pipe"}
    copied = sorted(p.relative_to(course_dir) for p in (course_dir / "submitted").rglob("*")
                    if p.is_file())
    assert copied == [Path("submitted", entries["honest"]["student"], ASSIGNMENT, NAME)]


def test_links_are_refused_in_the_nbgrader_layout(tmp_path, course_dir, answered):
    """submitted/<student>/<assignment>/: a linked notebook, a linked student folder and a
    linked assignment folder are rejected; a linked timestamp.txt is not copied."""
    root, elsewhere = tmp_path / "export" / "submitted", tmp_path / "elsewhere"
    _write(root / "kim" / ASSIGNMENT / NAME, answered)
    os.symlink("/etc/hostname", root / "kim" / ASSIGNMENT / "timestamp.txt")
    (root / "lee" / ASSIGNMENT).mkdir(parents=True)
    os.symlink(course.solution_notebook(ASSIGNMENT), root / "lee" / ASSIGNMENT / NAME)
    _write(elsewhere / "max" / ASSIGNMENT / NAME, answered)
    os.symlink(elsewhere / "max", root / "max")
    (root / "ned").mkdir()
    os.symlink(elsewhere / "max" / ASSIGNMENT, root / "ned" / ASSIGNMENT)
    entries = _by_original(collect.collect(tmp_path / "export", ASSIGNMENT, course_dir))
    assert entries["kim"]["status"] == "collected", entries["kim"]
    assert not (course_dir / "submitted" / "kim" / ASSIGNMENT / "timestamp.txt").exists()
    for student in ("lee", "max", "ned"):
        assert entries[student]["status"] == "rejected", entries[student]
        assert "symbolic link" in entries[student]["reason"], entries[student]
        assert not (course_dir / "submitted" / student).exists()


# ---- student ids ---------------------------------------------------------------------------


def test_student_ids_are_safe_bounded_unique_and_keep_the_original(tmp_path, course_dir,
                                                                    answered):
    """A 249- and a 255-character file name, two long names alike but for their end, names that
    sanitise alike (in one collection and across two), a name that is not UTF-8: each gets a
    safe id of at most 64 characters, its own, and the manifest keeps the original."""
    source = tmp_path / "submissions"
    long_249 = malformed.LONG_STEM
    long_255 = "y" * (255 - len(".ipynb"))
    alike = ["z" * 200 + "-one", "z" * 200 + "-two"]
    for stem in [long_249, long_255, *alike, "ann (2)", "ann_2", "ann_2-2"]:
        _write(source / f"{stem}.ipynb", answered)
    _write(source / os.fsdecode(b"caf\xe9.ipynb"), answered)
    entries = collect.collect(source, ASSIGNMENT, course_dir)
    ids = [e["student"] for e in entries]
    assert len(ids) == len(set(ids)) == 8
    for entry in entries:
        assert SAFE_ID.fullmatch(entry["student"]) and len(entry["student"]) <= 64, entry
        assert entry["status"] == "collected", entry
        assert (course_dir / "submitted" / entry["student"] / ASSIGNMENT / NAME).is_file()
    originals = _by_original(entries)
    assert {long_249, long_255, *alike, "ann (2)", "ann_2", "ann_2-2", "caf\ufffd"} == set(
        originals)
    assert originals["ann (2)"]["student"] == "ann_2"  # files in name order
    assert originals["ann_2-2"]["student"] == "ann_2-2"
    assert originals["ann_2"]["student"] == "ann_2-3"
    assert originals[long_249]["student"].startswith("long-name-xxx")
    # A second folder: the same student again keeps their id; a new name that sanitises like
    # an earlier one gets its own, and nobody collected earlier is replaced.
    again = tmp_path / "again"
    _write(again / "ann_2.ipynb", answered)
    _write(again / "ann  2.ipynb", answered)
    second = _by_original(collect.collect(again, ASSIGNMENT, course_dir))
    assert second["ann_2"]["student"] == "ann_2-3"
    assert second["ann  2"]["student"] not in ids
    assert second["ann (2)"]["student"] == "ann_2"  # kept from the first collection
    manifest = collect.read_manifest(course_dir, ASSIGNMENT)
    assert len(manifest) == 9 and len({e["student"] for e in manifest}) == 9


def test_grades_csv_shows_the_original_id(tmp_path, course_dir, answered):
    """grades.csv gets `original_id` (next to `student_id`), kept inert for spreadsheets."""
    source = tmp_path / "submissions"
    _write(source / "=HYPERLINK(x).ipynb", answered)
    (source / "empty.ipynb").write_bytes(b"")
    entries = _by_original(collect.collect(source, ASSIGNMENT, course_dir))
    student = entries["=HYPERLINK(x)"]["student"]
    grades = tmp_path / "grades.csv"
    keys = ["assignment", "student_id", "raw_score", "score"]
    with open(grades, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(keys)
        writer.writerow([ASSIGNMENT, student, "4.0", "4.0"])
        writer.writerow([ASSIGNMENT, "empty", "0.0", "0.0"])
    course_folder.record_status(course_dir, ASSIGNMENT, {student: ("graded", "")})
    for _ in range(2):  # marking twice changes nothing
        course_folder._mark_not_graded(grades, course_dir)
        with open(grades, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = {r["student_id"]: r for r in reader}
            assert reader.fieldnames == ["assignment", "student_id", "original_id", "raw_score",
                                         "score", "graded", "not_graded_reason",
                                         "hand_graded_points_pending"]
        assert rows[student]["original_id"] == "'=HYPERLINK(x)"
        assert rows[student]["graded"] == "yes" and rows[student]["score"] == "4.0"
        assert rows["empty"]["graded"] == "no" and rows["empty"]["score"] == ""
        assert rows["empty"]["not_graded_reason"] == "rejected at collection: empty file"


# ---- per-student isolation -----------------------------------------------------------------


def test_an_error_collecting_one_file_rejects_only_that_file(tmp_path, course_dir, answered,
                                                             monkeypatch):
    source = tmp_path / "submissions"
    _write(source / "honest.ipynb", answered)
    odd = nbformat.from_dict(answered)
    odd.metadata["odd"] = "breaks the inspection"
    _write(source / "odd.ipynb", odd)
    real = collect.inspect_notebook

    def inspect(data, assignment):
        if b"breaks the inspection" in data:
            raise MemoryError("out of memory inspecting it")
        return real(data, assignment)

    monkeypatch.setattr(collect, "inspect_notebook", inspect)
    entries = _by_original(collect.collect(source, ASSIGNMENT, course_dir))
    assert entries["honest"]["status"] == "collected"
    assert entries["odd"]["status"] == "rejected"
    assert entries["odd"]["reason"].startswith("could not be collected (MemoryError: out of")
    assert not (course_dir / "submitted" / "odd").exists()


def test_an_error_autograding_one_student_fails_only_that_student(tmp_path, monkeypatch):
    """The grading thread's own step for one student (worker or fresh process) raising is that
    student's failure, with the reason."""

    class Broken:
        def grade(self, *args):
            raise OSError(36, "File name too long")

    def subprocess_fails(course_dir, assignment, student, options, timeout):
        raise OSError(36, "File name too long")

    monkeypatch.setattr(parallel, "autograde_subprocess", subprocess_fails)
    for worker in (Broken(), None):
        run = parallel._grade_one(worker, tmp_path, ASSIGNMENT, "kim", [], 10)
        assert run.student == "kim" and run.status == "failed", run
        assert "OSError" in run.detail and "File name too long" in run.detail


# ---- one class, graded end to end ----------------------------------------------------------


class Graded:
    def __init__(self, root: Path):
        self.folder, self.course = root / "submissions", root / "course"
        self.expect = malformed.build_class(ASSIGNMENT, self.folder, root / "elsewhere")
        command = [sys.executable, "-m", "grading", "run", ASSIGNMENT, str(self.folder),
                   "--course", str(self.course), "--jobs", "2", "--timeout", "60"]
        self.result = subprocess.run(command, capture_output=True, text=True, timeout=1200,
                                     cwd=course.REPO)
        self.output = f"{self.result.stdout[-4000:]}\n{self.result.stderr[-4000:]}"

    def rows(self, course_dir: Path | None = None) -> dict[str, dict]:
        """grades.csv rows of the assignment by original id."""
        with open((course_dir or self.course) / "grades.csv", newline="") as handle:
            return {r["original_id"]: r for r in csv.DictReader(handle)
                    if r["assignment"] == ASSIGNMENT}

    def copy(self, target: Path) -> Path:
        """The graded course, copied (its config pointed at the copy)."""
        assert (self.course / "grades.csv").exists(), f"the class was not exported:\n{self.output}"
        shutil.copytree(self.course, target, symlinks=True)
        (target / "nbgrader_config.py").write_text(course_folder.course_config(target))
        return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    return Graded(tmp_path_factory.mktemp("isolation"))


def _top() -> float:
    return sum(float(course.nbgrader_meta(c)["points"]) for c in course.graded_test_cells(
        course.read(course.solution_notebook(ASSIGNMENT))))


def test_the_class_is_graded_and_the_run_exits_0(graded):
    """The honest, the long-named and the odd-lined correct notebooks earn full marks; the
    deep, the long number and both links are not graded, with reasons; `run` exits 0 with the
    report written."""
    assert (graded.course / "grades.csv").exists(), graded.output
    rows = graded.rows()
    assert set(rows) == set(graded.expect), (sorted(rows), graded.output)
    wrong = {}
    for original, expect in graded.expect.items():
        row = rows[original]
        if expect == "full":
            ok = row["graded"] == "yes" and float(row["raw_score"]) == _top()
        else:
            ok = (row["graded"] == "no" and row["score"] == ""
                  and expect in row["not_graded_reason"])
        if not ok:
            wrong[original[:40]] = row
    assert not wrong, f"{wrong}\n{graded.output}"
    for row in rows.values():
        assert SAFE_ID.fullmatch(row["student_id"]) and len(row["student_id"]) <= 64
    assert not (graded.course / "submitted" / "link_to_solution").exists()
    assert not (graded.course / "submitted" / "linked_folder").exists()
    assert graded.result.returncode == 0, graded.output
    assert (graded.course / "reports" / ASSIGNMENT / "report.html").exists()


def test_a_feedback_failure_costs_only_that_student(graded, tmp_path):
    """One autograded notebook that nbgrader cannot turn into feedback: the others get theirs,
    that student is not graded with the reason, in grades.csv too."""
    course_dir = graded.copy(tmp_path / "course")
    before = graded.rows(course_dir)
    student = before["honest"]["student_id"]
    (course_dir / "autograded" / student / ASSIGNMENT / NAME).write_text("{ not a notebook")
    course_folder.feedback(course_dir, ASSIGNMENT)
    rows = graded.rows(course_dir)
    assert rows["honest"]["graded"] == "no" and rows["honest"]["score"] == ""
    assert rows["honest"]["not_graded_reason"].startswith("feedback: nbgrader generate_feedback")
    stem = Path(NAME).stem
    for original, expect in graded.expect.items():
        if expect == "full" and original != "honest":
            assert rows[original]["graded"] == "yes", rows[original]
            assert (course_dir / "feedback" / rows[original]["student_id"] / ASSIGNMENT
                    / f"{stem}.html").is_file()
    assert not (course_dir / "feedback" / student / ASSIGNMENT / f"{stem}.html").exists()


def test_an_export_failure_costs_only_that_student(graded, tmp_path):
    """One submission's gradebook record that nbgrader export cannot read (a timestamp that is
    no date): every other row is exported, that student is not graded with the reason."""
    course_dir = graded.copy(tmp_path / "course")
    student = graded.rows(course_dir)["honest"]["student_id"]
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        changed = db.execute("UPDATE submitted_assignment SET timestamp = 'no date' "
                             "WHERE student_id = ?", (student,)).rowcount
    assert changed == 1
    course_folder.export(course_dir)
    rows = graded.rows(course_dir)
    assert set(rows) == set(graded.expect)
    assert rows["honest"]["graded"] == "no" and rows["honest"]["score"] == ""
    assert rows["honest"]["not_graded_reason"].startswith("export: the gradebook's record"), rows
    for original, expect in graded.expect.items():
        if expect == "full" and original != "honest":
            assert rows[original]["graded"] == "yes", rows[original]
            assert float(rows[original]["raw_score"]) == _top()
