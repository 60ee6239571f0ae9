"""Collect a folder of submissions into the course: one notebook per student, any file names,
or nbgrader's submitted/<student>/<assignment>/ layout. Originals are only read; a file that
cannot be graded is rejected with the reason, and one student's file never stops the others.

What a submission folder may hold is untrusted (an unzipped LMS download keeps whatever the
archive held): symbolic links are never followed (a link to the instructor's solution is not a
submission), only regular files are read, and a notebook is read within limits (size, JSON
nesting depth, digits of a number, cells) before any parser sees it. Student ids are safe,
bounded names, unique in the course; the original id (file or folder name) is kept in the
manifest and in grades.csv."""

from __future__ import annotations

import collections
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import nbformat

from grading import course_folder
from grading.course_folder import prepare_course

MAX_NOTEBOOK_BYTES = 32 * 2**20  # a notebook of this course with its outputs is a few MiB
MAX_JSON_DEPTH = 100  # nested arrays and objects; a notebook needs fewer than 20
MAX_NUMBER_DIGITS = 100  # digits in a row of a JSON number; Python refuses ints over 4300
MAX_CELLS = 10_000
MAX_ID_CHARS = 64  # a student id names folders and logs (`<id>.verdicts.json`): 255 at most
MAX_ORIGINAL_CHARS = 500  # the original id as shown in the manifest and grades.csv
MAX_TIMESTAMP_BYTES = 1024

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFDIR: "a folder"}


def _grade_ids(notebook) -> set[str]:
    ids = set()
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


@functools.cache
def _source_grade_ids(assignment: str) -> frozenset[str]:
    return frozenset(_grade_ids(nbformat.read(str(course_folder.source_notebook(assignment)),
                                              4)))


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def read_submission(path: Path) -> tuple[bytes | None, str]:
    """(bytes, '') of a regular file at `path`, never through a symbolic link and at most
    MAX_NOTEBOOK_BYTES; else (None, why it cannot be read)."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        return None, "no such file"
    except OSError as error:
        return None, f"cannot be read ({error.strerror or type(error).__name__})"
    if stat.S_ISLNK(before.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        kind = "folder" if os.path.isdir(path) else "file"
        return None, (f"a symbolic link (to the {kind} {target[:200]!r}), not a notebook file: "
                      "links are never followed; hand in the notebook itself")
    if not stat.S_ISREG(before.st_mode):
        kind = _KINDS.get(stat.S_IFMT(before.st_mode), "not a regular file")
        return None, f"not a regular file ({kind}); hand in the notebook file itself"
    if before.st_size > MAX_NOTEBOOK_BYTES:
        return None, (f"too large ({_mib(before.st_size)}, the limit is "
                      f"{_mib(MAX_NOTEBOOK_BYTES)}): clear the outputs (Kernel > Restart "
                      "Kernel and Clear Outputs), save and hand it in again")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        return None, f"cannot be opened ({error.strerror or type(error).__name__})"
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev,
                                                                      before.st_ino):
            return None, "the file changed while it was being collected; collect again"
        chunks, size = [], 0
        while size <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(fd, min(2**20, MAX_NOTEBOOK_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_NOTEBOOK_BYTES:
        return None, f"too large (over {_mib(MAX_NOTEBOOK_BYTES)}, the limit)"
    return b"".join(chunks), ""


def json_shape(data: bytes) -> tuple[int, int]:
    """(deepest nesting of arrays and objects, longest run of digits outside strings) of a
    JSON text, found without parsing it (so without recursion or number conversion)."""
    import numpy as np

    skeleton = _STRING.sub(b'""', data)
    brackets = np.frombuffer(skeleton.translate(None, _NOT_BRACKET), dtype=np.uint8)
    depth = level = 0
    for start in range(0, brackets.size, 2**20):  # in blocks: bounded memory
        block = brackets[start:start + 2**20]
        steps = ((block == ord("[")) | (block == ord("{"))).astype(np.int64) * 2 - 1
        levels = np.cumsum(steps) + level
        depth, level = max(depth, int(levels.max())), int(levels[-1])
    digits = max((len(m) for m in re.findall(rb"[0-9]{%d,}" % (MAX_NUMBER_DIGITS + 1),
                                             skeleton)), default=0)
    return depth, digits


def inspect_notebook(data: bytes, assignment: str) -> str:
    """'' when `data` is a notebook of `assignment`, else why it cannot be graded."""
    if not data.strip():
        return "empty file"
    depth, digits = json_shape(data)
    if depth > MAX_JSON_DEPTH:
        return (f"nested {depth} levels deep (a notebook needs fewer than 20, the limit is "
                f"{MAX_JSON_DEPTH}): not a notebook Jupyter saved")
    if digits > MAX_NUMBER_DIGITS:
        return (f"holds a number of {digits} digits (the limit is {MAX_NUMBER_DIGITS}): not a "
                "notebook Jupyter saved")
    try:
        raw = json.loads(data.decode("utf-8"))  # Jupyter writes UTF-8 only
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not valid JSON ({error}); the file is damaged or not a notebook"
    except (ValueError, RecursionError) as error:
        return f"not readable as JSON ({type(error).__name__}: {str(error)[:200]})"
    if isinstance(raw, dict) and isinstance(raw.get("cells"), list) and len(
            raw["cells"]) > MAX_CELLS:
        return f"{len(raw['cells'])} cells (the limit is {MAX_CELLS})"
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


def inspect_submission(path: Path, assignment: str) -> str:
    """'' when `path` is a notebook of `assignment`, else why it cannot be graded."""
    data, reason = read_submission(path)
    return reason or inspect_notebook(data, assignment)


def original_id(text: str) -> str:
    """A file or folder name as shown to the instructor: valid UTF-8 (undecodable bytes become
    U+FFFD), no control characters, bounded."""
    shown = os.fsencode(text).decode("utf-8", "replace")
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", shown)
    if len(shown) > MAX_ORIGINAL_CHARS:
        shown = shown[:MAX_ORIGINAL_CHARS - 1] + "…"
    return shown


def student_id(text: str) -> str:
    """A safe, bounded student id for `text`: letters, digits, '_', '.', '-', at most
    MAX_ID_CHARS (a longer name keeps its start and gets a hash of the whole)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._-") or "student"
    if len(safe) > MAX_ID_CHARS:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        safe = safe[:MAX_ID_CHARS - 9].rstrip("._-") + "-" + digest
    return safe


