"""nbgrader configuration: solutions/ is the instructor source, exercises/ the student copy."""

import importlib.util
import sys
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, IgnorePattern, LimitOutput,
                                    OverwriteKernelspec, SaveAutoGrades)

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "generative-models"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Keep the gradebook out of the repository; pass --db sqlite:///PATH to use another one.
c.CourseDirectory.db_url = "sqlite:///" + str(
    Path.home() / ".local" / "share" / "genmodels-course" / "gradebook.db")

# Student stubs: a clear failure instead of a silent `pass`, so an untouched task scores 0.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Hidden tests (probes and verdicts, see grading/verdicts.py) stay with the instructor.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "hidden_tests.py"]


def _grading_module():
    """common/grading.py, loaded by its path: importing the `common` package would load Keras
    into every nbgrader process."""
    if "genmodels_grading" in sys.modules:
        return sys.modules["genmodels_grading"]
    package = importlib.util.find_spec("common")
    if package is None or not package.submodule_search_locations:
        raise ImportError("the course package `common` is not installed: pip install -e .")
    path = Path(list(package.submodule_search_locations)[0]) / "grading.py"
    spec = importlib.util.spec_from_file_location("genmodels_grading", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["genmodels_grading"] = module
    spec.loader.exec_module(module)
    return module


# Autograding (see the README's instructor section; `python -m common.grading` wraps it all).
# Every kernel runs with COURSE_MODE=test, COURSE_OFFLINE=1 and MPLBACKEND=Agg, so the checks
# never depend on long training. GradingExecute is nbgrader's Execute plus a memory limit per
# kernel and recovery from a kernel that dies or hangs (the student's other tasks are still
# graded); the other preprocessors are nbgrader's defaults.
c.Autograde.autograde_preprocessors = [
    _grading_module().GradingExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.Execute.timeout = 120  # seconds per cell; an infinite loop costs this much, once
c.GradingExecute.memory_limit_mb = 4096  # address space per kernel (RLIMIT_AS); 0: no limit
c.GradingExecute.max_kernel_restarts = 3  # per notebook, then the remaining cells score 0
# Edited locked cells (tests) are always restored from the gradebook by nbgrader (checksums);
# a deleted test cell is put back too and run (GradingOverwriteCells also copes with a deleted
# task, answer and test cell both, which fails the whole submission in nbgrader 0.9).
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, _grading_module().GradingOverwriteCells,
    CheckCellMetadata]
c.OverwriteCells.add_missing_cells = True
