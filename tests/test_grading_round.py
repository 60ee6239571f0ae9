"""A new instructor's grading round (issue 29, helper brief 29c): hand grading still pending is
said where the instructor looks (`export`, `run`) and never reaches an LMS file unflagged;
`export` during a live formgrader session says so instead of raising the tampering alarm (which
still rings for a change outside any session); the formgrader starts only on a graded course.

One small 00_setup class is graded once (`python -m grading run`, as tests/test_grading.py's
`graded` fixture does, reduced to two students: `honest`, every answer right, whose written
answer waits for the formgrader, and `blank`, the released exercise untouched)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import course
import services

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402

from grading import course_folder, lms  # noqa: E402

ASSIGNMENT = "00_setup"
PENDING_LINE = "1 student has 2 hand-graded points pending"


def _grading(*args: str, env: dict | None = None,
             timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=course.REPO, env=env)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """(course folder, the `run`'s output) of 00_setup graded for `honest` and `blank`."""
    root = tmp_path_factory.mktemp("grading_round")
    folder = root / "submissions"
    folder.mkdir()
    nbformat.write(hostile.answered(ASSIGNMENT), str(folder / "honest.ipynb"))
    shutil.copy(course.EXERCISES / ASSIGNMENT / course.solution_notebook(ASSIGNMENT).name,
                folder / "blank.ipynb")
    result = _grading("run", ASSIGNMENT, str(folder), "--course", str(root / "course"),
                      "--jobs", "2", "--timeout", "60", timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "course", result


def _copy(course_dir: Path, target: Path) -> Path:
    """A copy of the graded course that tests may change (its config names the copy)."""
    shutil.copytree(course_dir, target, symlinks=True)
    course_folder.prepare_course(target, ASSIGNMENT)
    course_folder.accept(target)
    return target


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# ---- 1. pending hand grading -----------------------------------------------------------------

def test_lms_files_refuse_pending_hand_grading_unless_allowed(tmp_path):
    """An LMS file with hand-graded points still pending would under-grade on import: it is not
    written unless --allow-pending, and then each such row is flagged (Moodle's feedback
    column; `<file>.pending.csv` for both formats). A grades.csv without the pending column
    (plain nbgrader's) converts as before."""
    grades = tmp_path / "grades.csv"
    fields = ["assignment", "student_id", "first_name", "last_name", "email", "score",
              "max_score", "graded", "not_graded_reason", "hand_graded_points_pending"]
    rows = [["00_setup", "ann", "", "", "", "4.0", "6.0", "yes", "", "2"],
            ["00_setup", "bob", "", "", "", "", "6.0", "no", "timeout: stopped", ""],
            ["00_setup", "cy", "", "", "", "6.0", "6.0", "yes", "", "0"]]
    with open(grades, "w", newline="") as handle:
        csv.writer(handle).writerows([fields, *rows])
    for fmt in ("canvas", "moodle"):
        with pytest.raises(lms.PendingHandGrading, match=(
                r"(?s)1 student has 2 hand-graded points pending.*ann.*--allow-pending")):
            lms.convert(grades, fmt, tmp_path / f"{fmt}.csv")
        assert not (tmp_path / f"{fmt}.csv").exists()
    written = lms.convert(grades, "canvas", tmp_path / "canvas.csv", allow_pending=True)
    pending = tmp_path / "canvas.csv.pending.csv"
    assert pending in written
    assert list(csv.reader(open(pending)))[1:] == [["ann", "00_setup", "2"]]
    table = {r[2]: r[5] for r in csv.reader(open(tmp_path / "canvas.csv"))}
    assert table["ann"] == "4" and table["bob"] == "" and table["cy"] == "6"
    lms.convert(grades, "moodle", tmp_path / "moodle.csv", allow_pending=True)
    moodle = {r[0]: r for r in csv.reader(open(tmp_path / "moodle.csv"))}
    assert moodle["ann"][4:6] == ["4", "provisional: 2 hand-graded points pending"]
    assert moodle["cy"][4:6] == ["6", ""]
    with open(grades, "w", newline="") as handle:  # plain nbgrader's columns: as before
        csv.writer(handle).writerows([fields[:-1], *(r[:-1] for r in rows)])
    assert lms.convert(grades, "canvas", tmp_path / "canvas.csv")[0] == tmp_path / "canvas.csv"
    assert not pending.exists(), "a stale list of pending points"


def test_export_and_run_say_what_hand_grading_is_pending(graded_class):
    """`run` and `export` print one line when hand-graded points are pending; `--format canvas`
    refuses (grades.csv is still written) and says how to go on; `--allow-pending` writes it
    with the pending rows listed."""
    course_dir, run = graded_class
    assert PENDING_LINE in run.stdout and "python -m grading formgrader" in run.stdout, run.stdout
    grades = {r["student_id"]: r for r in _rows(course_dir / "grades.csv")}
    assert grades["honest"]["hand_graded_points_pending"] == "2"
    assert grades["blank"]["hand_graded_points_pending"] == "0"
    (course_dir / "grades.csv").unlink()
    result = _grading("export", "--course", str(course_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert PENDING_LINE in result.stdout, result.stdout
    canvas = course_dir / "grades-canvas.csv"
    (course_dir / "grades.csv").unlink()
    result = _grading("export", "--format", "canvas", "--course", str(course_dir))
    assert result.returncode != 0, result.stdout
    assert "--allow-pending" in result.stderr and "honest" in result.stderr, result.stderr
    assert not canvas.exists(), "an LMS file that under-grades"
    assert (course_dir / "grades.csv").exists(), "grades.csv is written as before"
    result = _grading("export", "--format", "canvas", "--allow-pending", "--course",
                      str(course_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert PENDING_LINE in result.stdout
    assert {r["SIS User ID"]: r["00_setup"] for r in _rows(canvas)}["honest"] == "4"
    assert [r["student_id"] for r in _rows(Path(f"{canvas}.pending.csv"))] == ["honest"]


# ---- 2. export during a live formgrader session ----------------------------------------------

def test_export_waits_for_a_live_formgrader_session_not_a_false_alarm(graded_class, tmp_path):
    """While a formgrader session runs (its grades not sealed yet), `export` and `autograde`
    stop saying so, without recording the session's grades as tampering; once it ends, its
    grades export. A manual score changed outside any session still stops the export."""
    from nbgrader.api import Gradebook

    copy = _copy(graded_class[0], tmp_path / "course")
    with Gradebook(course_folder.db_url(copy)) as gradebook:
        notebook = gradebook.find_submission_notebook("setup", ASSIGNMENT, "honest")
        (written,) = [g for g in notebook.grades if g.cell_type == "markdown"]
        grade_id, top = written.id, written.max_score
    session = services.Formgrader(copy, tmp_path / "formgrader.log")
    try:
        status, _, body = session.call(f"/formgrader/api/grade/{grade_id}", "PUT",
                                       {"manual_score": top, "extra_credit": 0})
        assert status == 200, body
        for command in (["export"], ["autograde", ASSIGNMENT]):
            result = _grading(*command, "--course", str(copy))
            said = result.stdout + result.stderr
            assert result.returncode != 0, said
            assert (f"a formgrader session is running (pid {session.process.pid}): end it "
                    "(Ctrl-C); it exports when it ends") in said, said
            assert "escaped the sandbox" not in said, said
        assert not (copy / course_folder.VIOLATIONS).exists(), "a false alarm was recorded"
    finally:
        log = session.stop()
    assert session.process.returncode == 0, log[-3000:]
    assert course_folder.verify(copy) == []
    (row,) = [r for r in _rows(copy / "grades.csv") if r["student_id"] == "honest"]
    assert float(row["score"]) == 4 + top and row["hand_graded_points_pending"] == "0", row
    # The tampering check is not weakened: a score changed outside any session stops export.
    with sqlite3.connect(copy / "gradebook.db") as db:
        db.execute("UPDATE grade SET manual_score = 0 WHERE id = ?", (grade_id,))
    result = _grading("export", "--course", str(copy))
    assert result.returncode != 0
    assert re.search(rf"grade:{grade_id} changed outside `python -m grading formgrader`",
                     result.stderr), result.stderr


# ---- 3. the formgrader on no course ----------------------------------------------------------

def _formgrader(*args: str, env: dict | None = None) -> tuple[int, str]:
    """`python -m grading formgrader ARGS`: (exit code, output); a server that starts anyway is
    ended (as Ctrl-C does) after 60 s and the test fails."""
    process = subprocess.Popen(
        [sys.executable, "-m", "grading", "formgrader", "--port", str(services.free_port()),
         *args], cwd=course.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        output = process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=600)[0]
        pytest.fail("the formgrader started on no course:\n" + output[-3000:])
    return process.returncode, output


def test_formgrader_and_export_need_a_graded_course(tmp_path):
    """The formgrader with a wrong --course, an empty folder, or no --course where no course was
    graded stops before starting anything, and creates nothing; export too."""
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    for where in (tmp_path / "nowhere", empty):
        code, output = _formgrader("--course", str(where))
        assert code != 0 and f"no graded course at {where}" in output, output
        assert "python -m grading run" in output, output
    default = home / ".local" / "share" / "genmodels-course" / "grading"
    code, output = _formgrader(env=dict(os.environ, HOME=str(home)))
    assert code != 0 and f"no graded course at {default}" in output, output
    result = _grading("export", "--course", str(tmp_path / "nowhere"))
    assert result.returncode != 0 and "no graded course at" in result.stderr, result.stderr
    assert not (tmp_path / "nowhere").exists() and list(empty.iterdir()) == []
    assert list(home.iterdir()) == [], "the formgrader made a course folder in HOME"
