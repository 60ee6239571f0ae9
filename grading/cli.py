"""Command line: `python -m grading --help`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grading import collect, course_folder, lms, parallel, report, sandbox
from grading.course_folder import DEFAULT_COURSE
from grading.execute import DEFAULT_MEMORY_MB


def _summary(course: Path, assignment: str) -> None:
    manifest = collect.read_manifest(course, assignment)
    rejected = [e for e in manifest if e["status"] == "rejected"]
    print(f"collected {len(manifest) - len(rejected)} notebook(s) of {assignment}, "
          f"rejected {len(rejected)}")
    for entry in rejected:
        print(f"  {entry['student']:<24} {entry['reason']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading",
        description="Instructor workflow on nbgrader: release, collect a folder of submissions, "
                    "autograde in parallel (every kernel sandboxed, hidden tests decided "
                    "outside it), export grades, generate feedback, and write a class report.",
        epilog="A full round: `python -m grading run 02_vae SUBMISSIONS/`; then open "
               "COURSE/reports/02_vae/report.html. Steps can also be run one by one.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def add(name, text, course=True):
        command = commands.add_parser(name, help=text, description=text)
        if course:
            command.add_argument("--course", type=Path, default=DEFAULT_COURSE,
                                 help=f"grading course folder (default {DEFAULT_COURSE})")
            command.add_argument("--db", default=None, metavar="URL",
                                 help="the course's gradebook from now on: postgresql://USER:"
                                      "PASSWORD@HOST:PORT/DATABASE (one gradebook for every "
                                      "grader and teaching assistant) or sqlite:///PATH; "
                                      "remembered in the course folder (default: COURSE/"
                                      "gradebook.db)")
        return command

    def grading_options(command):
        command.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                             help="students graded at once (default: number of cores)")
        command.add_argument("--timeout", type=int, default=None,
                             help="per-cell timeout in seconds (default: nbgrader_config.py)")
        command.add_argument("--memory-mb", type=int, default=None,
                             help="memory (address-space) limit per kernel in MiB, 0 for none "
                                  f"(default: nbgrader_config.py, {DEFAULT_MEMORY_MB})")
        command.add_argument("--student-timeout", type=float,
                             default=parallel.DEFAULT_STUDENT_TIMEOUT,
                             help="wall-clock limit for one student's whole autograde, after "
                                  "which it is stopped and listed as not graded (default "
                                  f"{parallel.DEFAULT_STUDENT_TIMEOUT} s)")
        command.add_argument("--force", action="store_true",
                             help="re-grade students that were already autograded")
        command.add_argument("--seed", type=int, default=None,
                             help="seed of the hidden tests' probe inputs (default: a fresh one "
                                  "per run, logged in COURSE/logs/ASSIGNMENT/; give a logged "
                                  "seed to reproduce a run)")
        command.add_argument("--cluster", default=None, metavar="tcp://HOST:8786",
                             help="grade each student as one task on this Dask scheduler's "
                                  "workers (each with the pack and bwrap installed; the course "
                                  "needs a PostgreSQL gradebook, --db); --jobs is then unused")
        command.add_argument("--unsandboxed", action="store_true",
                             help="UNSAFE: run kernels without the sandbox, with your own "
                                  "powers. Only for code you trust (never a real class): a "
                                  "submission could then change grades or read hidden tests.")

    command = add("release", "Regenerate exercises/ from solutions/ (nbgrader "
                             "generate_assignment --force) in the repository, without a "
                             "rehearsal's outputs or run-time metadata.", course=False)
    command.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    command.add_argument("--course", type=Path, default=None,
                         help="also register the assignments in this grading course's gradebook "
                              "(otherwise `autograde` and `run` do it when they first grade)")
    command.add_argument("--db", default=None, metavar="URL",
                         help="gradebook nbgrader records this release in (default: a "
                              "throwaway one: the course's gradebook is the one that counts)")

    command = add("collect", "Copy a folder of submissions into the course (originals are only "
                             "read): one .ipynb per student with any names, or nbgrader's "
                             "submitted/<student>/<assignment>/ layout.")
    command.add_argument("assignment")
    command.add_argument("source", type=Path)

    command = add("autograde", "nbgrader autograde every collected student, in parallel, "
                               "each kernel in the sandbox.")
    command.add_argument("assignment")
    grading_options(command)

    command = add("export", "Check the course's integrity, then nbgrader export: grades CSV "
                            "(COURSE/grades.csv) with who was not graded and why, and with "
                            "--format the same grades in Canvas's or Moodle's import format.")
    command.add_argument("--to", type=Path, default=None,
                         help="file to write (default COURSE/grades.csv, or COURSE/grades-canvas"
                              ".csv, COURSE/grades-moodle.csv)")
    command.add_argument("--format", choices=lms.FORMATS, default="csv",
                         help="csv: nbgrader's columns plus graded/not_graded_reason; canvas: "
                              "Canvas's gradebook import; moodle: Moodle's grade import "
                              "(default csv). Students not graded are left blank and listed in "
                              "FILE.not-graded.csv, never given 0. Canvas and Moodle files are "
                              "not written while hand-graded points are pending (see "
                              "--allow-pending).")
    command.add_argument("--allow-pending", action="store_true",
                         help="with --format canvas or moodle: write the file although some "
                              "written answers are not graded by hand yet (their totals lack "
                              "those points; listed in FILE.pending.csv, and Moodle's feedback "
                              "column says provisional)")

    command = add("feedback", "nbgrader generate_feedback: COURSE/feedback/<student>/...html.")
    command.add_argument("assignment")

    command = add("report", "Class report (Markdown, HTML, histogram PNG, scores CSV) in "
                            "COURSE/reports/<assignment>/.")
    command.add_argument("assignment")

    command = add("formgrader", "Grade written answers by hand: nbgrader's formgrader in the "
                                "course; its changes are sealed when it exits.")
    command.add_argument("--port", type=int, default=8890)

    add("seal", "After checking the changes an export refused are yours: accept them.")

    command = add("run", "collect, autograde, export, feedback and report in one go.")
    command.add_argument("assignment")
    command.add_argument("source", type=Path)
    grading_options(command)

    args = parser.parse_args(argv)
    if getattr(args, "assignment", None):
        course_folder.check_assignment(args.assignment)
    course = getattr(args, "course", None)
    if course is not None:
        course = course.expanduser().resolve()
    if args.command in ("export", "feedback", "report", "formgrader", "seal"):
        course_folder.require_course(course)  # before --db could make a folder
    if args.command in ("autograde", "run"):  # its grades would look like tampering
        course_folder.no_live_session(course, args.command)
    os.umask(0o077)  # everything the grader writes is the instructor's alone
    if course is not None and args.db:
        course_folder.use_database(course, args.db)
    if args.command == "release":
        course_folder.release(args.assignments, args.db, course)
    elif args.command == "collect":
        collect.collect(args.source, args.assignment, course)
        _summary(course, args.assignment)
    elif args.command == "autograde":
        course_folder.prepare_course(course, args.assignment)
        _grade(args, course)
    elif args.command == "export":
        if args.format == "csv":
            grades = course_folder.export(course, args.to)
            print(grades)
        else:
            grades = course_folder.export(course)
            target = args.to or course / f"grades-{args.format}.csv"
            try:
                written = lms.convert(grades, args.format, target.expanduser().resolve(),
                                      args.allow_pending)
            except lms.PendingHandGrading as refused:
                raise SystemExit(f"grades: {grades}\n{args.format}: {refused}") from None
            for path in written:
                print(path)
        _say_pending(grades)
    elif args.command == "feedback":
        print(course_folder.feedback(course, args.assignment))
    elif args.command == "report":
        print(report.class_report(course, args.assignment) / "report.html")
    elif args.command == "formgrader":
        course_folder.formgrader(course, args.port)
        _refresh_hand_graded(course)
    elif args.command == "seal":
        course_folder.accept(course)
        print(f"sealed {course}: the next export accepts its current state")
    elif args.command == "run":
        if not args.unsandboxed and sandbox.unavailable_reason():
            raise SystemExit("cannot grade: " + sandbox.unavailable_reason())
        collect.collect(args.source, args.assignment, course)
        _summary(course, args.assignment)
        runs = _grade(args, course)
        grades = course_folder.export(course)
        course_folder.feedback(course, args.assignment)
        page = report.class_report(course, args.assignment)
        print(f"grades:   {grades}\nfeedback: {course / 'feedback'}\n"
              f"report:   {page / 'report.html'}")
        for run in runs:
            if run.status != "graded":
                print(f"  not graded: {run.student} ({run.status}: {run.detail})")
        _say_pending(grades)
    return 0


def _say_pending(grades: Path) -> None:
    """One line when hand-graded points are still pending in `grades` (grades.csv)."""
    line = course_folder.pending_summary(grades)
    if line:
        print(line, flush=True)


def _refresh_hand_graded(course: Path) -> None:
    """After a formgrader session: grades.csv, the feedback pages and the class reports made
    again, so every page shows the points just given by hand."""
    graded = sorted({p.name for p in (course / "autograded").glob("*/*") if p.is_dir()})
    if not graded:
        return
    if course_folder.live_sessions(course):  # their grades are not sealed yet: export would stop
        print("other formgrader sessions are still running on this course: the last one to end "
              "exports grades and remakes feedback and reports", flush=True)
        return
    print("the formgrader session ended: grades, feedback and reports now include its scores",
          flush=True)
    grades = course_folder.export(course)
    print(f"grades:   {grades}", flush=True)
    for assignment in graded:
        course_folder.feedback(course, assignment)
        page = report.class_report(course, assignment)
        print(f"{assignment}: feedback {course / 'feedback'}, report {page / 'report.html'}",
              flush=True)
    _say_pending(grades)


def _grade(args, course: Path) -> list:
    if args.unsandboxed:
        print("WARNING: grading WITHOUT the sandbox (--unsandboxed): every submission runs with "
              "your powers. Never do this for a real class.", file=sys.stderr)
    return parallel.autograde(course, args.assignment, args.jobs, args.timeout, args.memory_mb,
                              args.force, args.student_timeout, sandboxed=not args.unsandboxed,
                              seed=args.seed, cluster=args.cluster)


if __name__ == "__main__":
    sys.exit(main())
