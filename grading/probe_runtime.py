"""Runs the probes of an assignment's hidden tests against the student's definitions.

A probe (`probe_<test id>(answers)` in solutions/<assignment>/hidden_tests.py) calls the
student's functions on inputs the grader chooses and returns what they gave: a dict of arrays,
numbers, strings, nested dicts, or functions of no argument (a `lambda` or a
`functools.partial`, called here one by one, so one failing call costs only its own entry).
This module turns those values into plain arrays and writes one .npz file per test; the grader
reads them without pickle and decides the verdicts.

It needs only NumPy: the grader sends its source text into the student's sandboxed kernel (which
cannot import the grading package) and imports it in-process for the reference answers and the
test suite."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os

import numpy as np

ERROR_LIMIT = 600  # characters of an error message kept in the record


class Answers:
    """The student's global names, as probes see them: a missing name is a NameError."""

    def __init__(self, namespace: dict):
        self._namespace = namespace

    def __getitem__(self, name: str):
        if name not in self._namespace:
            raise NameError(f"name {name!r} is not defined (its cell failed, was deleted, or "
                            "was renamed)")
        return self._namespace[name]

    def __contains__(self, name: str) -> bool:
        return name in self._namespace

    @contextlib.contextmanager
    def using(self, **replacements):
        """Within the block, the student's globals `replacements` name are the given objects
        (for example the reference version of an earlier task's function, which the student's
        later code looks up by name), so one mistake costs one task; restored afterwards."""
        saved = {name: self._namespace[name] for name in replacements if name in self._namespace}
        self._namespace.update(replacements)
        try:
            yield self
        finally:
            for name in replacements:
                if name in saved:
                    self._namespace[name] = saved[name]
                else:
                    self._namespace.pop(name, None)


def describe(error: BaseException) -> str:
    """'TypeError: message', cut to ERROR_LIMIT characters."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= ERROR_LIMIT else text[:ERROR_LIMIT] + " …"


def to_array(value) -> np.ndarray:
    """A plain NumPy array (numbers, booleans or text) from an array, tensor or number."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biufcU?":
        raise TypeError(f"expected numbers, got {type(value).__name__} (dtype {array.dtype})")
    return array


def _entries(prefix: str, value, out: dict) -> None:
    """Flatten nested dicts into out[name] = value, names joined with '/'."""
    if isinstance(value, dict):
        for key, item in value.items():
            _entries(f"{prefix}/{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def probe_record(function, answers: Answers) -> tuple[list[str], list, list[str]]:
    """(names, arrays, errors) of one probe; errors[i] is '' when names[i] was computed. A probe
    that fails as a whole gives the single name '' with its error."""
    try:
        raw: dict = {}
        _entries("", function(answers), raw)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the student's code may raise anything, SystemExit too
        return [""], [np.zeros(0)], [describe(error)]
    names, arrays, errors = [], [], []
    for name, value in raw.items():
        try:
            if inspect.isfunction(value) or isinstance(value, functools.partial):
                value = value()
            computed: dict = {}
            _entries(name, value, computed)
            for key, item in computed.items():
                arrays.append(to_array(item))
                names.append(key)
                errors.append("")
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            names.append(name)
            arrays.append(np.zeros(0))
            errors.append(describe(error))
    return names, arrays, errors


def save(path: str, names: list[str], arrays: list, errors: list[str]) -> None:
    """Write one probe's record: arrays v0, v1, … plus their names and errors."""
    np.savez(path, names=np.array(names, dtype=str), errors=np.array(errors, dtype=str),
             **{f"v{i}": array for i, array in enumerate(arrays)})


def probes(source: str) -> dict:
    """{test id: probe function} defined by a hidden-tests source text."""
    module = {"__name__": "hidden_tests"}
    exec(compile(source, "hidden_tests.py", "exec"), module)
    return {name[len("probe_"):]: value for name, value in module.items()
            if name.startswith("probe_") and callable(value)}


def run(source: str, namespace: dict, out_dir: str) -> None:
    """Run every probe of `source` against `namespace`, writing out_dir/<test id>.npz each."""
    answers = Answers(namespace)
    for test_id, function in probes(source).items():
        save(os.path.join(out_dir, f"{test_id}.npz"), *probe_record(function, answers))
