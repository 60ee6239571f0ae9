"""The kernel side of the hidden tests: runs an assignment's probes against the student's
definitions and records what they gave.

A probe (`probe_<test id>(answers, inputs)` in solutions/<assignment>/hidden_tests/probes.py)
calls the student's functions on `inputs`, data the grader drew for this class run, and returns
what they gave: a dict of arrays, numbers, strings, nested dicts, or functions of no argument (a
`lambda` or a `functools.partial`, called here one by one, so one failing call costs only its own
entry). This module turns those values into plain arrays and writes one .npz file per test; the
grader reads them without pickle and decides the verdicts (grading/verdicts.py).

The kernel receives this module's source, the probes' source and a file of data, nothing else:
no verdict, no expected value and no code that computes a graded answer. Where a later task's
function calls an earlier one (`Answers.earlier`), the earlier function is lent as data: the
solution's outputs for the calls the solution's own later function made on the same inputs,
recorded when the grader ran the probes against the solution (`Answers(..., tables=None)`), and
looked up by their arguments. Other arguments get the student's own function back.

It needs only NumPy (and TensorFlow where a probe lends a function to TensorFlow code), so the
grader can send its source text into the sandboxed kernel, which cannot import `grading`."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import sys

import numpy as np

GRADER_ONLY = "grader_only"  # a probe's inputs under this key reach the grader, never the kernel
ERROR_LIMIT = 600  # characters of an error message kept in the record
JACOBIAN_LIMIT = 2**20  # elements of one recorded Jacobian; larger ones lend no gradient
_TENSOR = "__tensor__"  # marks an output leaf that was a TensorFlow tensor


# ---- data: nested dicts, lists, tuples, arrays and scalars, in one .npz without pickle -------


def encode(tree) -> dict[str, np.ndarray]:
    """{name: array} for np.savez: every array of `tree` plus its structure as JSON text."""
    arrays: list[np.ndarray] = []

    def walk(value):
        if isinstance(value, dict):
            return {"d": [[str(k), walk(v)] for k, v in value.items()]}
        if isinstance(value, (list, tuple)):
            return {"l" if isinstance(value, list) else "t": [walk(v) for v in value]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"v": value}
        arrays.append(np.asarray(value))
        return {"a": len(arrays) - 1}

    structure = json.dumps(walk(tree))
    return {"structure": np.array(structure), **{f"a{i}": a for i, a in enumerate(arrays)}}


def decode(data) -> object:
    """The tree `encode` stored (data: an opened .npz or a dict of arrays)."""

    def build(node):
        if "d" in node:
            return {k: build(v) for k, v in node["d"]}
        if "l" in node:
            return [build(v) for v in node["l"]]
        if "t" in node:
            return tuple(build(v) for v in node["t"])
        if "a" in node:
            return np.array(data[f"a{int(node['a'])}"])
        return node["v"]

    return build(json.loads(str(data["structure"][()])))


def load(path: str) -> object:
    """A tree written by `encode` to an .npz file."""
    with np.load(path, allow_pickle=False) as data:
        return decode(data)


# ---- earlier tasks lent as data --------------------------------------------------------------


def _plain(value) -> np.ndarray | None:
    """A NumPy array of a tensor, array or number (None for anything else)."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        try:
            value = value.numpy()
        except Exception:  # a symbolic tensor (in a graph) has no value
            return None
    try:
        array = np.asarray(value)
    except Exception:
        return None
    return array if array.dtype.kind in "biuf" else None


FINGERPRINT_VALUES = 4096  # values kept of one argument: all of a small one, chunk means else


def fingerprint(value):
    """What identifies an argument: text or a truth value as it is; a number or array by its
    shape and its values (of more than FINGERPRINT_VALUES elements, the means of as many
    consecutive chunks, so a large one costs little to keep)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    array = _plain(value)
    if array is None:
        return type(value).__name__
    flat = array.astype(np.float64).ravel()
    if flat.size > FINGERPRINT_VALUES:
        starts = np.linspace(0, flat.size, FINGERPRINT_VALUES + 1).astype(np.int64)
        flat = np.add.reduceat(flat, starts[:-1]) / np.diff(starts)
    return {"shape": list(array.shape), "values": flat}


def _matches(key, recorded) -> bool:
    """Whether two fingerprints agree up to float rounding (rtol 1e-4, atol 1e-5 per value)."""
    if isinstance(key, dict) and isinstance(recorded, dict):
        ours, theirs = np.asarray(key["values"]), np.asarray(recorded["values"])
        return (list(key["shape"]) == list(recorded["shape"]) and ours.shape == theirs.shape
                and bool(np.all(np.abs(ours - theirs) <= 1e-5 + 1e-4 * np.abs(theirs))))
    return key == recorded


def _arguments(parameters: list[str], defaults: dict, args, kwargs) -> dict | None:
    """{parameter: value} of a call, by the recorded signature (None when it does not fit)."""
    if len(args) > len(parameters) or set(kwargs) - set(parameters):
        return None
    bound = dict(zip(parameters, args))
    if set(bound) & set(kwargs):
        return None
    bound.update(kwargs)
    return bound if set(parameters) <= set(bound) | set(defaults) else None


def _plain_output(value):
    """An output as data: arrays, tensors marked as such, tuples and lists of them."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_output(v) for v in value)
    array = _plain(value)
    if array is None:
        raise TypeError(f"cannot lend a function returning {type(value).__name__}")
    if "tensorflow" in sys.modules and isinstance(value, sys.modules["tensorflow"].Tensor):
        return {_TENSOR: array}
    return value if isinstance(value, (int, float)) else array


