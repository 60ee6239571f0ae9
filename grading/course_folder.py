"""The grading course folder and nbgrader's own commands in it: prepare, release, export,
feedback, and the integrity checks that guard the gradebook.

The course folder (default ~/.local/share/genmodels-course/grading, or --course DIR) lives
outside the repository and is private to the instructor (0700; the gradebook 0600). Its layout:
nbgrader_config.py, gradebook.db, solutions/ (the source), exercises/ (the release),
submitted/, autograded/, feedback/, grades.csv, reports/<assignment>/, logs/, collected/, and
.grading/ (reference records, the integrity seal, and the gradebook's URL when it is not the
SQLite file: `--db postgresql://...`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat

from grading.execute import KERNEL_ENV

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COURSE = Path.home() / ".local" / "share" / "genmodels-course" / "grading"


def is_course(course: Path) -> bool:
    """Whether `course` is a grading course folder: `prepare_course` (run by `autograde`, `run`
    and `release --course`) made its nbgrader_config.py and gradebook."""
    return (course / "nbgrader_config.py").is_file() and (
        (course / DATABASE).is_file() or (course / "gradebook.db").is_file())


def require_course(course: Path) -> None:
    """Stop, creating nothing, unless `course` is a grading course folder (the formgrader,
    export, feedback, report and seal work on one that was graded)."""
    course = course.expanduser().resolve()
    if is_course(course):
        return
    given = "" if course == DEFAULT_COURSE.expanduser().resolve() else f" --course {course}"
    raise SystemExit(f"no graded course at {course}: run `python -m grading run ASSIGNMENT "
                     f"SUBMISSIONS/{given}` (or autograde) first"
                     + ("" if given else ", or give the folder you graded in with --course"))


def nbgrader_env() -> dict[str, str]:
    env = dict(os.environ, **KERNEL_ENV)
    # nbgrader runs `alembic` from PATH to create a gradebook: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # nbgrader's processes import this repository's `grading` and `common`, whatever an
    # editable install of another clone points to
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_nbgrader(course: Path, *args: str, check: bool = True,
                 log: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True,
                            text=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n"
                         f"{result.stderr[-3000:]}")
    return result


def source_dir() -> Path:
    return REPO / "solutions"


def assignments() -> list[str]:
    return sorted(p.name for p in source_dir().iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def check_assignment(assignment: str) -> None:
    if assignment not in assignments():
        raise SystemExit(f"unknown assignment {assignment!r}; choose one of "
                         f"{', '.join(assignments())}")


def notebook_name(assignment: str) -> str:
    names = sorted(p.name for p in (source_dir() / assignment).glob("*.ipynb"))
    if len(names) != 1:
        raise SystemExit(f"{assignment}: expected one notebook in solutions/, found {names}")
    return names[0]


def source_notebook(assignment: str) -> Path:
    return source_dir() / assignment / notebook_name(assignment)


DATABASE = Path(".grading") / "database"  # the gradebook's URL, when not the SQLite file


def db_url(course: Path) -> str:
    """The course's gradebook: the URL given once with --db (PostgreSQL, shared by every
    grader and teaching assistant), else the SQLite file gradebook.db in the course."""
    path = course / DATABASE
    if path.exists():
        return path.read_text().strip()
    return "sqlite:///" + str(course / "gradebook.db")


def use_database(course: Path, url: str) -> None:
    """Make `url` the course's gradebook for this and every later command. It is kept in the
    course folder (0600) and the course's nbgrader_config.py, never in an environment variable
    or a command line, and no sandbox sees either."""
    if not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise SystemExit(f"--db: expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:"
                         f"PORT/DATABASE, got {url.split('://')[0]}://...")
    if url.startswith("postgresql://"):  # the driver requirements.txt installs, by name
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url == db_url(course):
        return
    course.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = course / DATABASE
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(url + "\n")
    if (course / "nbgrader_config.py").exists():
        (course / "nbgrader_config.py").write_text(course_config(course))


_NOT_CONTENT = {"__pycache__", ".ipynb_checkpoints"}  # caches Python and Jupyter write at will


def digest_tree(folder: Path) -> str:
    """sha256 of a folder's files (names and bytes), caches left out."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and not _NOT_CONTENT & set(p.relative_to(folder).parts)):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


