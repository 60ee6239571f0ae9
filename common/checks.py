"""Checks for notebook test cells. Each raises AssertionError with a message for students:
what was expected, what was got, and a hint toward the cause."""

from __future__ import annotations

import contextlib
import html
import io
import warnings
from collections.abc import Callable, Sequence

import numpy as np


def _fail(name: str, expected: str, got: str, hint: str | None) -> None:
    message = f"{name}: expected {expected}; got {got}."
    raise AssertionError(message + (f" Hint: {hint}" if hint else ""))


def to_numpy(value) -> np.ndarray:
    """A NumPy array from an array, tensor, Keras variable or nested list."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _shape_str(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _shapes_str(shapes) -> str:
    return "[" + ", ".join(_shape_str(s) for s in shapes) + "]"


def _shape_matches(actual: Sequence, expected: Sequence) -> bool:
    return len(actual) == len(expected) and all(
        e is None or a == e for a, e in zip(actual, expected))


def check_shape(value, expected: Sequence[int | None], name: str = "output",
                hint: str | None = None) -> None:
    """`value` has shape `expected`; None in `expected` matches any size."""
    shape = tuple(to_numpy(value).shape) if not hasattr(value, "shape") else tuple(
        None if d is None else int(d) for d in value.shape)
    if not _shape_matches(shape, tuple(expected)):
        _fail(name, f"shape {_shape_str(expected)}", f"shape {_shape_str(shape)}", hint)


def check_dtype(value, expected, name: str = "output", hint: str | None = None) -> None:
    """`value` has dtype `expected` (e.g. "float32")."""
    dtype = np.dtype(to_numpy(value).dtype)
    if dtype != np.dtype(expected):
        _fail(name, f"dtype {np.dtype(expected)}", f"dtype {dtype}", hint)


def check_finite(value, name: str = "output", hint: str | None = None) -> None:
    """Every element of `value` is finite (no NaN or inf)."""
    array = to_numpy(value).astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(name, "only finite values",
              f"{int(bad.sum())} non-finite value(s), first {array[index]} at index {index}",
              hint)


def check_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-6,
                name: str = "output", hint: str | None = None) -> None:
    """`actual` equals `expected` elementwise within |a - e| <= atol + rtol * |e|;
    the message reports the worst element."""
    a = to_numpy(actual).astype(np.float64)
    e = to_numpy(expected).astype(np.float64)
    if a.shape != e.shape:
        _fail(name, f"shape {_shape_str(e.shape)}", f"shape {_shape_str(a.shape)}", hint)
    check_finite(a, name, hint)
    excess = np.abs(a - e) - (atol + rtol * np.abs(e))
    if a.size and excess.max() > 0:
        index = np.unravel_index(int(np.argmax(excess)), a.shape)
        where = f" at index {tuple(int(i) for i in index)}" if a.ndim else ""
        _fail(name, f"{e[index]:.6g}{where} (rtol={rtol:g}, atol={atol:g})",
              f"{a[index]:.6g}, off by {abs(a[index] - e[index]):.3g}; "
              f"{int((excess > 0).sum())} of {a.size} element(s) differ", hint)


def check_traced(function: Callable, args: Sequence, expected, rtol: float = 1e-5,
                 atol: float = 1e-6, name: str = "output") -> None:
    """`function(*args)` inside a `tf.function` equals `expected`: a training step traced into
    a graph (fit's default) calls it there, where NumPy calls on tensors and .numpy() fail."""
    import tensorflow as tf

    try:
        traced = tf.function(function)(*args)
    except Exception as error:
        raise AssertionError(
            f"{name} inside a tf.function (as a traced training step calls it) raised "
            f"{type(error).__name__}: {str(error).strip()}. Hint: use TensorFlow or keras.ops "
            "operations on tensors, no NumPy calls and no .numpy(): in a graph a tensor has no "
            "value yet."
        ) from error
    check_close(traced, expected, rtol=rtol, atol=atol, name=f"{name} inside a tf.function",
                hint="the same values as when called eagerly.")


def check_cases(values, cases) -> None:
    """Shape, then value, of every (name, expected, rtol, atol, hint) case, where values[name]
    is the answer to check (for example a hidden test's probe record)."""
    for name, expected, rtol, atol, hint in cases:
        expected = np.asarray(expected, np.float64)
        check_shape(values[name], expected.shape, name=name, hint=hint)
        check_close(values[name], expected, rtol=rtol, atol=atol, name=name, hint=hint)


def check_range(value, low: float | None = None, high: float | None = None,
                name: str = "output", hint: str | None = None) -> None:
    """Every element lies in [low, high] (either bound may be None)."""
    array = to_numpy(value).astype(np.float64)
    check_finite(array, name, hint)
    if array.size == 0:
        return
    bounds = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
    if low is not None and array.min() < low:
        _fail(name, f"values in {bounds}", f"minimum {array.min():.6g}", hint)
    if high is not None and array.max() > high:
        _fail(name, f"values in {bounds}", f"maximum {array.max():.6g}", hint)


def check_model_io(model, input_shape, output_shape, name: str = "model",
                   hint: str | None = None) -> None:
    """A Keras model's input and output shapes (batch axis included, usually None).
    For several inputs or outputs, pass a list of shapes."""
    try:
        inputs, outputs = model.input_shape, model.output_shape
    except (AttributeError, ValueError) as error:
        _fail(name, "a built Keras model with defined inputs (use keras.Input)",
              f"{type(model).__name__} without shapes ({error})", hint)
    for kind, actual, expected in (("input", inputs, input_shape),
                                   ("output", outputs, output_shape)):
        many = isinstance(expected, list)
        actual_list = list(actual) if isinstance(actual, list) else [actual]
        expected_list = expected if many else [expected]
        if len(actual_list) != len(expected_list) or not all(
                _shape_matches(tuple(a), tuple(e)) for a, e in zip(actual_list, expected_list)):
            _fail(f"{name} {kind}", f"{kind} shape {_shapes_str(expected_list)}",
                  _shapes_str(actual_list), hint)


def check_trainable(model, inputs, loss_fn: Callable | None = None, name: str = "model",
                    hint: str | None = None) -> None:
    """Gradients of a loss on `model(inputs)` reach every trainable variable, and are nonzero.
    The default loss is a fixed random projection of the outputs, which no layer cancels."""
    import tensorflow as tf

    variables = model.trainable_variables
    if not variables:
        _fail(name, "trainable variables", "none", hint or "is every layer frozen?")
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        if loss_fn is not None:
            loss = loss_fn(outputs)
        else:
            flat = [tf.cast(o, tf.float32) for o in tf.nest.flatten(outputs)]
            rng = np.random.default_rng(0)
            loss = tf.add_n([tf.reduce_sum(o * rng.normal(size=o.shape).astype(np.float32))
                             for o in flat])
    grads = tape.gradient(loss, variables)
    missing = [v.path for v, g in zip(variables, grads) if g is None]
    if missing:
        _fail(name, "a gradient for every trainable variable",
              f"no gradient for {', '.join(missing)}",
              hint or "is that layer connected to the output, or is a value cut off with "
                      "numpy() or stop_gradient?")
    zero = [v.path for v, g in zip(variables, grads) if not np.any(to_numpy(g))]
    if zero:
        _fail(name, "nonzero gradients for every trainable variable",
              f"all-zero gradients for {', '.join(zero)}",
              hint or "a saturated activation, a constant output, or an argmax/round in "
                      "the graph stops learning.")


def redrawn_outputs(model, inputs, output_index: int = 0, redraws: int = 16,
                    seed: int = 1) -> np.ndarray:
    """Output `output_index` of `model(inputs)` (a model with a single output: that output) for
    `redraws` random draws of all trainable weights, stacked; the weights are restored
    afterwards. The draws are symmetric about 0, so an output without activation goes negative
    whatever its initialiser; relu, softplus or exp on it never does."""
    rng = np.random.default_rng(seed)
    variables = model.trainable_variables
    saved = [np.array(to_numpy(v), copy=True) for v in variables]
    values = []
    try:
        for _ in range(redraws):
            for variable in variables:
                shape = tuple(variable.shape)
                scale = 1 / np.sqrt(np.prod(shape[:-1])) if len(shape) > 1 else 0.5
                variable.assign(scale * rng.standard_normal(shape, dtype=np.float32))
            outputs = model(inputs)
            values.append(to_numpy(outputs[output_index] if isinstance(outputs, (list, tuple))
                                   else outputs).astype(np.float64))
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)
    return np.stack(values)