def _rebuild(value):
    if isinstance(value, dict) and _TENSOR in value:
        import tensorflow as tf

        return tf.constant(value[_TENSOR])
    if isinstance(value, (list, tuple)):
        return type(value)(_rebuild(v) for v in value)
    return value


class _Recorder:
    """Record mode (the solution): call the solution's function and keep each call's
    arguments (fingerprints), output and, if `differentiable`, its Jacobians."""

    def __init__(self, function, calls: list, differentiable: bool):
        self.function, self.calls, self.differentiable = function, calls, differentiable
        signature = inspect.signature(function)
        self.parameters = [p.name for p in signature.parameters.values()
                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                         p.KEYWORD_ONLY)]
        self.defaults = {p.name: p.default for p in signature.parameters.values()
                         if p.default is not p.empty}

    def __call__(self, *args, **kwargs):
        bound = _arguments(self.parameters, self.defaults, args, kwargs)
        if bound is None:
            return self.function(*args, **kwargs)
        watched = {}
        if self.differentiable:
            import tensorflow as tf

            with tf.GradientTape(persistent=True) as tape:
                for name, value in bound.items():
                    if isinstance(value, (tf.Tensor, tf.Variable)) and value.dtype.is_floating:
                        watched[name] = tf.convert_to_tensor(value)
                        tape.watch(watched[name])
                output = self.function(**{**bound, **watched})
            jacobians = {}
            if isinstance(output, tf.Tensor):
                for name, tensor in watched.items():
                    if output.shape.num_elements() * tensor.shape.num_elements() > JACOBIAN_LIMIT:
                        jacobians = {}
                        break
                    jacobian = tape.jacobian(output, tensor, experimental_use_pfor=False)
                    jacobians[name] = (
                        np.zeros(tuple(output.shape) + tuple(tensor.shape), np.float32)
                        if jacobian is None else jacobian.numpy())
            del tape
        else:
            output = self.function(**bound)
            jacobians = {}
        all_values = {**self.defaults, **bound}
        self.calls.append({"parameters": self.parameters,
                           "key": {k: fingerprint(v) for k, v in all_values.items()},
                           "output": _plain_output(output), "jacobians": jacobians})
        return output


class _Lookup:
    """Lookup mode (a student): the recorded output for a call whose arguments match a recorded
    call; the student's own function for any other call. Refuses to compute anything."""

    def __init__(self, calls: list, own, used: set):
        self.calls, self.own, self.used = calls, own, used

    def _find(self, args, kwargs):
        keys: dict = {}  # fingerprints, once per recorded signature
        # unused calls first, and among equals those that lend a gradient
        order = sorted(enumerate(self.calls),
                       key=lambda c: (c[0] in self.used, not c[1]["jacobians"]))
        for index, call in order:
            recorded = call["key"]
            bound = _arguments(call["parameters"], recorded, args, kwargs)
            if bound is None:
                continue
            signature = tuple(call["parameters"])
            if signature not in keys:
                keys[signature] = {name: fingerprint(value) for name, value in bound.items()}
            key = keys[signature]
            if set(key) <= set(recorded) and all(_matches(key[n], recorded[n]) for n in key):
                self.used.add(index)
                return call, bound
        return None, None

    def __call__(self, *args, **kwargs):
        call, bound = self._find(args, kwargs)
        if call is None:
            return self.own(*args, **kwargs)
        jacobians = call["jacobians"] or {}
        output = _rebuild(call["output"])
        if not jacobians:
            return output
        import tensorflow as tf

        names = [n for n in jacobians if isinstance(bound.get(n), (tf.Tensor, tf.Variable))]
        if not names:
            return output

        @tf.custom_gradient
        def lent(*tensors):
            def gradient(upstream):
                return [tf.cast(tf.tensordot(upstream, tf.cast(jacobians[n], upstream.dtype),
                                             axes=len(upstream.shape)), t.dtype)
                        for n, t in zip(names, tensors)]
            return tf.identity(output), gradient

        return lent(*[tf.convert_to_tensor(bound[n]) for n in names])