EXCHANGE = "exchange"  # nbgrader's exchange folder, unused (see course_config)


def course_config(course: Path) -> str:
    """The course's nbgrader_config.py: the repository's, pointed at the course folder."""
    return ((REPO / "nbgrader_config.py").read_text()
            + "\n# ---- added by `python -m grading` for this course folder ----\n"
            f"c.CourseDirectory.root = {str(course)!r}\n"
            f"c.CourseDirectory.db_url = {db_url(course)!r}\n"
            # Submissions come as files (collect), never through nbgrader's exchange; an
            # exchange folder of the course's own keeps the formgrader from warning about it.
            f"c.Exchange.root = {str(course / EXCHANGE)!r}\n")


def prepare_course(course: Path, assignment: str) -> Path:
    """A course folder with this repository's config and the assignment's current source,
    registered in the course gradebook (nbgrader generate_assignment). Returns the course."""
    course = course.expanduser().resolve()
    if REPO in (course, *course.parents):
        raise SystemExit(f"the grading course {course} is inside the repository; choose a "
                         "folder outside it (--course)")
    os.umask(0o077)  # everything the grader writes is the instructor's alone
    course.mkdir(parents=True, exist_ok=True)
    course.chmod(0o700)
    (course / EXCHANGE).mkdir(exist_ok=True)
    (course / "nbgrader_config.py").write_text(course_config(course))
    source = source_dir() / assignment
    target = course / "solutions" / assignment
    stamp = course / ".sources" / f"{assignment}.sha256"
    digest = digest_tree(source)
    if not target.exists() or not stamp.exists() or stamp.read_text() != digest:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        run_nbgrader(course, "generate_assignment", assignment, "--force",
                     log=course / "logs" / assignment / "generate_assignment.log")
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
        name = notebook_name(assignment)
        released = REPO / "exercises" / assignment / name
        generated = course / "exercises" / assignment / name
        if released.exists() and (nbformat.read(str(released), 4).cells
                                  != nbformat.read(str(generated), 4).cells):
            print(f"warning: exercises/{assignment}/{name} differs from what solutions/ "
                  "generates now; students may hold an older copy (run `python -m "
                  f"grading release {assignment}` and commit).", file=sys.stderr)
    gradebook = course / "gradebook.db"
    if gradebook.exists():
        gradebook.chmod(0o600)
    return course




def record_status(course: Path, assignment: str, statuses: dict[str, tuple[str, str]]) -> None:
    """Remember, per student, whether the last autograde graded them, and why not (a later
    step, feedback or export, may make a graded student not graded, with its reason)."""
    path = status_path(course, assignment)
    known = json.loads(path.read_text()) if path.exists() else {}
    known.update({s: {"status": status, "reason": reason}
                  for s, (status, reason) in statuses.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1))


def _clear_step(course: Path, assignment: str, step: str, students: set[str]) -> None:
    """`students` passed `step` this time: forget an earlier failure of that step."""
    path = status_path(course, assignment)
    known = json.loads(path.read_text()) if path.exists() else {}
    cleared = {s: ("graded", "") for s in students
               if s in known and known[s]["reason"].startswith(f"{step}: ")}
    if cleared:
        record_status(course, assignment, cleared)


def status_path(course: Path, assignment: str) -> Path:
    return course / ".grading" / "status" / f"{assignment}.json"


def not_graded(course: Path, assignment: str) -> dict[str, str]:
    """{student: why not graded}: rejected at collection, stopped or failed in autograde, or
    whose feedback or export failed."""
    path = status_path(course, assignment)
    known = json.loads(path.read_text()) if path.exists() else {}
    found = {s: v["reason"] for s, v in known.items() if v["status"] != "graded"}
    for entry in _manifest(course, assignment):
        if entry["status"] == "rejected":
            found[entry["student"]] = f"rejected at collection: {entry['reason']}"
        elif entry["student"] not in known:
            found[entry["student"]] = "collected but not autograded yet"
    return found


def _manifest(course: Path, assignment: str) -> list[dict]:
    manifest = course / "collected" / f"{assignment}.json"
    return json.loads(manifest.read_text()) if manifest.exists() else []


