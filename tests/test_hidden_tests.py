"""The hidden tests' two sides (solutions/<assignment>/hidden_tests/): nothing that computes an
answer reaches the student's kernel, and probe inputs change with each class run (issue 24).

- An attacker whose every graded function is a stub that, when a probe calls it, walks the
  Python stack and searches `gc` for any callable of the kernel-side program (the probes, the
  probe runtime, the lent earlier tasks) and tries each on its own arguments: no callable it can
  reach gives the solution's answer, and it scores no verdict.
- A record learned from one class run's probes fails the verdicts of another run.
- The grader's side is out of the kernel's reach by construction: the kernel receives the probes'
  source and data only, and the probes' source defines no verdict and no probe_inputs.
- A record is judged from its headers before it is loaded, and verdicts run under limits."""

from __future__ import annotations

import ast
import json
import contextlib
import gc
import io
import sys
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

import course
from grading import probe_runtime, trials, verdicts

OTHER_SEED = 7  # a second class run


def _graded_names(assignment: str, kind=ast.FunctionDef) -> list[str]:
    """Top-level functions (or classes) the solution cells define (what a student writes)."""
    names = []
    for cell in course.read(course.solution_notebook(assignment)).cells:
        if cell.cell_type == "code" and course.nbgrader_meta(cell).get("solution"):
            names += [node.name for node in ast.parse(cell.source).body
                      if isinstance(node, kind)]
    return names


def _code_objects(source: str, filename: str) -> set:
    """(name, first line, bytecode) of every function the source defines, at any depth."""
    found, stack = set(), [compile(source, filename, "exec")]
    while stack:
        code = stack.pop()
        found.add((code.co_name, code.co_firstlineno, code.co_code))
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return found


class _KernelSide:
    """What one assignment's kernel-side program consists of: its probes' and the runtime's
    functions, and the lent functions made from its tables. (In a kernel nothing else of the
    grader exists; in this process other assignments' probes may still be alive in gc.)"""

    def __init__(self, probes_source: str, tables: dict):
        self.codes = (_code_objects(probes_source, "probes.py")
                      | _code_objects(Path(probe_runtime.__file__).read_text(),
                                      probe_runtime.__file__))
        self.calls = {id(calls) for per_test in tables.values() for calls in per_test.values()}

    def __contains__(self, value) -> bool:
        if isinstance(value, (probe_runtime._Lookup, probe_runtime._Recorder)):
            return id(value.calls) in self.calls
        if isinstance(value, types.MethodType):
            value = value.__func__
        if isinstance(value, __import__("functools").partial):
            return value.func in self
        if not isinstance(value, types.FunctionType):
            return False
        code = value.__code__
        return (code.co_name, code.co_firstlineno, code.co_code) in self.codes


_BORROWING: list[bool] = []  # one borrowing at a time, whichever attacker's (and assignment's)


