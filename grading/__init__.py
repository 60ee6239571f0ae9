"""Instructor tooling: sandboxed autograding with nbgrader, hidden-test verdicts decided outside
the student's kernel, collecting submissions, integrity checks and the class report.

    python -m grading --help

Notebooks never import this package (they import `common`); the student's sandbox cannot see it.
"""
