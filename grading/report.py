"""The class report: score histogram, mean per task, each failing check with how many students
hit it, students not graded and why, hidden-test disagreements, warnings students' code
printed, and submissions to look at."""

from __future__ import annotations

import ast
import collections
import contextlib
import csv
import html
import json
import re
from pathlib import Path

import nbformat

from grading import collect, course_folder


_GOT = re.compile(r"([;,] got\b|: got\b).*?(?=(\.? Hint:)|$)", re.S)


def normalize_message(ename: str, evalue: str) -> str:
    """A failure message with the student-specific 'got ...' part cut, to group students."""
    first = (evalue or "").strip()
    if ename == "NotImplementedError":
        return "not attempted: the stub still raises NotImplementedError"
    if ename in ("DeadKernelError", "CellTimeoutError", "NotRun"):
        return f"{ename}: {first.split('.')[0]}"
    if ename == "KeyboardInterrupt":
        return "CellTimeoutError: interrupted at the per-cell time limit"
    if ename == "NameError":
        return (f"NameError: {first} (a definition is missing: its cell failed, was deleted, "
                "or was renamed)")
    text = _GOT.sub(r"\1 …", first)
    text = re.sub(r"\s+", " ", text)
    return text if ename == "AssertionError" else f"{ename}: {text}"


def main_error(errors: list):
    """The error that says why a test cell failed: the notebook's own when it has one (the
    hidden verdict's, which comes first, says less), else the verdict's."""
    own = [e for e in errors if not str(e.get("evalue", "")).startswith("hidden tests")]
    return (own or errors)[0]


def _task_titles(assignment: str) -> dict[str, str]:
    """grade_id -> the '### Task N · ...' (or written question) heading above it."""
    notebook = nbformat.read(str(course_folder.source_notebook(assignment)), 4)
    titles, heading = {}, ""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "markdown" and not meta.get("grade"):
            for line in cell.source.splitlines():
                if line.startswith("### "):
                    heading = line[4:].strip()
                elif line.startswith("**Written question"):
                    heading = line.strip("*").split(".")[0].strip("* ")
        if meta.get("grade"):
            titles[meta["grade_id"]] = heading or meta["grade_id"]
    return titles


_SUSPICIOUS_MODULES = {"common", "checks", "np", "numpy", "tf", "tensorflow", "keras",
                       "builtins", "sys", "os"}


def _root_name(node) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _source(node, limit: int = 200) -> str:
    """ast.unparse cut to `limit` characters; an expression nested too deep for it (np.a.a.…
    a thousand times: ast.unparse recurses) is named by its root and depth."""
    try:
        text = ast.unparse(node)
    except (RecursionError, MemoryError, ValueError):
        depth = 0
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node, depth = (node.func if isinstance(node, ast.Call) else node.value), depth + 1
        root = node.id if isinstance(node, ast.Name) else type(node).__name__
        return f"{root}.… ({depth} levels deep)"
    return text if len(text) <= limit else text[:limit] + "…"


def _one_line(error: BaseException, limit: int = 300) -> str:
    return " ".join(str(error).split())[:limit]


def _dotted(node, parts: int = 8) -> str:
    """`os._exit` for a name or a short chain of attributes, else ''."""
    names = []
    while isinstance(node, ast.Attribute) and len(names) < parts:
        names.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(names)]) if isinstance(node, ast.Name) else ""


