"""Contracts say what to compute, hints say how, one level at a time (issue 27)."""

from __future__ import annotations

import pytest

from tests import contracts

TASKS = contracts.every_task()
MAX_MEDIAN_SHARE = 0.15


def test_the_measure_counts_calls_and_keywords_named_outside_maths():
    own = ({"encoder", "helper"}, {"encoder"})
    items = contracts.reference_items(
        "x = keras.random.normal(keras.ops.shape(m), seed=seed)\n"
        "y = layers.Conv2D(8, 3, padding='same')(self.encoder(x)) + helper(x) + len(x)\n"
        "z = keras.ops.sum(keras.ops.exp(y), axis=-1)", own)
    assert items == {"normal", "Conv2D", "padding", "exp"}  # conventions, own code, builtins out
    task = contracts.Task("a", "t", "Use a `Conv2D` with padding; $\\exp(x)$ and a normal law.",
                          hints="<details><summary>Hint 2</summary> keras.ops.exp </details>",
                          items=items)
    assert task.named == {"Conv2D", "padding", "normal"}  # maths names nothing
    assert task.share == 0.75 and task.unreachable == set()
    task.hints = ""
    assert task.unreachable == {"exp"}


def test_hint_ladders_must_open_one_level_at_a_time():
    a, b = "<details><summary>a</summary>\n", "<details><summary>b</summary>\n"
    nested, siblings = a + b + "</details>\n</details>", a + "</details>\n" + b + "</details>"
    assert contracts.is_nested(nested) and not contracts.is_nested(siblings)
    assert contracts.hint_levels(nested) == ["a", "b"]


def test_the_median_contract_names_at_most_15_percent_of_its_reference_calls():
    shares = {f"{t.assignment}/{t.grade_id}": round(t.share, 2) for t in TASKS}
    assert contracts.median_share(TASKS) <= MAX_MEDIAN_SHARE, (
        f"median share {contracts.median_share(TASKS):.0%} of the reference answers' calls and "
        f"keyword settings named in their contracts (at most {MAX_MEDIAN_SHARE:.0%}): {shares}")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"{t.assignment}-{t.grade_id}")
def test_every_task_has_a_hint_ladder_from_the_idea_to_the_shape_of_the_code(task):
    levels = contracts.hint_levels(task.hints)
    expected = [f"Hint {n} · {name}" for n, name in enumerate(contracts.HINT_LEVELS, start=1)]
    assert len(levels) == len(expected) and all(e in got for e, got in zip(expected, levels)), (
        f"{task.grade_id}: expected one hint cell with levels {expected}, got {levels}")
    assert contracts.is_nested(task.hints), f"{task.grade_id}: hint levels must be nested"


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"{t.assignment}-{t.grade_id}")
def test_what_a_contract_leaves_out_a_hint_or_a_check_names(task):
    assert not task.unreachable, (
        f"{task.grade_id}: the reference answer uses {sorted(task.unreachable)}, which neither the "
        "contract, its hints nor its visible checks name: a stuck student could not find them")