def export(course: Path, to: Path | None = None) -> Path:
    """nbgrader export: one CSV row per student and assignment (0 for no gradable submission),
    after checking the gradebook and course are as the instructor's commands left them (not
    while a formgrader session runs: its grades are sealed when it ends). Should nbgrader's
    export fail, the rows are written one student at a time, and a student whose row cannot be
    read from the gradebook is not graded, with the reason."""
    course = course.expanduser().resolve()
    require_course(course)
    no_live_session(course, "export")
    problems = verify(course)
    if problems:
        raise SystemExit("export stopped: the course changed in ways no grading step or "
                         "formgrader session made:\n" + "\n".join(f"  - {p}" for p in problems)
                         + "\nInvestigate (a submission may have escaped the sandbox, e.g. "
                         "graded with --unsandboxed). If every change is yours, run `python -m "
                         f"grading seal --course {course}` and export again.")
    target = (to or course / "grades.csv").expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    log = course / "logs" / "export.log"
    result = run_nbgrader(course, "export", f"--to={target}", check=False, log=log)
    if result.returncode == 0 and target.exists():
        exported = _csv_rows(target)
        failed: dict[tuple[str, str], str] = {}
    else:
        print(f"warning: nbgrader export failed (exit {result.returncode}, see {log}); "
              "exporting one student at a time", file=sys.stderr)
        exported, failed = _export_each(course, target, result.stderr[-3000:])
    for assignment in {row["assignment"] for row in exported}:
        lost = {s: ("not graded", why) for (a, s), why in failed.items() if a == assignment}
        if lost:
            record_status(course, assignment, lost)
        _clear_step(course, assignment, "export", {
            row["student_id"] for row in exported if row["assignment"] == assignment
            and (assignment, row["student_id"]) not in failed})
    _mark_not_graded(target, course)
    return target


_EXPORT_KEYS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                "email", "raw_score", "late_submission_penalty", "score", "max_score"]


def _csv_rows(path: Path) -> list[dict]:
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _export_each(course: Path, target: Path,
                 why: str) -> tuple[list[dict], dict[tuple[str, str], str]]:
    """nbgrader's CSV export, one (assignment, student) at a time: (rows written, {(assignment,
    student): why its row could not be read})."""
    import csv

    from nbgrader.api import Gradebook, MissingEntry

    rows, failed = [], {}
    try:
        with Gradebook(db_url(course)) as gradebook:
            for assignment in gradebook.assignments:
                for student in gradebook.students:
                    row = {"assignment": assignment.name, "student_id": student.id,
                           "duedate": assignment.duedate or "", "max_score": assignment.max_score}
                    try:
                        row.update(last_name=student.last_name or "",
                                   first_name=student.first_name or "",
                                   email=student.email or "")
                        try:
                            submission = gradebook.find_submission(assignment.name, student.id)
                        except MissingEntry:
                            row.update(timestamp="", raw_score=0.0,
                                       late_submission_penalty=0.0, score=0.0)
                        else:
                            penalty = submission.late_submission_penalty or 0.0
                            row.update(timestamp=submission.timestamp or "",
                                       raw_score=submission.score,
                                       late_submission_penalty=penalty,
                                       score=max(0.0, submission.score - penalty))
                    except Exception as error:  # this student's row only
                        gradebook.db.rollback()
                        failed[(assignment.name, student.id)] = (
                            f"export: the gradebook's record could not be read "
                            f"({type(error).__name__}: {str(error)[:300]})")
                    rows.append({key: str(row.get(key, "")) for key in _EXPORT_KEYS})
    except Exception as error:
        raise SystemExit(f"export failed: the gradebook could not be read ({type(error).__name__}"
                         f": {error}); nbgrader export said:\n{why}") from error
    with open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_EXPORT_KEYS)
        writer.writeheader()
        writer.writerows(rows)
    return rows, failed