class _Borrower:
    """A stub for every graded function: it computes nothing, and tries every callable of the
    kernel-side program it can reach (stack and gc) on its own arguments."""

    def __init__(self, truth_namespace: dict, kernel_side: _KernelSide):
        self.truth, self.kernel_side, self.leaks, self.tried = truth_namespace, kernel_side, [], 0
        self._gc_found: list = []
        self._gc_time = 0.0

    def reachable(self) -> list:
        found = []
        frame = sys._getframe(1)
        while frame is not None:  # the stack: every frame's locals and globals
            for scope in (frame.f_locals, frame.f_globals):
                found += [v for v in list(scope.values()) if v in self.kernel_side]
            frame = frame.f_back
        if time.monotonic() - self._gc_time > 2.0:  # gc: every live object
            self._gc_found = [o for o in gc.get_objects() if o in self.kernel_side]
            self._gc_time = time.monotonic()
        found += self._gc_found
        unique = {id(c): c for c in found}
        return list(unique.values())

    def stub(self, name: str):
        def borrowed(*args, **kwargs):
            if _BORROWING:  # a candidate calling a stub (a lent function's "student's own")
                raise NotImplementedError("the borrower computes nothing")
            _BORROWING.append(True)
            try:
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        truth = probe_runtime._plain(self.truth[name](*args, **kwargs))
                except Exception:
                    truth = None
                borrowed_value = None
                for candidate in self.reachable():
                    self.tried += 1
                    try:
                        value = candidate(*args, **kwargs)
                    except BaseException:
                        continue
                    plain = probe_runtime._plain(value)
                    if plain is None or (plain.dtype == bool) != (
                            truth is not None and truth.dtype == bool):
                        continue  # a True or False is no answer to a numeric question
                    if truth is not None and plain.shape == truth.shape and np.allclose(
                            plain, truth, rtol=1e-4, atol=1e-5, equal_nan=True):
                        self.leaks.append(f"{name} <- {getattr(candidate, '__name__', candidate)}")
                    borrowed_value = value if borrowed_value is None else borrowed_value
            finally:
                _BORROWING.pop()
            if borrowed_value is None:
                raise NotImplementedError("nothing to borrow")
            return borrowed_value
        return borrowed


@pytest.mark.parametrize("assignment", course.assignments())
def test_an_attacker_borrowing_from_the_probes_finds_nothing_and_scores_nothing(assignment):
    hidden = course.hidden(assignment)
    inputs, records, tables = course.reference(assignment, OTHER_SEED)
    borrower = _Borrower(course.namespace_with(assignment, None),
                         _KernelSide(hidden.probes_source, tables))
    attacker = course.namespace_with(assignment, None)
    names = _graded_names(assignment)
    assert names, f"{assignment}: no graded functions found"
    for name in names:
        attacker[name] = borrower.stub(name)
    for name in _graded_names(assignment, ast.ClassDef):  # no formula at all: no class either
        attacker.pop(name, None)
    passed = []
    for test_id in hidden.test_ids:
        with contextlib.redirect_stdout(io.StringIO()):
            got, _ = verdicts.in_process(hidden, attacker, inputs, tables, only=test_id)
        if not verdicts.decide(hidden.verdicts[test_id], got[test_id], records[test_id],
                               inputs.get(test_id)):
            passed.append(test_id)
    assert not borrower.leaks, f"{assignment}: the kernel side lends answers: {borrower.leaks}"
    assert borrower.tried, f"{assignment}: the attacker found nothing at all to try"
    assert not passed, f"{assignment}: the borrowing attacker passed {passed}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_answers_learned_from_one_class_run_fail_the_next(assignment):
    """Replay: the solution's records of one seed, handed in under another seed. A design the
    grader trains (a trial) is the same answer in every class run, so replaying it is handing
    in that design; what changes is the data the grader trains and measures it on."""
    hidden = course.hidden(assignment)
    first, learned, _ = course.reference(assignment)
    inputs, records, _ = course.reference(assignment, OTHER_SEED)
    designs = set(trials.trial_ids(hidden.folder))
    for test_id in designs:
        ours, theirs = (probe_runtime.encode(i[test_id][probe_runtime.GRADER_ONLY])
                        for i in (first, inputs))
        assert any(not np.array_equal(ours[k], theirs[k]) for k in ours if k != "structure"), (
            f"{test_id}: the trial's data do not change with the class run's seed")
    still_pass = [t for t in hidden.test_ids if t not in designs
                  and not verdicts.decide(hidden.verdicts[t], learned[t], records[t],
                                          inputs.get(t))]
    assert not still_pass, (f"{assignment}: answers recorded under one seed pass {still_pass} "
                            "under another: their probes need inputs drawn from the seed")


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_kernel_receives_no_verdict_and_no_input_drawing(assignment):
    hidden = course.hidden(assignment)
    kernel = probe_runtime.probes(hidden.probes_source)
    assert set(kernel) == set(hidden.verdicts)
    tree = ast.parse(hidden.probes_source)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    forbidden = {n for n in defined if n.startswith(("verdict_", "_reference", "probe_inputs"))}
    assert not forbidden, f"{assignment}: probes.py defines {forbidden}"
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names} | {n.module for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom) and n.module}
    assert not {"verdicts", "grading"} & imported, f"{assignment}: probes.py imports {imported}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_graded_check_has_a_verdict_twin_and_depends_is_the_notebooks_chain(assignment):
    """Every test cell worth points has its `verdict_<grade id>` (a visible check without one
    would be decided in the student's kernel alone), and the verdicts' DEPENDS is the chain the
    notebook's visible checks follow: a test cell skips its checks on an earlier task
    (`earlier_task_passes` with the `check_<function>()` that task's test cell defines) exactly
    when DEPENDS lists that task for it. DEPENDS names grade ids of earlier graded cells only:
    the grader applies the verdicts in notebook order, and only a cell with a verdict can lose
    the points a later cell is excused by (grading.execute)."""
    hidden = course.hidden(assignment)
    cells = course.graded_test_cells(course.read(course.solution_notebook(assignment)))
    order = [cell.metadata.nbgrader.grade_id for cell in cells]
    graded = [grade_id for cell, grade_id in zip(cells, order)
              if float(cell.metadata.nbgrader.get("points", 0)) > 0]
    missing = [grade_id for grade_id in graded if grade_id not in hidden.verdicts]
    assert not missing, (f"{assignment}: graded test cells without a verdict_<grade id> in "
                         f"hidden_tests/verdicts.py: {missing}")
    for later, earlier in hidden.depends.items():
        unknown = [g for g in (later, *earlier) if g not in graded]
        assert not unknown, f"{assignment}: DEPENDS names no graded test cell: {unknown}"
        after = [g for g in earlier if order.index(g) >= order.index(later)]
        assert not after, f"{assignment}: DEPENDS[{later!r}] names later cells {after}"
    trees = {grade_id: ast.parse(cell.source) for cell, grade_id in zip(cells, order)}
    defined = {node.name: grade_id for grade_id, tree in trees.items() for node in tree.body
               if isinstance(node, ast.FunctionDef) and node.name.startswith("check_")}
    for grade_id, tree in trees.items():
        used = {defined[node.id] for node in ast.walk(tree)
                if isinstance(node, ast.Name) and node.id in defined} - {grade_id}
        listed = set(hidden.depends.get(grade_id, ()))
        assert used == listed, (
            f"{assignment}: {grade_id}'s visible checks run the checks of {sorted(used)}, but "
            f"DEPENDS lists {sorted(listed)}: a cell that fails on an earlier task's mistake "
            "keeps its points only when DEPENDS names that task")