def integrity_flags(submitted: Path, assignment: str, course: Path) -> list[str]:
    """Things a person should look at in a submission (never a penalty by themselves): answer
    cells that reassign library or check functions, exit or crash the kernel, and test cells
    that were edited or deleted (nbgrader restores them before grading). An answer cell Python
    cannot parse within its limits (nested too deep) is flagged as such."""
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(str(submitted), 4)
    flags = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        where = meta.get("grade_id", "?")
        try:
            tree = ast.parse("\n".join(line for line in cell.source.splitlines()
                                       if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        except (RecursionError, MemoryError, ValueError) as error:
            flags.append(f"{where}: could not be scanned ({type(error).__name__}: nested too "
                         "deep?)")
            continue
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            for target in targets:
                if (isinstance(target, (ast.Attribute, ast.Subscript))
                        and _root_name(target) in _SUSPICIOUS_MODULES):
                    flags.append(f"{where}: reassigns {_source(target)}")
            if isinstance(node, ast.Call):
                called = _dotted(node.func)
                if called in ("setattr", "delattr") and node.args and _root_name(
                        node.args[0]) in _SUSPICIOUS_MODULES:
                    flags.append(f"{where}: {called}({_source(node.args[0])}, ...)")
                if called in ("os._exit", "os.kill", "signal.signal", "ctypes.string_at",
                              "sys.setrecursionlimit", "resource.setrlimit"):
                    flags.append(f"{where}: calls {called}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(m.split(".")[0] in ("ctypes", "builtins", "gc", "inspect")
                       for m in modules):
                    flags.append(f"{where}: imports {', '.join(m for m in modules if m)}")
    present = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            present[meta["grade_id"]] = cell
    released = nbformat.read(str(course / "exercises" / assignment / submitted.name), 4)
    for cell in released.cells:  # compare with what the students were given
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution") and grade_id and grade_id not in present:
            flags.append(f"{grade_id}: answer cell deleted")
        if not meta.get("locked") or not grade_id:
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        if grade_id not in present:
            flags.append(f"{grade_id}: {kind} deleted (nbgrader restores a deleted test cell)")
        elif compute_checksum(present[grade_id]) != compute_checksum(cell):
            flags.append(f"{grade_id}: {kind} edited (nbgrader restored it before grading)")
    return sorted(set(flags))


def class_report(course: Path, assignment: str) -> Path:
    """Markdown and HTML class report with a score histogram: course/reports/<assignment>/.
    One student whose results cannot be read or scanned is a problem or flag of the report,
    never the end of it."""
    from nbgrader.api import Gradebook

    course = course.expanduser().resolve()
    name = course_folder.notebook_name(assignment)
    stem = Path(name).stem
    titles = _task_titles(assignment)
    manifest = collect.read_manifest(course, assignment)
    out = course / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)

    rows, failures, problems, disagreements = [], collections.defaultdict(list), [], []
    warned = collections.defaultdict(list)  # (cell, warning) -> students
    auto_max = {}
    manual_ids = []
    with Gradebook(course_folder.db_url(course)) as gradebook:
        source = gradebook.find_notebook(stem, assignment)
        max_score = source.max_score  # autograded and hand-graded
        for cell in source.grade_cells:
            if cell.cell_type == "code":
                auto_max[cell.name] = cell.max_score
            else:
                manual_ids.append(cell.name)
        order = [g for g in titles if g in auto_max]
        stopped = course_folder.not_graded(course, assignment)
        for entry in manifest:
            student = entry["student"]
            if entry["status"] == "rejected":
                problems.append((student, f"not graded: {entry['reason']}"))
                continue
            if student in stopped:  # timed out, crashed or refused by nbgrader: no score
                problems.append((student, f"not graded: {stopped[student]}"))
                continue
            try:  # whatever goes wrong with one student's results costs that student only
                found = _student_results(gradebook, course, assignment, entry, auto_max)
            except Exception as error:
                with contextlib.suppress(Exception):
                    gradebook.db.rollback()
                problems.append((student, "the report could not read this student's results "
                                          f"({type(error).__name__}: {_one_line(error)}); "
                                          "see grades.csv for the score"))
                continue
            row, student_failures, student_problems, student_disagreements, warnings = found
            for grade_id, failure in student_failures:
                failures[grade_id].append(failure)
            for key in warnings:
                warned[key].append(student)
            problems += student_problems
            disagreements += student_disagreements
            if row is not None:
                rows.append(row)

    total_max = sum(auto_max.values())
    figure_path = out / "scores.png"
    _histogram([r["score"] for r in rows], max_score, figure_path, assignment)
    with open(out / "scores.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *order, "autograded_total", "autograded_max", "by_hand",
                         "by_hand_pending", "score", "max_score", "flags"])
        for row in rows:
            writer.writerow([_spreadsheet_text(row["student"]),
                             *(row["scores"].get(g, 0.0) for g in order), row["total"],
                             total_max, row["by_hand"], row["pending"], row["score"], max_score,
                             _spreadsheet_text("; ".join(row["flags"]))])
    tasks = []
    for grade_id in order:
        values = [r["scores"].get(grade_id, 0.0) for r in rows]
        groups = collections.defaultdict(list)
        for student, key, full in failures.get(grade_id, []):
            groups[key].append((student, full))
        tasks.append({
            "grade_id": grade_id, "title": titles.get(grade_id, grade_id),
            "points": auto_max[grade_id],
            "mean": sum(values) / len(values) if values else 0.0,
            "full": sum(v >= auto_max[grade_id] for v in values),
            "failures": sorted(groups.items(), key=lambda kv: -len(kv[1]))})
    report = {"assignment": assignment, "rows": rows, "tasks": tasks, "problems": problems,
              "disagreements": disagreements,
              "warnings": sorted(warned.items(), key=lambda kv: (-len(kv[1]), kv[0])),
              "manual": [(g, titles.get(g, g)) for g in manual_ids], "max": total_max,
              "max_score": max_score,
              "collected": len(manifest)}
    (out / "report.md").write_text(_report_markdown(report))
    (out / "report.html").write_text(_report_html(report))
    return out