def _spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _pending_by_hand(course: Path, keys: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """{(assignment, student): points of written answers no one has graded by hand yet}, for
    each of `keys` whose submission can be read (one that cannot is left out, and only it)."""
    from nbgrader.api import Gradebook

    pending = {}
    with Gradebook(db_url(course)) as gradebook:
        for assignment, student in keys:
            try:
                submission = gradebook.find_submission(assignment, student)
                pending[(assignment, student)] = sum(
                    g.max_score for n in submission.notebooks for g in n.grades
                    if g.needs_manual_grade)
            except Exception:  # no submission, or a row nbgrader cannot read
                with contextlib.suppress(Exception):
                    gradebook.db.rollback()
    return pending


def pending_summary(grades: Path) -> str:
    """One line on the hand-graded points still pending in `grades` (a grades.csv written by
    `export`), or "" when none are (or the file has no such column)."""
    points: dict[str, float] = {}
    assignments = set()
    for row in _csv_rows(grades) if grades.exists() else []:
        with contextlib.suppress(ValueError):
            waiting = float(row.get("hand_graded_points_pending") or 0)
            if waiting > 0:
                points[row["student_id"]] = points.get(row["student_id"], 0) + waiting
                assignments.add(row["assignment"])
    if not points:
        return ""
    many = len(points) != 1
    return (f"{len(points)} student{'s' if many else ''} {'have' if many else 'has'} "
            f"{sum(points.values()):g} hand-graded points pending ({', '.join(sorted(assignments))}"
            "): grade them in `python -m grading formgrader` (its end exports again)")


def _mark_not_graded(grades: Path, course: Path) -> None:
    """Add `original_id` (the student's file or folder name as handed in), `graded`,
    `not_graded_reason` and `hand_graded_points_pending` (points of written answers not graded
    by hand yet: export again after the formgrader) columns to nbgrader's grades.csv (again when
    they are there already); a student who was not graded gets no score (nbgrader writes 0) and
    the reason."""
    import csv

    rows = _csv_rows(grades)
    if not rows:
        return
    pending = _pending_by_hand(course, [(r["assignment"], r["student_id"]) for r in rows])
    reasons, originals = {}, {}
    for assignment in {row["assignment"] for row in rows}:
        reasons.update({(assignment, s): r for s, r in not_graded(course, assignment).items()})
        originals.update({(assignment, e["student"]): e.get("original", e["student"])
                          for e in _manifest(course, assignment)})
    added = ("original_id", "graded", "not_graded_reason", "hand_graded_points_pending")
    fields = [k for k in rows[0] if k not in added]
    at = fields.index("student_id") + 1 if "student_id" in fields else len(fields)
    fields[at:at] = ["original_id"]
    fields += ["graded", "not_graded_reason", "hand_graded_points_pending"]
    for row in rows:
        key = (row["assignment"], row["student_id"])
        reason = reasons.get(key, "")
        row["original_id"] = _spreadsheet_safe(originals.get(key, row["student_id"]))
        row["graded"] = "no" if reason else "yes"
        row["not_graded_reason"] = _spreadsheet_safe(reason)
        waiting = pending.get(key)
        row["hand_graded_points_pending"] = "" if waiting is None or reason else f"{waiting:g}"
        if reason:
            for name in ("score", "raw_score", "late_submission_penalty"):
                if name in row:
                    row[name] = ""
    with open(grades, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def feedback(course: Path, assignment: str) -> Path:
    """nbgrader generate_feedback: course/feedback/<student>/<assignment>/<notebook>.html. When
    it fails, each graded student still without feedback is tried alone; a student whose
    feedback cannot be made is not graded, with the reason (also in COURSE/grades.csv)."""
    course = course.expanduser().resolve()
    logs = course / "logs" / assignment
    result = run_nbgrader(course, "generate_feedback", assignment, "--force", check=False,
                          log=logs / "generate_feedback.log")
    stem = Path(notebook_name(assignment)).stem
    graded = sorted(p.parent.name for p in (course / "autograded").glob(f"*/{assignment}")
                    if p.is_dir())

    def made(student: str) -> bool:
        return (course / "feedback" / student / assignment / f"{stem}.html").is_file()

    failed = {}
    if result.returncode != 0:
        skipped = not_graded(course, assignment)  # already not graded, for a better reason
        retry = [s for s in graded if s not in skipped and not made(s)]
        print(f"warning: nbgrader generate_feedback failed (exit {result.returncode}, see "
              f"{logs / 'generate_feedback.log'}); trying {len(retry)} student(s) one at a "
              "time", file=sys.stderr)
        for student in retry:
            log = logs / "feedback" / f"{student}.log"
            alone = run_nbgrader(course, "generate_feedback", assignment,
                                 f"--student={student}", "--force", check=False, log=log)
            if alone.returncode != 0 or not made(student):
                failed[student] = ("feedback: nbgrader generate_feedback failed on this "
                                   f"submission (exit {alone.returncode}; see {log})")
                shutil.rmtree(course / "feedback" / student / assignment, ignore_errors=True)
        if len(retry) > 1 and len(failed) == len(retry):
            raise SystemExit(f"nbgrader generate_feedback {assignment} failed for every student "
                             f"(see {logs / 'generate_feedback.log'}):\n"
                             f"{result.stderr[-3000:]}")
    if failed:
        record_status(course, assignment, {s: ("not graded", r) for s, r in failed.items()})
    _clear_step(course, assignment, "feedback", {s for s in graded if made(s)})
    grades = course / "grades.csv"
    if failed and grades.exists():  # exported before this step: mark them there too
        _mark_not_graded(grades, course)
    return course / "feedback"


def release(assignment_ids: list[str], db: str | None = None, course: Path | None = None) -> None:
    """nbgrader generate_assignment --force in the repository: solutions/ -> exercises/, each
    released notebook put through the repository's output filter (a rehearsal's run-time
    metadata in solutions/ does not change exercises/); registered in `course`'s gradebook
    when one is given."""
    import tempfile

    import course_jupyter

    for assignment in assignment_ids or assignments():
        check_assignment(assignment)
        with tempfile.TemporaryDirectory(prefix="release-") as scratch:
            gradebook = db or f"sqlite:///{scratch}/gradebook.db"
            run_nbgrader(REPO, "generate_assignment", assignment, "--force", f"--db={gradebook}")
        for path in sorted((REPO / "exercises" / assignment).glob("*.ipynb")):
            stripped = subprocess.run(course_jupyter.strip_command(REPO), input=path.read_bytes(),
                                      capture_output=True, timeout=120, check=True).stdout
            path.write_bytes(stripped)
        kept = f"recorded in {db}" if db else "no gradebook kept"
        print(f"released exercises/{assignment}/ ({kept}; commit it with solutions/{assignment}/)")
        if course is not None:
            prepare_course(course, assignment)
            print(f"registered {assignment} in the gradebook of {course}: {db_url(course)}")


# ---------------------------------------------------------------------------------------------
# Integrity: what only the instructor's own commands may change
# ---------------------------------------------------------------------------------------------

SEAL = Path(".grading") / "seal.json"
VIOLATIONS = Path(".grading") / "violations.json"


def common_folder() -> Path:
    """The installed `common/` package (what every kernel imports)."""
    from grading import sandbox

    return sandbox.pack_folders()[0]


_SCHEMA_OBJECTS = {  # (kind, name) of every object in the gradebook's schema
    "sqlite": "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
    "postgresql": """
        SELECT 'table', tablename FROM pg_tables WHERE schemaname = current_schema()
        UNION ALL SELECT 'view', viewname FROM pg_views WHERE schemaname = current_schema()
        UNION ALL SELECT 'index', indexname FROM pg_indexes WHERE schemaname = current_schema()
        UNION ALL SELECT 'sequence', sequencename FROM pg_sequences
                  WHERE schemaname = current_schema()
        UNION ALL SELECT 'trigger', t.tgname FROM pg_trigger t
                  JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE NOT t.tgisinternal AND n.nspname = current_schema()
        UNION ALL SELECT 'function', p.proname FROM pg_proc p
                  JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = current_schema()
        UNION ALL SELECT 'rule', rulename FROM pg_rules WHERE schemaname = current_schema()"""}
UNEXPECTED_KINDS = ("trigger", "view", "function", "rule")  # nbgrader creates none of these


def gradebook_state(course: Path) -> dict:
    """The digest of the installed `common/`, the gradebook's schema objects, and every manual
    score, extra credit and comment it holds (SQLite or PostgreSQL)."""
    import sqlalchemy

    state = {"common": digest_tree(common_folder()), "objects": [], "manual": {}}
    url = db_url(course)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.exists():
            return state
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as db:
            state["objects"] = sorted([kind, name] for kind, name in db.execute(
                sqlalchemy.text(_SCHEMA_OBJECTS[engine.dialect.name])))
            inspector = sqlalchemy.inspect(db)
            for table in ("grade", "comment"):
                if not inspector.has_table(table):
                    continue
                columns = {c["name"] for c in inspector.get_columns(table)}
                wanted = [c for c in ("manual_score", "extra_credit", "manual_comment")
                          if c in columns]
                if wanted:
                    for row in db.execute(sqlalchemy.text(
                            f"SELECT id, {', '.join(wanted)} FROM {table}")):
                        state["manual"][f"{table}:{row[0]}"] = list(row[1:])
    finally:
        engine.dispose()
    return state


def seal(course: Path) -> None:
    """Record the current state as the instructor's (after our own steps and the formgrader)."""
    path = course / SEAL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradebook_state(course)))
    path.chmod(0o600)