def check_can_be_negative(model, inputs, output_index: int = 0, name: str = "output",
                          hint: str | None = None, redraws: int = 16, seed: int = 1) -> None:
    """Output `output_index` of `model(inputs)` takes a negative value for at least one of
    `redraws` random draws of all trainable weights (see `redrawn_outputs`)."""
    lowest = float(redrawn_outputs(model, inputs, output_index, redraws, seed).min())
    if lowest >= 0:
        _fail(name, "some negative values with the weights drawn at random",
              f"none in {redraws} random draws of the weights (minimum {lowest:.3g})",
              hint or "an activation such as relu, softplus or exp on this output never gives a "
                      "negative value: leave it linear.")


def earlier_task_passes(task: str, check: Callable[[], object]) -> bool:
    """Whether an earlier task's answer passes `check`: all of that task's own visible checks
    (the `check_...` function its test cell defines and runs).

    A test that uses an earlier task's function calls this first and runs the checks that
    depend on it only when it returns True: one mistake then costs one task. Whatever the
    earlier answer prints or warns while it is checked here stays out of this cell (it shows
    in the earlier task's own cell). When it returns False a notice that stands out says which
    task to revisit; the grader checks this task with a correct version of the earlier function,
    so its points do not depend on that mistake."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            check()
    except Exception as error:  # NotImplementedError or any failure of the earlier answer
        frames = error.__traceback__.tb_next  # below this function: `check`, then deeper
        if isinstance(error, NameError) and frames is not None and frames.tb_next is None:
            # `check` names a check its test cell defines, and that cell has not run yet
            _notice(task, f"its checks are not defined yet ({error}): run {task}'s test "
                          "cell first, then rerun this cell.")
        else:
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:300].rstrip(".")
            _notice(task, f"it fails its own checks ({reason}). Fix {task} first, then rerun "
                          "this cell.")
        return False
    return True


class _Notice:
    """A notice shown as a coloured box in JupyterLab (as text elsewhere)."""

    def __init__(self, title: str, text: str):
        self.title, self.text = title, text

    def __repr__(self) -> str:
        return f"\n!!! {self.title}\n    {self.text}\n"

    def _repr_html_(self) -> str:
        return ('<div style="border-left: 6px solid #d9822b; background: #fff4e5; color: #222; '
                'padding: 0.6em 1em; margin: 0.3em 0; font-size: 1.05em">'
                f"<p><strong>&#9888; {html.escape(self.title)}</strong></p>"
                f"<p>{html.escape(self.text)}</p></div>")


def _notice(task: str, reason: str) -> None:
    notice = _Notice(f"Some checks of this task were skipped: they need {task}",
                     f"{task} is not ready: {reason} When grading, this task is checked with a "
                     f"correct version of {task}, so its points do not depend on that mistake.")
    from common.runtime import in_jupyter_kernel

    if in_jupyter_kernel():
        from IPython.display import display

        display(notice)
    else:
        print(repr(notice))