def _student_results(gradebook, course: Path, assignment: str, entry: dict,
                     auto_max: dict) -> tuple[dict | None, list, list, list, set]:
    """One graded student's (row of the Students table or None, failing checks as (grade_id,
    failure), problems, disagreements, warnings as (cell, warning)). A failed integrity scan is
    a flag to look at by hand."""
    from nbgrader.api import MissingEntry

    student, name = entry["student"], course_folder.notebook_name(assignment)
    stem = Path(name).stem
    failures, problems = [], []
    disagreements = _disagreements(course, assignment, student)
    try:
        submitted = gradebook.find_submission_notebook(stem, assignment, student)
    except MissingEntry:
        problems.append((student, "not graded: autograde did not record a submission "
                                  f"(see logs/{assignment}/{student}.log)"))
        return None, failures, problems, disagreements, set()
    scores = {g.name: (g.auto_score or 0.0) for g in submitted.grades if g.name in auto_max}
    pending = sum(g.max_score for g in submitted.grades if g.needs_manual_grade)
    by_hand = sum(g.manual_score or 0.0 for g in submitted.grades
                  if g.name not in auto_max and g.manual_score is not None)
    graded_nb = course / "autograded" / student / assignment / name
    if not graded_nb.exists():
        problems.append((student, "not graded: no autograded notebook "
                                  f"(see logs/{assignment}/{student}.log)"))
        return None, failures, problems, disagreements, set()
    notebook = nbformat.read(str(graded_nb), 4)
    warnings = set()
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        warnings |= {(grade_id or "(a cell without grade id)", w) for w in _warnings(cell)}
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id in auto_max and errors:
            first = main_error(errors)
            failures.append((grade_id, (student, normalize_message(first.ename, first.evalue),
                                        f"{first.ename}: {first.evalue}")))
        for error in errors:
            if error.ename in ("DeadKernelError", "CellTimeoutError", "NotRun"):
                problems.append((student, f"{error.ename} in cell {grade_id or '(ungraded)'}"))
    copy = course / "submitted" / student / assignment / name
    try:
        flags = integrity_flags(copy, assignment, course)
    except Exception as error:  # this student's scan only: a person looks instead
        flags = [f"the integrity scan failed ({type(error).__name__}: {_one_line(error)}); "
                 "look at the submission by hand"]
    if entry.get("sha256") and course_folder.sha256(copy) != entry["sha256"]:
        problems.append((student, "the submitted copy changed after collection"))
    row = {"student": student, "scores": scores, "total": sum(scores.values()), "flags": flags,
           "pending": pending, "by_hand": by_hand,
           "score": submitted.score,  # nbgrader's: what grades.csv says (hand-graded included)
           "feedback": f"../../feedback/{student}/{assignment}/{stem}.html"}
    return row, failures, problems, disagreements, warnings