@pytest.mark.parametrize("assignment", ["00_setup", "03_elbo"])
def test_two_class_runs_draw_different_inputs_and_both_grade_the_solution_full(assignment):
    hidden = course.hidden(assignment)
    first, second = hidden.probe_inputs(course.TEST_SEED), hidden.probe_inputs(OTHER_SEED)
    first_data, second_data = probe_runtime.encode(first), probe_runtime.encode(second)
    assert any(not np.array_equal(first_data[k], second_data.get(k, np.zeros(0)))
               for k in first_data if k != "structure")
    for seed in (course.TEST_SEED, OTHER_SEED):
        for test_id in hidden.test_ids:
            assert course.verdict_message(assignment, test_id, None, seed) == "", (seed, test_id)


# ---- records the verdict process must not trust ----------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy_header(dtype: str, shape: tuple) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                   "shape": shape})
    return buffer.getvalue()


def test_a_record_promising_huge_arrays_is_refused_from_its_headers():
    """Issue 24's 468-byte record: zero-width text arrays of 1.5e8 elements."""
    forged = _zip({"names.npy": _npy_header("<U0", (150_000_000,)),
                   "errors.npy": _npy_header("<U0", (150_000_000,))})
    assert len(forged) < 1000
    start = time.process_time()
    assert verdicts.load_record(forged, "test") is None
    assert time.process_time() - start < 1.0
    honest = io.BytesIO()
    probe_runtime.save(honest, ["x"], [np.arange(3.0)], [""])
    record = verdicts.load_record(honest.getvalue(), "test")
    assert record is not None and list(record["x"]) == [0.0, 1.0, 2.0]
    too_many = io.BytesIO()
    np.savez(too_many, names=np.array(["a"] * 3), errors=np.array([""] * 3),
             v0=np.zeros(verdicts.MAX_ELEMENTS + 1, np.uint8), v1=np.zeros(1), v2=np.zeros(1))
    assert verdicts.load_record(too_many.getvalue(), "test") is None
    pickled = io.BytesIO()
    np.savez(pickled, names=np.array(["a"]), errors=np.array([""]),
             v0=np.array([object()], dtype=object))
    assert verdicts.load_record(pickled.getvalue(), "test") is None


