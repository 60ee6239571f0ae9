"""A large class with real components (issue 28): a Dask scheduler and two workers as separate
processes on 127.0.0.1, a throw-away PostgreSQL server (tests/services.py).

One class of 14 (honest, noisy, blank, typical mistakes, broken and hostile fixtures of
tests/fixtures/grading/hostile.py, and a submission that hunts for the gradebook's password) is
graded twice with one probe seed: locally with SQLite and `--jobs 2`, and on the cluster with
the PostgreSQL gradebook, one worker killed in the middle and another joining. The grades must
be the same, every student graded exactly once, the password nowhere a sandbox could see. Then
two teaching assistants grade the written answers in two formgrader sessions at once on that
gradebook, and the export keeps both."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import course
import services

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402

ASSIGNMENT = "00_setup"
SEED = 4242
FIXTURES = {"solution", "noisy", "untouched", "control", "wrong_answer", "syntax_error",
            "os_exit", "monkeypatched_checks", "forge_numpy", "proxy_names", "custom_exc",
            "deleted_test_cell", "edited_test_cell"}  # the slow attacks: tests/test_grading.py
# Looks for the gradebook's URL wherever a kernel can read: its environment, its files, the
# command lines and environments of the processes it can see. Prints every hit.
SNOOP = '''
import os
_hits = [f"env {k}={v}" for k, v in os.environ.items() if "postgres" in v.lower()]
for _folder, _depth in (("/", 1), ("/tmp", 4), ("/dev/shm", 4), ("/proc", 2), ("/etc", 2),
                        (os.path.expanduser("~"), 4), (os.getcwd(), 4)):
    for _root, _dirs, _files in os.walk(_folder):
        if _root.rstrip(os.sep).count(os.sep) >= _depth:
            _dirs[:] = []
        for _name in _files:
            try:
                with open(os.path.join(_root, _name), "rb") as _handle:
                    _data = _handle.read(1 << 20)
            except OSError:
                continue
            if b"postgresql" in _data:
                _hits.append(f"file {os.path.join(_root, _name)}: {_data[:2000]!r}")
print("SNOOPED", _hits)
'''


@pytest.fixture(scope="module")
def postgres():
    server = services.Postgres()
    yield server
    server.stop()


def _grades(course_dir: Path) -> dict[str, tuple[str, str, str]]:
    with open(course_dir / "grades.csv") as handle:
        return {r["student_id"]: (r["raw_score"], r["score"], r["graded"])
                for r in csv.DictReader(handle)}


def _cell_scores(url: str) -> dict[tuple[str, str], tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gradebook:
        return {(s.student.id, g.name): (g.auto_score, g.max_score)
                for s in gradebook.find_assignment(ASSIGNMENT).submissions
                for n in s.notebooks for g in n.grades}


def _submissions(url: str) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gradebook:
        return sorted(s.student.id for s in gradebook.find_assignment(ASSIGNMENT).submissions)


def _run(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading", *args], capture_output=True,
                          text=True, cwd=course.REPO, timeout=1200, **options)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, postgres):
    """The class graded locally (SQLite) and on the cluster (PostgreSQL), a worker killed."""
    root = tmp_path_factory.mktemp("large-class")
    folder = root / "submissions"
    hostile.build(ASSIGNMENT, folder, root / "cluster", only=FIXTURES)
    snoop = hostile.answered(ASSIGNMENT)
    answer = next(c for c in snoop.cells if course.nbgrader_meta(c).get("solution")
                  and c.cell_type == "code")
    answer.source += "\n" + SNOOP
    nbformat.write(snoop, str(folder / "snoop.ipynb"))
    for name in ("invalid_json", "empty_file", "wrong_assignment"):
        (folder / f"{name}.ipynb").unlink(missing_ok=True)
    students = sorted(p.stem for p in folder.glob("*.ipynb"))
    assert len(students) >= 12

    common = ["--seed", str(SEED), "--timeout", "20"]
    local = _run("run", ASSIGNMENT, str(folder), "--course", str(root / "local"), "--jobs", "2",
                 *common)
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]

    url = postgres.database()
    cluster = services.DaskCluster(workers=2)
    try:
        victim = cluster.workers[0]
        log = root / "cluster-run.log"
        with open(log, "w") as handle:
            run = subprocess.Popen(
                [sys.executable, "-m", "grading", "run", ASSIGNMENT, str(folder), "--course",
                 str(root / "cluster"), "--db", url, "--cluster", cluster.address, *common],
                cwd=course.REPO, stdout=handle, stderr=subprocess.STDOUT, text=True)
        killed_at = None
        deadline = time.monotonic() + 1200
        while run.poll() is None and time.monotonic() < deadline:
            # Once the victim has finished one student it is working on the next: kill it then.
            if killed_at is None and f":{victim.pid})" in log.read_text():
                os.killpg(victim.pid, signal.SIGKILL)
                killed_at = log.read_text().count(" graded ")
                cluster.add_worker(2)  # a worker joining mid-run takes its share
            time.sleep(0.2)
        run.wait(timeout=60)
        output = log.read_text()
        assert run.returncode == 0, output[-5000:]
        assert killed_at is not None and killed_at < len(students), (
            "the worker was not killed in the middle of the class")
    finally:
        cluster.stop()
    return {"root": root, "students": students, "url": url, "output": output,
            "victim": victim.pid}


def test_the_cluster_and_postgresql_give_the_local_sqlite_grades(graded):
    root = graded["root"]
    local, cluster = _grades(root / "local"), _grades(root / "cluster")
    assert set(local) == set(cluster) == set(graded["students"])
    assert cluster == local, {s: (local[s], cluster[s]) for s in local if local[s] != cluster[s]}
    by_cell = _cell_scores(f"sqlite:///{root / 'local' / 'gradebook.db'}")
    assert _cell_scores(graded["url"].replace("postgresql://", "postgresql+psycopg://")) == \
        by_cell
    expected_full = {"solution", "noisy", "deleted_test_cell", "snoop"}
    full = {s for s, (raw, _, _) in cluster.items() if float(raw) == 4.0}
    assert expected_full <= full and "untouched" not in full, cluster


def test_a_killed_worker_loses_no_student_and_grades_none_twice(graded):
    import json

    timing = json.loads((graded["root"] / "cluster" / "logs" / ASSIGNMENT / "autograde.json")
                        .read_text())
    runs = [r["student"] for r in timing["runs"]]
    assert sorted(runs) == graded["students"], "each student graded once, none lost"
    assert all(r["status"] == "graded" for r in timing["runs"]), timing["runs"]
    lines = [line for line in graded["output"].splitlines() if line.startswith("  ")
             and " graded " in line]
    assert len(lines) == len(graded["students"])
    finished_by_victim = [line for line in lines if f":{graded['victim']})" in line]
    assert finished_by_victim and len(finished_by_victim) < len(lines)
    url = graded["url"].replace("postgresql://", "postgresql+psycopg://")
    assert _submissions(url) == graded["students"], "one submission per student in the gradebook"


def test_the_gradebook_password_never_reaches_a_sandbox(graded):
    password = graded["url"].split(":")[2].split("@")[0]
    notebook = graded["root"] / "cluster" / "autograded" / "snoop" / ASSIGNMENT / "setup.ipynb"
    text = notebook.read_text()
    assert "SNOOPED" in text, "the snooping cell did not run"
    assert password not in text


def test_two_teaching_assistants_grade_at_once_and_the_export_keeps_both(graded, tmp_path):
    """Two formgrader sessions on the same PostgreSQL gradebook and course: each grades a
    different student's written answer, one ends while the other goes on; the export (which
    checks the seal) accepts every manual grade."""
    import json

    course_dir = graded["root"] / "cluster"

    def manual_grades(session: services.Formgrader, student: str) -> list[dict]:
        _, _, body = session.call(f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/setup")
        (notebook,) = [n for n in json.loads(body) if n["student"] == student]
        _, _, body = session.call(f"/formgrader/api/grades?submission_id={notebook['id']}")
        return [g for g in json.loads(body) if g["auto_score"] is None]

    def grade(session: services.Formgrader, student: str, fraction: float) -> None:
        """Every written answer of `student` given `fraction` of its points."""
        entries = manual_grades(session, student)
        assert entries, f"{student} has no written answer to grade"
        for entry in entries:
            status, _, body = session.call(
                f"/formgrader/api/grade/{entry['id']}", "PUT",
                {"manual_score": fraction * entry["max_score"], "extra_credit": 0})
            assert status == 200, body

    first = services.Formgrader(course_dir, tmp_path / "ta1.log")
    second = services.Formgrader(course_dir, tmp_path / "ta2.log")
    try:
        grade(first, "solution", 1.0)
        grade(second, "noisy", 0.5)
        first.stop()
        grade(second, "control", 0.25)
    finally:
        first.stop()
        second.stop()
    result = _run("export", "--course", str(course_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    grades = _grades(course_dir)
    assert grades["solution"][1] == "6.0" and grades["noisy"][1] == "5.0", grades
    with open(course_dir / "grades.csv") as handle:
        pending = {r["student_id"]: r["hand_graded_points_pending"]
                   for r in csv.DictReader(handle)}
    assert pending["solution"] == pending["noisy"] == "0" and pending["wrong_answer"] == "2"
    local = _grades(graded["root"] / "local")
    assert float(grades["control"][1]) == float(local["control"][1]) + 0.5, grades