def _unique(base: str, taken: set[str]) -> str:
    student, n = base, 2
    while student in taken:
        suffix = f"-{n}"
        student, n = base[:MAX_ID_CHARS - len(suffix)] + suffix, n + 1
    return student


def _scan(folder: Path, missing_ok: bool = False) -> list[os.DirEntry]:
    """A folder's entries by name; with `missing_ok`, [] (and a warning) when it cannot be
    read, so that one unreadable folder costs only its own submissions."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as error:
        if not missing_ok:
            raise
        print(f"warning: cannot read {folder} ({error.strerror}): nothing in it was collected",
              file=sys.stderr)
        return []


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def find_submissions(source: Path, assignment: str) -> list[tuple[str, Path, Path | None]]:
    """(original student id, notebook path, nbgrader folder or None) for each submission in
    `source`: nbgrader's <student>/<assignment>/ layout (optionally under submitted/), or a loose
    folder with one .ipynb per student (any names; a student's file may sit in its own
    subfolder). Nothing is followed through a symbolic link: a link where a notebook or a
    student's folder would be is returned as that student's path, to be rejected."""
    root = source / "submitted" if _real_dir(source / "submitted") else source
    top = _scan(root)
    layout = [e for e in top if not _is_link(e) and e.is_dir(follow_symlinks=False)
              and os.path.lexists(Path(e.path) / assignment)]
    found: list[tuple[str, Path, Path | None]] = []
    if layout:
        found += [(e.name, Path(e.path), None) for e in top if _is_link(e)]
        for student in layout:
            folder = Path(student.path) / assignment
            if not _real_dir(folder):  # a link (or a file) where the folder should be
                found.append((student.name, folder, None))
                continue
            notebooks = [Path(e.path) for e in _scan(folder, True) if e.name.endswith(".ipynb")
                         and (_is_link(e) or not e.is_dir(follow_symlinks=False))]
            expected = folder / course_folder.notebook_name(assignment)
            if expected in notebooks:
                notebooks = [expected]
            found.append((student.name, notebooks[0] if notebooks else expected, folder))
        return sorted(found, key=lambda f: f[0])
    files, linked_folders, pending = [], [], [source]
    while pending:  # every real folder under `source`, links not followed
        folder = pending.pop()
        for entry in _scan(folder, missing_ok=folder != source):
            path = Path(entry.path)
            if entry.name == ".ipynb_checkpoints":
                continue
            if _is_link(entry):
                if entry.name.endswith(".ipynb"):
                    files.append(path)
                elif os.path.isdir(path):
                    linked_folders.append(path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.name.endswith(".ipynb"):
                files.append(path)  # a regular file, or a pipe, device...: rejected later
    per_folder = collections.Counter(p.parent for p in files)
    for path in sorted(files):
        relative = path.relative_to(source)
        if path.parent != source and per_folder[path.parent] == 1:
            name = str(relative.parent)  # e.g. an LMS download: one folder per student
        else:
            name = str(relative.with_suffix(""))
        found.append((name, path, None))
    found += [(str(path.relative_to(source)), path, None) for path in sorted(linked_folders)]
    return found


def _read_timestamp(path: Path) -> bytes | None:
    """nbgrader's timestamp.txt when it is a small regular file (never through a link)."""
    try:
        before = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(before.st_mode) or before.st_size > MAX_TIMESTAMP_BYTES:
        return None
    data, reason = read_submission(path)
    return None if reason else data