def test_verdicts_that_exhaust_memory_or_time_fail_only_that_student(tmp_path, monkeypatch):
    """The child deciding one student's verdicts runs under its own limits."""
    folder = tmp_path / "hidden_tests"
    folder.mkdir()
    (folder / "probes.py").write_text("def probe_test_a(answers, inputs):\n    return {}\n")
    (folder / "verdicts.py").write_text(
        "import numpy as np\n\n\ndef probe_inputs(seed):\n    return {}\n\n\n"
        "def verdict_test_a(got, ref, inputs):\n"
        "    if 'memory' in got:\n        np.ones(2**34, np.uint8).sum()\n"
        "    while 'time' in got:\n        pass\n")
    np.savez(tmp_path / "inputs.npz", **probe_runtime.encode({}))
    references, records = tmp_path / "references", tmp_path / "records"
    references.mkdir()
    records.mkdir()
    probe_runtime.save(str(references / "test_a.npz"), ["x"], [np.zeros(1)], [""])
    monkeypatch.setattr(verdicts, "VERDICT_CPU_SECONDS", 3)
    outcomes = {}
    for attack in ("memory", "time", "honest"):
        probe_runtime.save(str(records / "test_a.npz"), [attack], [np.zeros(1)], [""])
        start = time.monotonic()
        outcomes[attack] = (verdicts.decide_in_child(tmp_path / "hidden_tests",
                                                     tmp_path / "inputs.npz", references,
                                                     records, timeout=30),
                            time.monotonic() - start)
    memory = outcomes["memory"][0]  # a MemoryError in the verdict, or the child killed
    assert isinstance(memory, str) or memory["test_a"][0], outcomes
    assert isinstance(outcomes["time"][0], str) and outcomes["time"][1] < 30, outcomes
    assert outcomes["honest"][0] == {"test_a": ["", ""]}, outcomes


