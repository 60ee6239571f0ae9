"""Course modes: how long training cells run (test, demo, full) and whether to stay offline."""

from __future__ import annotations

import os

MODES = ("test", "demo", "full")
DEFAULT_MODE = "demo"


def mode() -> str:
    """The current mode, from the COURSE_MODE environment variable (default "demo")."""
    value = os.environ.get("COURSE_MODE", DEFAULT_MODE).strip().lower() or DEFAULT_MODE
    if value not in MODES:
        raise ValueError(
            f"COURSE_MODE={os.environ['COURSE_MODE']!r} is not a mode; choose one of "
            f"{', '.join(MODES)} (test: seconds, for CI; demo: about a minute per training "
            f"cell on a laptop CPU; full: best quality, GPU advised)."
        )
    return value


def budget(*, test, demo, full):
    """Return the value given for the current mode, e.g. `budget(test=1, demo=8, full=40)`."""
    return {"test": test, "demo": demo, "full": full}[mode()]


# Seconds of training a training cell gets in each mode (None: no limit). Demo mode keeps a
# lecture's cell to about a minute on a slow machine too: a slow host costs quality, not time.
# Test mode has none: its few steps must run in full, whatever the machine, for the checks.
TRAINING_SECONDS = {"test": None, "demo": 55.0, "full": None}


def training_seconds() -> float | None:
    """Seconds a training cell may spend in `fit` (None: no limit): the mode's (demo 55 s), or
    COURSE_TRAINING_SECONDS when set (a number of seconds; 0 or "none" for no limit)."""
    value = os.environ.get("COURSE_TRAINING_SECONDS", "").strip().lower()
    if not value:
        return TRAINING_SECONDS[mode()]
    if value in ("none", "off"):
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds == 0:
        return None
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"COURSE_TRAINING_SECONDS={os.environ['COURSE_TRAINING_SECONDS']!r} is "
                         f"not a number of seconds; give one such as 90, or 0 for no limit.")
    return seconds


def offline() -> bool:
    """True when no download may be tried: COURSE_OFFLINE=1 or test mode."""
    flag = os.environ.get("COURSE_OFFLINE", "").strip().lower() in ("1", "true", "yes")
    return flag or mode() == "test"