_WARNING = re.compile(r"^(?:.*?:\d+: )?(\w*(?:Warning|Deprecat\w*)\b.*)$")


def _warnings(cell, limit: int = 20) -> set[str]:
    """The lines a code cell wrote to stderr, one per warning with its file path and line
    number cut (so students group), without the source line Python echoes after a warning."""
    found, after_warning = set(), False
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream" or output.get("name") != "stderr":
            continue
        for line in str(output.get("text", "")).splitlines():
            match = _WARNING.match(line.strip())
            if match:
                found.add(match.group(1)[:300])
            elif line.strip() and not (after_warning and line[:1].isspace()):
                found.add(line.strip()[:300])
            after_warning = bool(match) or (after_warning and not line.strip())
            if len(found) >= limit:
                return found
    return found


def _disagreements(course: Path, assignment: str, student: str) -> list[tuple[str, str]]:
    """Test cells whose result in the notebook and hidden-test verdict differ (scored 0), but
    for a task that uses an earlier task that lost its points: its visible checks skip (or fail
    on) that earlier mistake, and its verdict alone decides."""
    path = course / "logs" / assignment / f"{student}.verdicts.json"
    if not path.exists():
        return [(student, "no hidden-test verdicts were recorded")]
    found = []
    for test_id, result in json.loads(path.read_text()).items():
        passed = result["verdict"] == "passed"
        if result.get("earlier_failed"):  # checks skipped or failed on that earlier mistake
            continue
        if result["notebook"] == "passed" and not passed:
            found.append((student, f"{test_id} passed in the notebook but failed its verdict "
                                   f"({result['verdict'][:300]})"))
        elif result["notebook"] != "passed" and passed:
            found.append((student, f"{test_id} failed in the notebook but passed its verdict"))
    return found