class Answers:
    """The student's global names, as probes see them: a missing name is a NameError.
    `tables` is None when recording the solution (then `tables` fills with what `earlier`
    records), else the recorded tables that `earlier` looks calls up in."""

    def __init__(self, namespace: dict, tables: dict | None = None):
        self._namespace = namespace
        self.recording = tables is None
        self.tables: dict = {} if tables is None else tables
        self._used: dict[str, set] = {}  # recorded calls already lent, per function

    def __getitem__(self, name: str):
        if name not in self._namespace:
            raise NameError(f"name {name!r} is not defined (its cell failed, was deleted, or "
                            "was renamed)")
        return self._namespace[name]

    def __contains__(self, name: str) -> bool:
        return name in self._namespace

    @contextlib.contextmanager
    def earlier(self, *names: str, differentiable: bool = False):
        """Within the block, the student's earlier-task functions `names` (which their later
        code looks up by name) are the solution's outputs for the calls the solution made here,
        so one mistake costs one task; restored afterwards. TensorFlow functions run eagerly
        inside, so that each call's arguments can be looked up. With `differentiable`, gradients
        flow through the lent outputs (from the recorded Jacobians)."""
        saved = {name: self._namespace[name] for name in names if name in self._namespace}
        replacements = {}
        for name in names:
            calls = self.tables.setdefault(name, [])
            if self.recording:
                replacements[name] = _Recorder(self[name], calls, differentiable)
            else:
                replacements[name] = _Lookup(calls, saved.get(name, _undefined(name)),
                                             self._used.setdefault(name, set()))
        tf = sys.modules.get("tensorflow")
        eager = tf.config.functions_run_eagerly() if tf else None
        if tf:
            tf.config.run_functions_eagerly(True)
        try:
            with self.standing_in(**replacements):
                yield self
        finally:
            if tf:
                tf.config.run_functions_eagerly(eager)

    @contextlib.contextmanager
    def standing_in(self, **replacements):
        """Within the block, the student's global names are these objects (for a probe that
        needs a stand-in no earlier answer decides); restored afterwards."""
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


def _undefined(name: str):
    def missing(*args, **kwargs):
        raise NameError(f"name {name!r} is not defined (its cell failed, was deleted, or was "
                        "renamed)")
    return missing


# ---- records ---------------------------------------------------------------------------------


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


PROBE_RANDOM_SEED = 20240601  # every probe starts from this random state (not a secret)


def fresh_random_state() -> None:
    """Reset Python's, NumPy's and Keras' random state (when the kernel has Keras). Failing code
    of one task can break the global one: a training step that fails while TensorFlow traces it
    can leave Keras' unseeded generator empty, and every later `keras.random.normal(...,
    seed=None)` raises. Reset, that failure costs its own task, not the next probe's."""
    keras = sys.modules.get("keras")
    if keras is not None:
        with contextlib.suppress(Exception):  # a kernel whose Keras is broken: as it is
            keras.utils.set_random_seed(PROBE_RANDOM_SEED)


def probe_record(function, answers: Answers, inputs) -> tuple[list[str], list, list[str]]:
    """(names, arrays, errors) of one probe, run from a fresh random state; errors[i] is ''
    when names[i] was computed. A probe that fails as a whole gives the single name '' with its
    error."""
    fresh_random_state()
    try:
        raw: dict = {}
        _entries("", function(answers, inputs), raw)
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
    """{test id: probe function} defined by a probes source text."""
    module = {"__name__": "probes"}
    exec(compile(source, "probes.py", "exec"), module)
    return {name[len("probe_"):]: value for name, value in module.items()
            if name.startswith("probe_") and callable(value)}


def kernel_inputs(inputs):
    """A probe's inputs as its kernel receives them: without their GRADER_ONLY part (the
    held-out data and seeds of a design's trial, see grading.trials)."""
    if isinstance(inputs, dict) and GRADER_ONLY in inputs:
        return {k: v for k, v in inputs.items() if k != GRADER_ONLY}
    return inputs


def run_all(source: str, namespace: dict, inputs: dict, tables: dict | None = None,
            only: str | None = None) -> tuple[dict, dict]:
    """({test id: (names, arrays, errors)}, {test id: tables}) of every probe of `source` (or
    of test `only`), each given its own inputs (inputs[test id]). With `tables` None the
    namespace is the solution's, and what `Answers.earlier` lends is recorded; else each test
    looks its lent calls up in tables[test id]."""
    records, recorded = {}, {}
    for test_id, function in probes(source).items():
        if only is not None and test_id != only:
            continue
        answers = Answers(namespace, None if tables is None else tables.get(test_id, {}))
        records[test_id] = probe_record(function, answers, kernel_inputs(inputs.get(test_id)))
        recorded[test_id] = answers.tables
    return records, recorded


def run_one(source: str, namespace: dict, test_id: str, inputs_path: str, out_path: str) -> None:
    """The kernel's entry point, once per test: run probe `test_id` of `source` against the
    student's `namespace` with the grader's data for it ({"inputs", "tables"} in
    `inputs_path`), writing its record to `out_path`."""
    data = load(inputs_path)
    function = probes(source)[test_id]
    save(out_path, *probe_record(function, Answers(namespace, data["tables"]), data["inputs"]))
