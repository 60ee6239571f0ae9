"""nbgrader configuration: solutions/ is the instructor source, exercises/ the student copy."""

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, IgnorePattern, LimitOutput,
                                    OverwriteKernelspec)

from grading import sanitize
from grading.execute import GradingExecute, GradingOverwriteCells, GradingSaveAutoGrades

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "generative-models"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Keep the gradebook out of the repository; pass --db sqlite:///PATH to use another one.
# SQLite creates the file but not its folder, which is the instructor's alone.
_GRADEBOOK = Path.home() / ".local" / "share" / "genmodels-course" / "gradebook.db"
_GRADEBOOK.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
c.CourseDirectory.db_url = "sqlite:///" + str(_GRADEBOOK)

# Student stubs: a clear failure instead of a silent `pass`, so an untouched task scores 0.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Hidden tests (probes and verdicts, see grading/verdicts.py) stay with the instructor.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "hidden_tests", "instructor_notes.md"]  # never released


# Autograding (see the README's instructor section; `python -m grading` wraps it all).
# GradingExecute is nbgrader's Execute run in a sandbox: every kernel runs under bubblewrap
# (grading/sandbox.py) with COURSE_MODE=test, COURSE_OFFLINE=1 and inline figures, a memory limit,
# recovery from a kernel that dies or hangs (the student's other tasks are still graded), byte
# limits on outputs, and hidden-test verdicts decided in this process, outside the student's
# kernel (grading/verdicts.py). GradingSaveAutoGrades scores a test cell by its errors only: a
# warning on stderr never costs points (nbgrader's own scores it 0). The other preprocessors are
# nbgrader's defaults.
c.Autograde.autograde_preprocessors = [
    GradingExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    GradingSaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.Execute.timeout = 120  # seconds per cell; an infinite loop costs this much, once
c.GradingExecute.memory_limit_mb = 4096  # address space per kernel (RLIMIT_AS); 0: no limit
c.GradingExecute.max_kernel_restarts = 3  # per notebook, then the remaining cells score 0
c.GradingExecute.sandboxed = True  # False only for code you trust: see the README
c.GradingExecute.cell_output_bytes = 256 * 1024  # output kept per cell; the rest is cut
c.GradingExecute.notebook_output_bytes = 2 * 2**20  # output kept per notebook
# Edited locked cells (tests) are always restored from the gradebook by nbgrader (checksums);
# a deleted test cell is put back too and run (GradingOverwriteCells also copes with a deleted
# task, answer and test cell both, which fails the whole submission in nbgrader 0.9).
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, GradingOverwriteCells,
    CheckCellMetadata]
c.OverwriteCells.add_missing_cells = True

# What a student wrote reaches a browser twice: the formgrader's submission pages (the
# instructor's, in the Jupyter server's origin) and the feedback pages. Both HTML exporters show
# markdown, HTML, SVG and JavaScript outputs as inert text or markup cleaned by nbconvert's
# sanitiser (bleach) with the allowlist of grading/sanitize.py: no script, event handler,
# `javascript:` URL, style, form, frame or image element. The formgrader's pages also get a
# Content-Security-Policy (grading/formgrader_guard.py). Rendering only: no score changes.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.preprocessors = [sanitize.SanitizeStudentWork]
c.HTMLExporter.filters = {"markdown2html": sanitize.SanitizedMarkdown,
                          "clean_html": sanitize.clean}