def differences(course: Path) -> list[str]:
    """How the course differs from its seal, in words ([] when it does not, or has no seal)."""
    path = course / SEAL
    if not path.exists():
        return []
    sealed, now = json.loads(path.read_text()), gradebook_state(course)
    problems = []
    config = course / "nbgrader_config.py"
    if not config.exists() or config.read_text() != course_config(course):
        problems.append(f"{config} is not the repository's nbgrader_config.py for this course "
                        "(it runs in every nbgrader command): look at what was added")
    if now["common"] != sealed["common"]:
        problems.append(f"the installed `common/` package changed ({common_folder()}): "
                        "if you did not update it yourself (git pull), restore it with git")
    added = [f"{kind} {name}" for kind, name in now["objects"]
             if [kind, name] not in sealed["objects"]]
    unexpected = [f"{kind} {name}" for kind, name in now["objects"]
                  if kind in UNEXPECTED_KINDS]
    for item in sorted(set(added) | set(unexpected)):
        problems.append(f"the gradebook holds a {item} that nbgrader did not create")
    for key, values in now["manual"].items():
        before = sealed["manual"].get(key)
        if (before is None and any(v is not None for v in values)) or (
                before is not None and before != values):
            problems.append(f"manual score, extra credit or comment {key} changed outside "
                            f"`python -m grading formgrader`: {before} -> {values}")
    return problems


