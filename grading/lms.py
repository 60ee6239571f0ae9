"""Grades in a learning management system's own import format, from the course's grades.csv
(`python -m grading export --format canvas|moodle|csv`).

- canvas: Canvas's gradebook import CSV: `Student, ID, SIS User ID, SIS Login ID, Section`, then
  one column per assignment, named `<assignment>`, and a `Points Possible` row under the header.
  Students are matched on `SIS User ID` (the nbgrader student id); Canvas reads a blank cell as
  "no change" and makes a new assignment of every column it does not know, so nothing but grades
  goes in those columns.
- moodle: Moodle's grade import CSV: `ID number, Email address, First name, Last name`, then per
  assignment a grade column `<assignment>` and a `<assignment> feedback` column (map it to the
  item's feedback, or leave it unmapped). Students are matched on `ID number`; a blank grade is
  not imported.

A student who was not graded (stopped, crashed, refused) gets a blank cell, never a 0, and is
listed in `<file>.not-graded.csv` beside the file with the reason; Moodle's feedback column says
it too. A student with no submission keeps nbgrader's 0.

Hand-graded points still pending (grades.csv's `hand_graded_points_pending`: written answers
no one has graded in the formgrader yet) would be imported as a total without them, so no file
is written while any are (`PendingHandGrading`), unless `allow_pending` (`--allow-pending`):
then those totals are written as they stand, listed in `<file>.pending.csv` with the points
pending, and Moodle's feedback column says "provisional: N hand-graded points pending" (Canvas's
import has no column for a comment).
"""

from __future__ import annotations

import csv
from pathlib import Path

FORMATS = ("csv", "canvas", "moodle")  # csv: grades.csv itself (course_folder.export)


def _number(text: str) -> str:
    """A score as the LMS reads it: '4' rather than '4.0', blank stays blank."""
    if text in ("", None):
        return ""
    value = round(float(text), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def _students(rows: list[dict]) -> tuple[list[str], dict[str, dict], list[str]]:
    """(assignments in order, {student id: {name fields, assignment: row}}, student ids)."""
    assignments = sorted({row["assignment"] for row in rows})
    students: dict[str, dict] = {}
    for row in rows:
        entry = students.setdefault(row["student_id"], {"rows": {}})
        for key in ("first_name", "last_name", "email"):
            entry[key] = entry.get(key) or row.get(key, "")
        entry["rows"][row["assignment"]] = row
    return assignments, students, sorted(students)


class PendingHandGrading(ValueError):
    """An LMS file asked for while hand-graded points are pending (see the module's text)."""


def _pending(row: dict | None) -> float:
    """Points of `row`'s written answers not graded by hand yet (0 for a student not graded,
    or a grades.csv without the column)."""
    if row is None or row.get("graded") == "no":
        return 0.0
    try:
        return float(row.get("hand_graded_points_pending") or 0)
    except ValueError:
        return 0.0


def _score(row: dict | None) -> str:
    if row is None:
        return ""
    return "" if row.get("graded") == "no" else _number(row.get("score", ""))


def convert(grades: Path, fmt: str, target: Path, allow_pending: bool = False) -> list[Path]:
    """Write `target` in format `fmt` (canvas or moodle) from `grades` (the course's
    grades.csv) and, when some students were not graded, `<target>.not-graded.csv`, and when
    hand-graded points are pending (only with `allow_pending`, else `PendingHandGrading` and
    nothing is written), `<target>.pending.csv`; returns the files written."""
    if fmt not in ("canvas", "moodle"):
        raise ValueError(f"no LMS format {fmt!r}: canvas or moodle")
    with open(grades, newline="") as handle:
        rows = list(csv.DictReader(handle))
    waiting = [r for r in rows if _pending(r) > 0]
    if waiting and not allow_pending:
        students = sorted({r["student_id"] for r in waiting})
        named = ", ".join(f"{r['student_id']}: {_pending(r):g} in {r['assignment']}"
                          for r in sorted(waiting, key=lambda r: (r["student_id"],
                                                                  r["assignment"]))[:10])
        more = f" and {len(waiting) - 10} more" if len(waiting) > 10 else ""
        raise PendingHandGrading(
            f"{len(students)} student{'s' if len(students) != 1 else ''} "
            f"{'have' if len(students) != 1 else 'has'} "
            f"{sum(_pending(r) for r in waiting):g} hand-graded points pending ({named}{more}): "
            f"the {fmt} file would import totals without them, so it was not written. Grade "
            "them in `python -m grading formgrader` (its end exports grades.csv again), then "
            "export again; or pass --allow-pending to write the totals as they stand, those "
            f"rows listed in {target.name}.pending.csv")
    assignments, students, order = _students(rows)
    maximum = {a: next(_number(r["max_score"]) for r in rows if r["assignment"] == a)
               for a in assignments}
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="") as handle:
        writer = csv.writer(handle)
        if fmt == "canvas":
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             *assignments])
            writer.writerow(["Points Possible", "", "", "", "",
                             *(maximum[a] for a in assignments)])
            for student in order:
                entry = students[student]
                name = ", ".join(p for p in (entry["last_name"], entry["first_name"]) if p)
                writer.writerow([name or student, "", student, "", "", *(
                    _score(entry["rows"].get(a)) for a in assignments)])
        else:
            writer.writerow(["ID number", "Email address", "First name", "Last name",
                             *(c for a in assignments for c in (a, f"{a} feedback"))])
            for student in order:
                entry = students[student]
                cells = []
                for assignment in assignments:
                    row = entry["rows"].get(assignment)
                    reason = (row or {}).get("not_graded_reason", "")
                    pending = _pending(row)
                    note = (f"not graded: {reason}" if reason else
                            f"provisional: {pending:g} hand-graded points pending" if pending
                            else "")
                    cells += [_score(row), note]
                writer.writerow([student, entry["email"], entry["first_name"],
                                 entry["last_name"], *cells])
    written = [target]
    for suffix, column, listed in (
            ("not-graded", "not_graded_reason",
             [(r, r.get("not_graded_reason", "")) for r in rows if r.get("graded") == "no"]),
            ("pending", "hand_graded_points_pending", [(r, f"{_pending(r):g}") for r in waiting])):
        side = _side_file(target.with_name(f"{target.name}.{suffix}.csv"), column, listed)
        written += [side] if side else []
    return written


def _side_file(path: Path, column: str, listed: list[tuple[dict, str]]) -> Path | None:
    """The students `listed` (row, value of `column`) in a CSV at `path`, or no such file (an
    older one removed) when none are; returns the path written."""
    if not listed:
        path.unlink(missing_ok=True)
        return None
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "assignment", column])
        writer.writerows([row["student_id"], row["assignment"], value] for row, value in listed)
    return path
