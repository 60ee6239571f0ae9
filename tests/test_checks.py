"""common.checks: each check passes correct values and fails with a teaching message."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import checks


def fails(match):
    return pytest.raises(AssertionError, match=match)


def test_check_shape():
    checks.check_shape(np.zeros((4, 28, 28, 1)), (None, 28, 28, 1))
    checks.check_shape(tf.zeros((3,)), (3,))
    with fails(r"codes: expected shape \(None, 2\); got shape \(4, 3\)\. Hint: latent_dim"):
        checks.check_shape(np.zeros((4, 3)), (None, 2), name="codes", hint="latent_dim is 2.")
    with fails(r"expected shape \(3,\); got shape \(3, 1\)"):
        checks.check_shape(np.zeros((3, 1)), (3,))


def test_check_dtype():
    checks.check_dtype(np.zeros(2, np.float32), "float32")
    with fails("expected dtype float32; got dtype float64"):
        checks.check_dtype(np.zeros(2), "float32")


def test_check_finite_names_the_first_bad_element():
    checks.check_finite([1.0, 2.0])
    with fails(r"2 non-finite value\(s\), first nan at index \(1,\)"):
        checks.check_finite([1.0, np.nan, np.inf])


def test_check_close_reports_the_worst_element():
    checks.check_close([1.0, 2.0], [1.0, 2.0 + 1e-7])
    checks.check_close(tf.constant(3.0), 3.0)
    with fails(r"kl: expected 2 at index \(1, 0\).*got 5, off by 3; 2 of 4 element\(s\) differ"
               r"\. Hint: sign"):
        checks.check_close([[1.0, 1.0], [5.0, 1.1]], [[1.0, 1.0], [2.0, 1.0]], name="kl",
                           hint="sign")
    with fails(r"expected shape \(2,\); got shape \(3,\)"):
        checks.check_close([1, 2, 3], [1, 2])
    with fails("non-finite"):
        checks.check_close([np.nan], [1.0])


def test_check_traced_accepts_tensor_code_and_names_numpy_in_a_graph():
    def tensor_mean(x):
        return tf.reduce_mean(x)

    def numpy_mean(x):
        return np.mean(x.numpy())  # Works eagerly only.

    x = np.arange(6, dtype=np.float32)
    checks.check_traced(tensor_mean, (x,), 2.5, name="mean")
    numpy_in_a_graph = r"(?s)mean inside a tf.function .*raised .*no \.numpy\(\)"
    with pytest.raises(AssertionError, match=numpy_in_a_graph):
        checks.check_traced(numpy_mean, (x,), 2.5, name="mean")
    with pytest.raises(AssertionError, match="mean inside a tf.function: expected 3"):
        checks.check_traced(tensor_mean, (x,), 3.0, name="mean")


def test_check_range():
    checks.check_range([0.0, 0.5, 1.0], 0, 1)
    checks.check_range([5.0], low=0)
    with fails(r"values in \[0, 1\]; got minimum -0\.5"):
        checks.check_range([-0.5, 0.2], 0, 1)
    with fails(r"values in \[-inf, 1\]; got maximum 3"):
        checks.check_range([3.0], high=1)


def _dense(input_dim, output_dim):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.Dense(output_dim)])


def test_check_model_io():
    checks.check_model_io(_dense(4, 2), (None, 4), (None, 2))
    with fails(r"encoder output: expected output shape \[\(None, 3\)\]; got \[\(None, 2\)\]"):
        checks.check_model_io(_dense(4, 2), (None, 4), (None, 3), name="encoder")
    inputs = keras.Input((4,))
    two = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)])
    checks.check_model_io(two, (None, 4), [(None, 2), (None, 2)])
    with fails("output shape"):
        checks.check_model_io(two, (None, 4), (None, 2))


def test_check_trainable_passes_connected_models_even_with_batch_norm():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              keras.layers.BatchNormalization()])
    checks.check_trainable(model, np.random.rand(8, 4).astype("float32"))


def test_check_trainable_finds_disconnected_and_dead_variables():
    inputs = keras.Input((4,))
    unused = keras.layers.Dense(2, name="unused")
    unused(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="used")(inputs))
    model_with_unused = keras.Model(inputs, model(inputs))
    model_with_unused.extra = unused  # tracked but not on the path to the output
    with fails("no gradient for .*unused"):
        checks.check_trainable(model_with_unused, np.ones((2, 4), "float32"))
    frozen_input = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        2, kernel_initializer="zeros", bias_initializer="zeros"), keras.layers.ReLU(),
        keras.layers.Dense(1)])
    with fails("all-zero gradients"):
        checks.check_trainable(frozen_input, np.ones((2, 4), "float32"))
    frozen = _dense(4, 1)
    frozen.trainable = False
    with fails("trainable variables; got none"):
        checks.check_trainable(frozen, np.ones((2, 4), "float32"))


def test_earlier_task_passes_names_the_task_to_revisit(capsys):
    assert checks.earlier_task_passes("Task 1 (f)", lambda: None)
    assert capsys.readouterr().out == ""

    def unfinished():
        raise NotImplementedError

    def wrong():
        checks.check_close(1.0, 2.0, name="f(0)")

    for check, cause in [(unfinished, "NotImplementedError"), (wrong, "f(0): expected 2")]:
        assert not checks.earlier_task_passes("Task 1 (f)", check)
        printed = capsys.readouterr().out
        assert "Fix Task 1 (f) first" in printed and cause in printed, printed
        assert "!!!" in printed and "its points do not depend on that mistake" in printed
        assert ".)." not in printed


def test_earlier_task_passes_keeps_the_earlier_answers_noise_out(capsys):
    """An earlier answer's warnings and prints belong to its own cell, not to a later one."""
    import sys
    import warnings

    def noisy():
        np.log(np.zeros(1))
        warnings.warn("deprecated spelling", DeprecationWarning, stacklevel=1)
        print("chatter")
        print("on stderr", file=sys.stderr)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert checks.earlier_task_passes("Task 1 (f)", noisy)
    assert not caught and capsys.readouterr() == ("", "")


