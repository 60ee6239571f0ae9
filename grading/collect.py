"""Collect a folder of submissions into the course: one notebook per student, any file names,
or nbgrader's submitted/<student>/<assignment>/ layout. Originals are only read; a file that
cannot be graded is rejected with the reason."""

from __future__ import annotations

import collections
import json
import re
import shutil
from pathlib import Path

import nbformat

from grading import course_folder
from grading.course_folder import prepare_course


def _grade_ids(notebook) -> set[str]:
    ids = set()
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _source_grade_ids(assignment: str) -> set[str]:
    return _grade_ids(nbformat.read(str(course_folder.source_notebook(assignment)), 4))


def inspect_submission(path: Path, assignment: str) -> str:
    """'' when `path` is a notebook of `assignment`, else why it cannot be graded."""
    data = path.read_bytes()
    if not data.strip():
        return "empty file"
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not valid JSON ({error}); the file is damaged or not a notebook"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
        found = _grade_ids(notebook)
    except Exception as error:  # nbformat raises many types for non-notebooks
        return f"not a Jupyter notebook ({type(error).__name__}: {str(error)[:200]})"
    expected = _source_grade_ids(assignment)
    if found & expected:
        return ""
    if not found:
        return ("no nbgrader cells: this notebook was not made from the released exercise "
                "(or its cell metadata was stripped)")
    for other in course_folder.assignments():
        if other != assignment and found & _source_grade_ids(other):
            return f"wrong assignment: this is a notebook of {other}, not {assignment}"
    return f"wrong assignment: none of its graded cells belongs to {assignment}"


def student_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._-") or "student"


def find_submissions(source: Path, assignment: str) -> list[tuple[str, Path, Path | None]]:
    """(student id, notebook file, nbgrader folder or None) for each submission in `source`:
    nbgrader's <student>/<assignment>/ layout (optionally under submitted/), or a loose folder
    with one .ipynb per student (any names; a student's file may sit in its own subfolder)."""
    root = source / "submitted" if (source / "submitted").is_dir() else source
    layout = sorted(p for p in root.glob(f"*/{assignment}") if p.is_dir())
    found = []
    if layout:
        for folder in layout:
            notebooks = sorted(folder.glob("*.ipynb"))
            expected = folder / course_folder.notebook_name(assignment)
            if expected in notebooks:
                notebooks = [expected]
            found += [(folder.parent.name, notebook, folder) for notebook in notebooks[:1]]
            if not notebooks:
                found.append((folder.parent.name,
                              folder / course_folder.notebook_name(assignment), folder))
        return found
    files = sorted(p for p in source.rglob("*.ipynb")
                   if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    per_folder = collections.Counter(p.parent for p in files)
    for path in files:
        relative = path.relative_to(source)
        if path.parent != source and per_folder[path.parent] == 1:
            name = str(relative.parent)  # e.g. an LMS download: one folder per student
        else:
            name = str(relative.with_suffix(""))
        found.append((name, path, None))
    return found


def collect(source: Path, assignment: str, course: Path) -> list[dict]:
    """Copy every submission in `source` into course/submitted/<student>/<assignment>/ (the
    originals are only read), rejecting files that cannot be graded with a reason. Writes and
    returns the manifest (course/collected/<assignment>.json)."""
    source = source.expanduser().resolve()
    if not source.is_dir():
        raise SystemExit(f"no such folder: {source}")
    course = prepare_course(course, assignment)
    name = course_folder.notebook_name(assignment)
    manifest_path = course / "collected" / f"{assignment}.json"
    previous = {e["student"]: e for e in read_manifest(course, assignment)}
    entries, used = [], set()
    for raw_id, path, folder in find_submissions(source, assignment):
        student = student_id(raw_id)
        base, n = student, 2
        while student in used:
            student, n = f"{base}-{n}", n + 1
        used.add(student)
        target = course / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        entry = {"student": student, "source": str(path), "notebook": name}
        if not path.exists():
            entry.update(status="rejected", reason=f"no notebook in {folder}", sha256="")
        else:
            entry["sha256"] = course_folder.sha256(path)
            reason = inspect_submission(path, assignment)
            entry.update(status="rejected" if reason else "collected", reason=reason)
            old = previous.get(student, {})
            if old.get("sha256") != entry["sha256"]:  # new or changed: grade it again
                for stale in (course / "autograded" / student / assignment,
                              course / "feedback" / student / assignment):
                    if stale.exists():
                        shutil.rmtree(stale)
            if not reason:
                target.mkdir(parents=True)
                shutil.copyfile(path, target / name)
                if folder is not None and (folder / "timestamp.txt").exists():
                    shutil.copyfile(folder / "timestamp.txt", target / "timestamp.txt")
        entries.append(entry)
        previous.pop(student, None)
    entries += list(previous.values())  # students collected earlier from another folder
    entries.sort(key=lambda e: e["student"])
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(entries, indent=1))
    from nbgrader.api import Gradebook

    with Gradebook(course_folder.db_url(course)) as gradebook:  # rejected students get a row
        for entry in entries:
            gradebook.update_or_create_student(entry["student"])
            if entry["status"] == "rejected":
                try:
                    gradebook.remove_submission(assignment, entry["student"])
                except Exception:  # no earlier submission: nothing to remove
                    pass
    for entry in entries:
        if entry["status"] == "rejected":
            autograded = course / "autograded" / entry["student"] / assignment
            if autograded.exists():
                shutil.rmtree(autograded)
    return entries


def read_manifest(course: Path, assignment: str) -> list[dict]:
    path = course / "collected" / f"{assignment}.json"
    return json.loads(path.read_text()) if path.exists() else []

