"""Helpers shared by the course notebooks: runtime set-up, datasets, plotting, checks.

Submodules load on first use (`common.checks` needs only NumPy; `common.plotting` loads Keras),
so a program that needs one helper does not pay for TensorFlow."""

import importlib
import os

from common import quiet as _quiet

# Quiet TensorFlow's C++ start-up chatter unless the user asked for it: the log level covers
# what it logs once running; the import hook, what it writes before (import common first).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_quiet.install()

_SUBMODULES = ("checks", "datasets", "design", "metrics", "modes", "plotting", "runtime")
_FROM_RUNTIME = ("budget", "mode", "setup", "test_mode_note", "training_seconds")

__all__ = [*_FROM_RUNTIME, *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"common.{name}")
    if name in _FROM_RUNTIME:
        return getattr(importlib.import_module("common.runtime"), name)
    raise AttributeError(f"module 'common' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