def test_earlier_task_passes_says_when_the_earlier_checks_were_not_run(capsys):
    assert not checks.earlier_task_passes("Task 1 (f)", lambda: check_never_defined())  # noqa: F821
    assert "run Task 1 (f)'s test cell first" in capsys.readouterr().out

    def answer_with_a_typo():
        return undefined_helper()  # noqa: F821

    assert not checks.earlier_task_passes("Task 1 (f)", lambda: answer_with_a_typo())
    printed = capsys.readouterr().out
    assert "fails its own checks (NameError" in printed and "test cell first" not in printed


def _two_heads(activation):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, [keras.layers.Dense(2)(hidden),
                                keras.layers.Dense(2, activation=activation)(hidden)])


def test_check_can_be_negative_passes_a_linear_head_and_restores_the_weights():
    model = _two_heads(None)
    before = [v.numpy().copy() for v in model.trainable_variables]
    checks.check_can_be_negative(model, np.ones((3, 4), "float32"), output_index=1)
    for variable, value in zip(model.trainable_variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)
    checks.check_can_be_negative(_dense(4, 2), np.ones((3, 4), "float32"))  # a single output


@pytest.mark.parametrize("activation", ["relu", "softplus", "exponential"])
def test_check_can_be_negative_fails_for_a_head_that_cannot_go_negative(activation):
    model = _two_heads(activation)
    before = [v.numpy().copy() for v in model.trainable_variables]
    with fails(r"z_log_var: expected some negative values with the weights drawn at random; "
               r"got none in 16 random draws of the weights \(minimum .*\)\. Hint: no activation"):
        checks.check_can_be_negative(model, np.ones((3, 4), "float32"), output_index=1,
                                     name="z_log_var", hint="no activation on this head.")
    for variable, value in zip(model.trainable_variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)
    with fails(r"Hint: an activation such as relu, softplus or exp"):  # the default hint
        checks.check_can_be_negative(model, np.ones((3, 4), "float32"), output_index=1,
                                     redraws=2)
