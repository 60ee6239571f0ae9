"""Test-wide settings: every test and every notebook kernel runs in test mode, offline, headless."""

import os
import tempfile

os.environ["COURSE_MODE"] = "test"
os.environ["COURSE_OFFLINE"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Kernels the tests start keep IPython's history out of the real HOME: the grading tests check
# that no submission writes there while other modules' kernels run beside them (pytest -n).
os.environ.setdefault("IPYTHONDIR", tempfile.mkdtemp(prefix="course-tests-ipython-"))

# nbval collects notebooks under solutions/ only; exercises fail by design and test fixtures
# are not meant to run.
collect_ignore_glob = ["exercises/*", "tests/**/*.ipynb"]