def _collect_one(course: Path, assignment: str, name: str, path: Path, folder: Path | None,
                 entry: dict, previous: dict | None) -> None:
    """Inspect one submission and copy it into the course (the bytes inspected, never the file
    again); fills in `entry`."""
    target = course / "submitted" / entry["student"] / assignment
    if target.exists():
        shutil.rmtree(target)
    data, reason = read_submission(path)
    if reason == "no such file" and folder is not None:
        reason = f"no notebook in {folder}"
    if data is None:
        entry.update(status="rejected", reason=reason, sha256="")
        return
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    reason = inspect_notebook(data, assignment)
    entry.update(status="rejected" if reason else "collected", reason=reason)
    if (previous or {}).get("sha256") != entry["sha256"]:  # new or changed: grade it again
        for stale in (course / "autograded" / entry["student"] / assignment,
                      course / "feedback" / entry["student"] / assignment):
            if stale.exists():
                shutil.rmtree(stale)
    if not reason:
        target.mkdir(parents=True)
        (target / name).write_bytes(data)
        if folder is not None:
            timestamp = _read_timestamp(folder / "timestamp.txt")
            if timestamp is not None:
                (target / "timestamp.txt").write_bytes(timestamp)


def collect(source: Path, assignment: str, course: Path) -> list[dict]:
    """Copy every submission in `source` into course/submitted/<student>/<assignment>/ (the
    originals are only read), rejecting files that cannot be graded with a reason; a problem
    with one submission rejects that one, never the collection. Writes and returns the
    manifest (course/collected/<assignment>.json): per student the safe id (`student`), the
    original name (`original`), status, reason, source and sha256."""
    source = source.expanduser().resolve()
    if not source.is_dir():
        raise SystemExit(f"no such folder: {source}")
    course = prepare_course(course, assignment)
    name = course_folder.notebook_name(assignment)
    manifest_path = course / "collected" / f"{assignment}.json"
    previous = read_manifest(course, assignment)
    by_original: dict[str, dict] = {}
    for old in previous:
        by_original.setdefault(old.get("original", old["student"]), old)
    reserved = {old["student"] for old in previous}  # ids of earlier collections stay theirs
    entries, used = [], set()
    for raw_id, path, folder in find_submissions(source, assignment):
        original = original_id(raw_id)
        old = by_original.get(original)
        if old is not None and old["student"] not in used:
            student = old["student"]  # the same student collected again
        else:
            old = None
            student = _unique(student_id(original), used | reserved)
        used.add(student)
        entry = {"student": student, "original": original, "source": original_id(str(path)),
                 "notebook": name}
        try:
            _collect_one(course, assignment, name, path, folder, entry, old)
        except Exception as error:  # this student's problem only
            entry.update(status="rejected", sha256=entry.get("sha256", ""),
                         reason=f"could not be collected ({type(error).__name__}: "
                                f"{str(error)[:300]})")
            shutil.rmtree(course / "submitted" / student / assignment, ignore_errors=True)
        entries.append(entry)
    entries += [old for old in previous if old["student"] not in used]  # collected earlier
    entries.sort(key=lambda e: e["student"])
    from nbgrader.api import Gradebook

    with Gradebook(course_folder.db_url(course)) as gradebook:  # rejected students get a row
        for entry in entries:
            try:
                gradebook.update_or_create_student(entry["student"])
            except Exception as error:
                entry.update(status="rejected", reason="the gradebook refused this student "
                                                       f"({type(error).__name__}: {error})")
            if entry["status"] == "rejected":
                try:
                    gradebook.remove_submission(assignment, entry["student"])
                except Exception:  # no earlier submission: nothing to remove
                    pass
    for entry in entries:
        if entry["status"] == "rejected":
            for stale in (course / "submitted" / entry["student"] / assignment,
                          course / "autograded" / entry["student"] / assignment):
                if stale.exists():
                    shutil.rmtree(stale)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(entries, indent=1))
    return entries


def read_manifest(course: Path, assignment: str) -> list[dict]:
    path = course / "collected" / f"{assignment}.json"
    return json.loads(path.read_text()) if path.exists() else []
