"""Helpers shared by the course notebooks: runtime set-up, datasets, plotting, checks."""

import os

# Quiet TensorFlow's C++ start-up chatter unless the user asked for it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import checks, datasets, metrics, plotting, runtime  # noqa: E402
from common.runtime import budget, mode, setup  # noqa: E402

__all__ = ["budget", "checks", "datasets", "metrics", "mode", "plotting", "runtime", "setup"]
