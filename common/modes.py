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


def offline() -> bool:
    """True when no download may be tried: COURSE_OFFLINE=1 or test mode."""
    flag = os.environ.get("COURSE_OFFLINE", "").strip().lower() in ("1", "true", "yes")
    return flag or mode() == "test"