def test_a_random_state_broken_by_another_task_costs_no_probe():
    """One early mistake, one task: a NumPy loss in 02's Task 3 makes a training step fail
    while TensorFlow traces it, which left Keras' unseeded generator empty, so the probe of
    Task 1 (`keras.random.normal(shape, seed=None)`) raised. Each probe starts from a fresh
    random state."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator

    class Broken:
        def next(self, ordered=True):
            raise ValueError("variable.shape=(2,), Received: value.shape=(0,)")

    def probe(answers, inputs):
        return {"sample": keras.random.normal((3, 2))}

    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, Broken())
    with pytest.raises(ValueError):
        keras.random.normal((3, 2))
    names, arrays, errors = probe_runtime.probe_record(probe, probe_runtime.Answers({}), {})
    assert errors == [""] and arrays[0].shape == (3, 2)
    again = probe_runtime.probe_record(probe, probe_runtime.Answers({}), {})[1]
    assert np.array_equal(arrays[0], again[0]), "every probe starts from the same state"


def test_lent_functions_give_recorded_outputs_and_gradients_and_nothing_else():
    """Answers.earlier: the solution's calls are recorded (with Jacobians); a student's call
    with the same arguments gets that output and its gradient, any other call the student's
    own function."""
    import tensorflow as tf

    def square(x):
        return tf.reduce_sum(tf.square(x), axis=-1)

    def later(x):
        return 3.0 * namespace["square"](x)

    namespace = {"square": square, "later": later}
    recording = probe_runtime.Answers(namespace)
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with recording.earlier("square", differentiable=True):
        assert np.allclose(namespace["later"](x), [15.0, 75.0])
    assert namespace["square"] is square
    tables = probe_runtime.decode(probe_runtime.encode(recording.tables))

    namespace["square"] = lambda x: tf.reduce_sum(x, axis=-1)  # the student's wrong Task 1
    lending = probe_runtime.Answers(namespace, tables)
    with lending.earlier("square", differentiable=True):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(namespace["later"](x))
        assert np.allclose(total, 90.0)
        assert np.allclose(tape.gradient(total, x), 6.0 * x.numpy())
        other = tf.constant([[5.0, 6.0]])
        assert np.allclose(namespace["square"](other), [11.0])  # not recorded: their own
    assert np.allclose(namespace["square"](x), [3.0, 7.0])


def test_sandboxed_kernel_imports_the_mounted_common(tmp_path):
    """An editable install pointing elsewhere must not decide which `common/` a kernel runs."""
    import subprocess

    from grading import sandbox

    if sandbox.unavailable_reason():
        pytest.skip(sandbox.unavailable_reason())
    workdir = sandbox.make_workdir()
    try:
        command = sandbox.command(workdir, [sys.executable, "-c",
                                            "import common; print(common.__file__)"],
                                  sandbox.base_env(workdir))
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).parent == sandbox.pack_folders()[0]


# ---- the environment: a second clone, and a class the solution would fail -------------------


def _clone(tmp_path: Path) -> Path:
    """A second copy of the pack (as a second `git clone` would be) whose environment's
    editable install still points at this repository."""
    import shutil

    clone = tmp_path / "second-clone"
    for name in ("common", "data", "grading", "solutions", "exercises"):
        shutil.copytree(course.REPO / name, clone / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(course.REPO / name, clone / name)
    return clone


def _run_class(clone: Path, tmp_path: Path):
    import subprocess

    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
    import hostile

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    honest = hostile.answered("00_setup")
    honest.cells.append(nbformat.v4.new_code_cell(
        'import common\nprint("common imported from", common.__file__)'))
    nbformat.write(honest, str(submissions / "honest.ipynb"))
    return subprocess.run([sys.executable, "-m", "grading", "run", "00_setup", str(submissions),
                           "--course", str(tmp_path / "course"), "--jobs", "1"], cwd=clone,
                          capture_output=True, text=True, timeout=900)


def test_a_second_clone_grades_with_its_own_common(tmp_path):
    """Issue 24: graded from a second clone, every kernel failed with ModuleNotFoundError:
    common, and everyone scored 0 with no problem reported."""
    from grading import sandbox

    if sandbox.unavailable_reason():
        pytest.skip(sandbox.unavailable_reason())
    clone = _clone(tmp_path)
    result = _run_class(clone, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    autograded = (tmp_path / "course" / "autograded" / "honest" / "00_setup"
                  / course.solution_notebook("00_setup").name).read_text()
    assert f"common imported from {clone / 'common' / '__init__.py'}" in autograded
    decided = json.loads((tmp_path / "course" / "logs" / "00_setup" / "honest.verdicts.json")
                         .read_text())
    assert decided and all(d == {"notebook": "passed", "verdict": "passed"}
                           for d in decided.values()), decided


def test_a_class_the_solution_would_fail_is_not_graded(tmp_path):
    """A wrong `common/` (here every visible check fails): the solution is graded first, fails,
    and the run stops naming the failing cells before any student is graded."""
    from grading import sandbox

    if sandbox.unavailable_reason():
        pytest.skip(sandbox.unavailable_reason())
    clone = _clone(tmp_path)
    (clone / "common" / "checks.py").write_text(
        (clone / "common" / "checks.py").read_text()
        + "\n\ndef check_close(*args, **kwargs):\n"
          "    raise AssertionError('broken environment: check_close fails everything')\n")
    result = _run_class(clone, tmp_path)
    assert result.returncode != 0
    assert "does not score full marks" in result.stderr, result.stderr[-2000:]
    assert "test_normalize_images" in result.stderr and "broken environment" in result.stderr
    assert not (tmp_path / "course" / "autograded").exists()


def _graded_cell(grade_id: str, *outputs):
    import nbformat

    cell = nbformat.v4.new_code_cell(f"# {grade_id}")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id,
                                 "points": 2}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


@pytest.mark.parametrize("earlier_verdict, later_keeps_points", [("wrong", True), ("", False)])
def test_a_later_cell_failing_on_an_earlier_mistake_keeps_its_points(
        monkeypatch, earlier_verdict, later_keeps_points):
    """The grader's rule for a chain (verdicts.DEPENDS): a later test cell whose visible checks
    failed keeps its points when its own verdict passed and an earlier task it uses lost its
    points; when the earlier task is right, the failure is the later task's own and costs it."""
    import nbformat
    from nbgrader import utils

    from grading import execute

    error = {"output_type": "error", "ename": "AssertionError",
             "evalue": "read_attention: expected 1; got 2", "traceback": []}
    warning = {"output_type": "stream", "name": "stderr", "text": "UserWarning: deprecated\n"}
    earlier_outputs = [error] if earlier_verdict else []  # its own visible check
    notebook = nbformat.v4.new_notebook(cells=[
        _graded_cell("test_early", *earlier_outputs), _graded_cell("test_late", error, warning)])
    decided = {"test_early": [earlier_verdict, earlier_verdict], "test_late": ["", ""]}
    monkeypatch.setattr(verdicts, "decide_in_child", lambda *args: decided)
    grader = execute.GradingExecute()
    grader.nb = notebook
    hidden = {"hidden": types.SimpleNamespace(folder=Path("."), test_ids=list(decided),
                                              depends={"test_late": ("test_early",)}),
              "references": Path(".")}
    grader._apply_verdicts(hidden, Path("."), {})

    late = notebook.cells[1]
    score, points = utils.determine_grade(execute.GradingSaveAutoGrades.scored(late))
    early = utils.determine_grade(execute.GradingSaveAutoGrades.scored(notebook.cells[0]))
    assert early[0] == (0 if earlier_verdict else 2)
    if later_keeps_points:
        assert score == points
        text = "".join(o.get("text", "") for o in late.outputs)
        assert "test_early" in text and "read_attention: expected 1; got 2" in text, text
        assert any(o.get("name") == "stderr" for o in late.outputs), "the warning stays"
    else:
        assert score == 0 and any(o.output_type == "error" for o in late.outputs)


def test_a_warning_never_costs_a_cell_its_points_an_error_always_does():
    from nbgrader import utils

    from grading import execute

    warning = {"output_type": "stream", "name": "stderr",
               "text": "UserWarning: Argument `alpha` is deprecated.\n"}
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "no", "traceback": []}
    warned = _graded_cell("test_x", warning)
    assert utils.determine_grade(warned)[0] == 0, "nbgrader's own rule, which the pack replaces"
    assert utils.determine_grade(execute.GradingSaveAutoGrades.scored(warned)) == (2, 2)
    assert warned.outputs[0]["name"] == "stderr", "what the student reads is unchanged"
    failed = _graded_cell("test_x", warning, error)
    assert utils.determine_grade(execute.GradingSaveAutoGrades.scored(failed))[0] == 0
