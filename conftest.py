"""Test-wide settings: every test and every notebook kernel runs in test mode, offline, headless."""

import os

os.environ["COURSE_MODE"] = "test"
os.environ["COURSE_OFFLINE"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# nbval collects notebooks under solutions/ only; exercises fail by design and test fixtures
# are not meant to run.
collect_ignore_glob = ["exercises/*", "tests/**/*.ipynb"]