def _histogram(totals: list[float], total_max: float, path: Path, assignment: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = max(total_max / 10, 0.5) if total_max > 10 else 1.0
    edges = [i * width - width / 2 for i in range(int(total_max / width) + 2)]
    ax.hist(totals, bins=edges, color="#4c72b0", edgecolor="white")
    ax.set(xlabel=f"score, hand-graded points included (out of {total_max:g})", ylabel="students",
           title=f"{assignment}: {len(totals)} graded submission(s)", xlim=(edges[0], edges[-1]))
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


_WARNINGS_TEXT = (
    "What students' code wrote to stderr while it was graded (warnings, deprecation notices), "
    "per cell. It never costs points; a warning many students share usually means a library "
    "changed (a deprecated argument, a new default): worth a line in the notebook.")


def _report_markdown(report: dict) -> str:
    rows, tasks = report["rows"], report["tasks"]
    lines = [f"# Class report · {report['assignment']}", "", _headline(report), "",
             "![score distribution](scores.png)", "", "## Tasks", "",
             "| task | points | mean | full marks |", "|---|---:|---:|---:|"]
    for task in tasks:
        lines.append(f"| {task['title']} (`{task['grade_id']}`) | {task['points']:g} | "
                     f"{task['mean']:.2f} | {task['full']} / {len(rows)} |")
    if report["manual"]:
        lines += ["", "Graded by hand (nbgrader formgrader): "
                  + ", ".join(f"{t} (`{g}`)" for g, t in report["manual"]) + "."]
    lines += ["", "## Failing checks", "",
              "For each task, each distinct failure: how many students hit it, and its message "
              "(the student-specific 'got …' part is cut; one full example follows).", ""]
    for task in tasks:
        if not task["failures"]:
            continue
        lines += [f"### {task['title']}", "", "| students | message |", "|---:|---|"]
        for key, hits in task["failures"]:
            lines.append(f"| {len(hits)} | {_md_cell(key)} |")
        lines.append("")
        for _key, hits in task["failures"]:
            lines.append(f"- e.g. `{hits[0][0]}`: {_md_cell(hits[0][1])[:400]}")
        lines.append("")
    lines += ["## Problems", ""]
    lines += [f"- `{s}`: {p}" for s, p in report["problems"]] or ["None."]
    lines += ["", "## Notebook and hidden tests disagree", "",
              "A test cell scores only when it passed in the student's notebook and its hidden "
              "verdict (decided outside the student's kernel) passed too. A cell that passed in "
              "the notebook but failed its verdict is usually a mistake only the hidden tests "
              "catch; many of them at once may be a submission tampering with its kernel.", ""]
    lines += [f"- `{s}`: {p}" for s, p in report["disagreements"]] or ["None."]
    lines += ["", "## Warnings", "", _WARNINGS_TEXT, ""]
    lines += [f"- `{cell}` ({len(students)} student(s): {', '.join(students[:5])}"
              f"{', …' if len(students) > 5 else ''}): {_md_cell(warning)}"
              for (cell, warning), students in report["warnings"]] or ["None."]
    lines += ["", "## Look at these by hand", ""]
    flagged = [(r["student"], f) for r in rows for f in r["flags"]]
    pending = _pending_text(rows)
    lines += ([f"- {pending}"] if pending else []) + [f"- `{s}`: {f}" for s, f in flagged] or [
        "Nothing flagged."]
    lines += ["", "## Students", "", _STUDENTS_TEXT, "", "| student | " + " | ".join(
        str(number) for number in range(1, len(tasks) + 1))
        + " | autograded | by hand | pending | score | feedback |",
        "|---|" + "---:|" * (len(tasks) + 4) + "---|"]
    for row in rows:
        lines.append(f"| {row['student']} | " + " | ".join(
            f"{row['scores'].get(t['grade_id'], 0.0):g}" for t in tasks)
            + f" | {row['total']:g} | {row['by_hand']:g} | {row['pending']:g} | "
            f"{row['score']:g} | [html]({row['feedback']}) |")
    return "\n".join(lines) + "\n"


_STUDENTS_TEXT = (
    "Columns 1, 2, … are the tasks in the order of the Tasks table. *autograded* is their sum, "
    "*by hand* the points given in the formgrader so far, *pending* the hand-graded points no one "
    "has graded yet, and *score* the student's total as grades.csv has it.")


def _headline(report: dict) -> str:
    """Submissions graded, mean autograded and mean total score (as grades.csv)."""
    rows = report["rows"]
    auto = sum(r["total"] for r in rows) / len(rows) if rows else 0.0
    score = sum(r["score"] for r in rows) / len(rows) if rows else 0.0
    pending = sum(r["pending"] > 0 for r in rows)
    return (f"{len(rows)} submission(s) graded of {report['collected']} collected; mean "
            f"autograded {auto:.2f} / {report['max']:g}, mean score {score:.2f} / "
            f"{report['max_score']:g} (as grades.csv"
            + (f"; {pending} student(s) still have answers to grade by hand)." if pending
               else ")."))


def _pending_text(rows: list[dict], named: int = 20) -> str:
    """One line on the written answers no one has graded by hand yet ('' when there are none):
    an export now would give those students less than they earned."""
    waiting = [r for r in rows if r["pending"]]
    if not waiting:
        return ""
    names = ", ".join(r["student"] for r in waiting[:named]) + (", …" if len(waiting) > named
                                                                else "")
    return (f"{len(waiting)} student(s) have written answers not graded by hand yet "
            f"({sum(r['pending'] for r in waiting):g} point(s) in all; per student in the "
            f"Students table): {names}. Grade them in `python -m grading formgrader`: when its "
            "session ends, it exports the grades and remakes this report and the feedback "
            "pages.")


def _spreadsheet_text(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula (flags quote grade ids and
    code from submissions)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _md_cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|")


def _inline_html(text: str) -> str:
    """The report's own markdown-flavoured prose (*emphasis*, `code`) as HTML, escaped first:
    the page shows no literal asterisks or backticks."""
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*([^*\s][^*]*)\*", r"<em>\1</em>", text)


def _report_html(report: dict) -> str:
    esc = html.escape
    rows, tasks = report["rows"], report["tasks"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        # Everything a student wrote is escaped below; and the page runs no script at all.
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src 'self' file: data:; style-src 'unsafe-inline'; form-action 'none'; "
        "base-uri 'none'\">",
        f"<title>Class report · {esc(report['assignment'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;vertical-align:top;overflow-wrap:anywhere}td.n{text-align:right}"
        "code{background:#f4f4f4}</style></head><body>",
        f"<h1>Class report · {esc(report['assignment'])}</h1>",
        f"<p>{esc(_headline(report))}</p>",
        "<img src='scores.png' alt='score distribution'>",
        "<h2>Tasks</h2><table><tr><th>task</th><th>points</th><th>mean</th>"
        "<th>full marks</th></tr>"]
    for task in tasks:
        parts.append(f"<tr><td>{esc(task['title'])} (<code>{esc(task['grade_id'])}</code>)</td>"
                     f"<td class=n>{task['points']:g}</td><td class=n>{task['mean']:.2f}</td>"
                     f"<td class=n>{task['full']} / {len(rows)}</td></tr>")
    parts.append("</table>")
    if report["manual"]:
        parts.append("<p>Graded by hand (nbgrader formgrader): " + ", ".join(
            f"{esc(t)} (<code>{esc(g)}</code>)" for g, t in report["manual"]) + ".</p>")
    parts.append("<h2>Failing checks</h2><p>For each task, each distinct failure: how many "
                 "students hit it, and its message (the student-specific 'got …' part is cut; "
                 "hover for a full example).</p>")
    for task in tasks:
        if not task["failures"]:
            continue
        parts.append(f"<h3>{esc(task['title'])}</h3><table><tr><th>students</th>"
                     "<th>message</th></tr>")
        for key, hits in task["failures"]:
            parts.append(f"<tr><td class=n>{len(hits)}</td><td title='{esc(hits[0][1])}'>"
                         f"{esc(key)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Problems</h2><ul>")
    parts += [f"<li><code>{esc(s)}</code>: {esc(p)}</li>" for s, p in report["problems"]] or [
        "<li>None.</li>"]
    parts.append("</ul><h2>Notebook and hidden tests disagree</h2><ul>")
    parts += [f"<li><code>{esc(s)}</code>: {esc(p)}</li>" for s, p in report["disagreements"]] or [
        "<li>None.</li>"]
    parts.append(f"</ul><h2>Warnings</h2><p>{esc(_WARNINGS_TEXT)}</p><table><tr><th>cell</th>"
                 "<th>students</th><th>warning</th></tr>")
    parts += [f"<tr><td><code>{esc(cell)}</code></td><td class=n "
              f"title='{esc(', '.join(students))}'>{len(students)}</td><td>{esc(warning)}</td></tr>"
              for (cell, warning), students in report["warnings"]] or [
        "<tr><td colspan=3>None.</td></tr>"]
    parts.append("</table><h2>Look at these by hand</h2><ul>")
    flagged = [(r["student"], f) for r in rows for f in r["flags"]]
    pending = _pending_text(rows)
    parts += ([f"<li>{_inline_html(pending)}</li>"] if pending else []) + [
        f"<li><code>{esc(s)}</code>: {esc(f)}</li>" for s, f in flagged] or [
        "<li>Nothing flagged.</li>"]
    parts.append(f"</ul><h2>Students</h2><p>{_inline_html(_STUDENTS_TEXT)}</p><table><tr>"
                 "<th>student</th>"
                 + "".join(f"<th title='{esc(t['title'])} ({esc(t['grade_id'])})'>{number}</th>"
                           for number, t in enumerate(tasks, 1))
                 + "<th>autograded</th><th>by hand</th><th>pending</th><th>score</th>"
                 "<th>feedback</th></tr>")
    for row in rows:
        parts.append(f"<tr><td>{esc(row['student'])}</td>" + "".join(
            f"<td class=n>{row['scores'].get(t['grade_id'], 0.0):g}</td>" for t in tasks)
            + f"<td class=n>{row['total']:g}</td><td class=n>{row['by_hand']:g}</td>"
            f"<td class=n>{row['pending']:g}</td><td class=n><b>{row['score']:g}</b></td>"
            f"<td><a href='{esc(row['feedback'])}'>html</a></td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"