def record_differences(course: Path, when: str) -> list[str]:
    """Keep any differences from the seal (they survive later seals) and return them."""
    found = differences(course)
    if found:
        path = course / VIOLATIONS
        kept = json.loads(path.read_text()) if path.exists() else []
        kept += [f"{when}: {problem}" for problem in found]
        path.write_text(json.dumps(kept, indent=1))
        path.chmod(0o600)
    return found


def verify(course: Path) -> list[str]:
    """Everything that stops an export: differences now, and those recorded earlier."""
    path = course / VIOLATIONS
    earlier = json.loads(path.read_text()) if path.exists() else []
    return earlier + differences(course)


def formgrader_command(course: Path, port: int, token: str) -> list[str]:
    """JupyterLab in the course folder, local only: nbgrader 0.9's formgrader is its server
    extension (at /formgrader), reading the course's nbgrader_config.py (which sanitises what
    students wrote, grading/sanitize.py). Terminals are off (a page that ran a script in the
    instructor's session could otherwise open a shell), and grading/formgrader_guard.py puts a
    Content-Security-Policy on every formgrader page: nbgrader's scripts only, which may call
    the formgrader's API only."""
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--ServerApp.root_dir={course}", f"--IdentityProvider.token={token}",
               "--ServerApp.terminals_enabled=False",
               "--ServerApp.jpserver_extensions=grading.formgrader_guard=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Jupyter refuses root unless told
        command.append("--ServerApp.allow_root=True")
    return command


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop_group(server: subprocess.Popen) -> None:
    """SIGTERM, JupyterLab's clean stop (the session's grades are already in the gradebook),
    to the server's process group; SIGKILL to what is left of it after 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    with contextlib.suppress(ProcessLookupError):  # no child outlived it
        os.killpg(server.pid, signal.SIGKILL)


SESSIONS = Path(".grading") / "sessions"  # formgrader sessions running on this course


def no_live_session(course: Path, command: str) -> None:
    """Stop `command` (export, autograde) while a formgrader session runs on the course: the
    grades it has given are not sealed until it ends, so the integrity check would take them
    for tampering (and autograde would record them as such)."""
    live = live_sessions(course)
    if live:
        which = (f"a formgrader session is running (pid {live[0]})" if len(live) == 1 else
                 f"formgrader sessions are running (pids {', '.join(map(str, live))})")
        raise SystemExit(f"{command} stopped: {which}: end it (Ctrl-C); it exports when it ends")


def live_sessions(course: Path) -> list[int]:
    """The process ids of this course's other formgrader sessions that are still running
    (a session that ended without saying so is forgotten)."""
    import psutil

    live = []
    for path in (course / SESSIONS).glob("*.json"):
        try:
            info = json.loads(path.read_text())
            alive = psutil.Process(info["pid"]).create_time() == info["started"]
        except (OSError, ValueError, KeyError, psutil.Error):
            alive = False
        if alive and info["pid"] != os.getpid():
            live.append(info["pid"])
        elif not alive:
            path.unlink(missing_ok=True)
    return live


@contextlib.contextmanager
def _session(course: Path):
    """This formgrader session, known to the others while it runs (several teaching assistants
    may grade the same course at once, each on their own port)."""
    import psutil

    folder = course / SESSIONS
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(),
                                "started": psutil.Process().create_time()}))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def formgrader(course: Path, port: int) -> None:
    """nbgrader's formgrader in the course; seal its changes when it ends. A session whose
    server turns out to lack its defences (see `formgrader_command`) is stopped at once.
    Several sessions may run at once (one per grader, each on its own port): what the others
    change meanwhile is theirs, and each seals what the gradebook holds when it ends. Only on
    a graded course (`require_course`)."""
    import secrets
    import threading

    require_course(course)
    if not live_sessions(course):  # else the running sessions' grades are not yet sealed
        record_differences(course, "before the formgrader session")
    token = secrets.token_hex(24)
    print(f"formgrader on http://127.0.0.1:{port}/formgrader?token={token} "
          "(Ctrl-C to end and seal)", flush=True)
    # JupyterLab runs in a process group of its own: Ctrl-C reaches only this process (JupyterLab
    # would ask for a "y" on stdin), which then stops JupyterLab and whatever it started.
    # Ctrl-C and `kill` both end and seal, even when whoever started us ignored SIGINT.
    previous = {number: signal.signal(number, _interrupt)
                for number in (signal.SIGINT, signal.SIGTERM)}
    problem = []
    try:
        with _session(course):
            server = subprocess.Popen(formgrader_command(course, port, token), cwd=course,
                                      env=nbgrader_env(), stdin=subprocess.DEVNULL,
                                      start_new_session=True)
            threading.Thread(target=_check_defences, args=(server, port, token, problem),
                             daemon=True).start()
            try:
                server.wait()
            except KeyboardInterrupt:
                _stop_group(server)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    seal(course)
    if problem:
        raise SystemExit(f"formgrader stopped: {problem[0]}")


def _check_defences(server: subprocess.Popen, port: int, token: str, problem: list) -> None:
    """Once the session's server answers: stop it (and say why in `problem`) unless its
    formgrader pages carry grading/formgrader_guard.py's policy and its terminals are off."""
    import time
    import urllib.error
    import urllib.request

    def status(path: str):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.headers

    deadline = time.monotonic() + 600
    while server.poll() is None and time.monotonic() < deadline:
        try:
            _, headers = status("/formgrader/manage_assignments")
            terminals = status("/api/terminals")[0]
        except OSError:  # not listening yet
            time.sleep(0.5)
            continue
        if "script-src" not in headers.get("Content-Security-Policy", ""):
            problem.append("its pages have no Content-Security-Policy (did the Jupyter server "
                           "extension grading.formgrader_guard load? See the log above)")
        elif terminals != 404:
            problem.append("its Jupyter server has terminals on")
        if problem:
            print(f"error: formgrader stopped: {problem[0]}", file=sys.stderr, flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        return


def accept(course: Path) -> None:
    """The instructor checked the differences: forget them and seal the current state."""
    (course / VIOLATIONS).unlink(missing_ok=True)
    seal(course)
