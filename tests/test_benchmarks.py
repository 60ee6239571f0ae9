"""benchmarks/: the quick variant runs end to end (so the harness cannot rot), and its pieces
(notebook namespaces, budgets, ratios) behave."""

import json
import subprocess
import sys

import nbformat
import pytest

import course
from benchmarks import quality, run


def test_quick_benchmark_writes_report_png_and_json(tmp_path):
    output = tmp_path / "latest.md"
    result = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--output",
                             str(output)], cwd=course.REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = output.read_text()
    for heading in ("## Notebook wall times", "## Autograde", "## GAN", "## VAE"):
        assert heading in text, f"{heading} missing from the report"
    assert "| `00_setup` |" in text and "Versions: Python" in text
    assert output.with_suffix(".png").stat().st_size > 10_000
    data = json.loads(output.with_suffix(".json").read_text())
    reference = data["parts"]["gan"]["reference"]["rows"]
    assert [r["budget"] for r in reference] == run.QUICK["checkpoints"]
    assert all(0.0 <= r["confidence"] <= 1.0 and r["fcd"] >= 0 for r in reference)
    assert all(r["seconds"] >= r["budget"] for r in reference), "trained up to each budget"
    vae = data["parts"]["vae"]["reference"]["rows"]
    assert all(100 < r["negative_elbo"] < 2000 for r in vae), "nats per image, not per pixel"
    rounds = [r for entry in data["parts"]["autograde"] for r in entry["rounds"]]
    assert sorted(r["jobs"] for r in rounds) == sorted(run.QUICK["jobs"]), rounds
    assert all(r["graded"] == r["students"] == run.QUICK["class_size"] for r in rounds), rounds
    for name in ("gan", "vae"):
        ours = data["parts"][name]["ours"]
        assert "rows" in ours or "skipped" in ours, f"{name} ours failed: {ours}"


def _notebook(tmp_path, config_cells=1):
    notebook = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("import os\nSEEN = ['setup']")
    solution = nbformat.v4.new_code_cell("def build(n):\n    return list(range(n))")
    solution.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "build"}
    training = nbformat.v4.new_code_cell("SEEN.append('training')\nraise SystemExit('slow')")
    cells = [setup, solution, training]
    for _ in range(config_cells):
        config = nbformat.v4.new_code_cell(
            "BATCH_SIZE = 64\nLATENT_DIM = len(build(3))\nMODE = os.environ['COURSE_MODE']")
        config.metadata["tags"] = ["benchmark-config"]
        cells.append(config)
    notebook.cells = cells
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_notebook_namespace_runs_setup_solutions_and_config_only(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "REPO", tmp_path)
    namespace = quality.notebook_namespace(_notebook(tmp_path))
    assert namespace["SEEN"] == ["setup"], "the training cell must not run"
    config = quality._config_names(namespace)
    assert config == {"BATCH_SIZE": 64, "LATENT_DIM": 3, "MODE": "demo"}, "demo configuration"


@pytest.mark.parametrize("count", [0, 2])
def test_notebook_without_exactly_one_config_cell_is_reported(tmp_path, monkeypatch, count):
    monkeypatch.setattr(quality, "REPO", tmp_path)
    with pytest.raises(quality.NotebookMissing, match="benchmark-config"):
        quality.notebook_namespace(_notebook(tmp_path, config_cells=count))
    with pytest.raises(quality.NotebookMissing, match="does not exist"):
        quality.notebook_namespace(tmp_path / "missing.ipynb")


def test_reference_gets_ten_times_our_time_and_ratios_read_right():
    results = {"ours": {"time_to_target": 40.0}}
    grid = quality._extended([15, 30, 60, 120], results, cap=600.0)
    assert grid[:4] == [15, 30, 60, 120] and grid[-1] == 400.0 and grid == sorted(grid)
    assert quality._extended([15, 30], {"ours": {"time_to_target": None}}, 600.0) == [15, 30]

    def entry(time_to_target, trained):
        rows = [{"seconds": s} for s in (10, 20, 30, 40, 60, 100, 200, 401) if s <= trained]
        return {"rows": rows, "time_to_target": time_to_target, "trained_up_to": trained}

    assert run._ratio({"ours": entry(40, 60), "reference": entry(None, 401)})[0].startswith(
        "> 10.0×")
    text, ratio = run._ratio({"ours": entry(40, 60), "reference": entry(200, 200)})
    assert ratio == 5.0 and text.startswith("5.00× (between 2.5× and 6.7×"), text
    assert run._ratio({"ours": entry(None, 120), "reference": entry(50, 120)})[1] is None


def test_averaged_weights_swaps_the_average_in_and_the_training_weights_back():
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        optimizer.apply_gradients([(keras.ops.ones_like(v), v) for v in model.trainable_variables])
    training = [v.numpy() for v in model.trainable_variables]
    average = [v.numpy() for v in optimizer._model_variables_moving_average]
    assert not np.allclose(training[0], average[0]), "the average lags the weights"
    with quality._averaged_weights(model, optimizer):
        inside = [v.numpy() for v in model.trainable_variables]
    for got, want in zip(inside, average):
        np.testing.assert_allclose(got, want)
    for got, want in zip((v.numpy() for v in model.trainable_variables), training):
        np.testing.assert_array_equal(got, want)
    with quality._averaged_weights(model, None):  # no averaging optimiser: nothing changes
        np.testing.assert_array_equal(model.trainable_variables[0].numpy(), training[0])


def test_live_view_cost_runs_each_training_cell_with_and_without_drawing(tmp_path):
    """The switch really stops the drawing and the clock counts it: a cell whose view takes
    0.5 s to draw is that much slower with the view on, and that time is its drawing share;
    only cells that show a LiveTraining view are timed."""
    from benchmarks import notebooks

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import time\nimport common.plotting, common.runtime\n"
                                  "from IPython.display import display\n"
                                  "common.plotting.LiveTraining._draw = "
                                  "lambda self, final=False: time.sleep(0.5)"),
        nbformat.v4.new_code_cell("print('not a training cell')"),
        *[nbformat.v4.new_code_cell(
            "time.sleep(0.2)\nif common.runtime.in_jupyter_kernel():\n"
            "    common.plotting.LiveTraining._draw(None)\n"
            "display({'text/plain': 'LiveTraining: epoch 1/1'}, raw=True)") for _ in range(2)],
    ]
    (tmp_path / "nb").mkdir()
    path = tmp_path / "nb" / "nb.ipynb"
    nbformat.write(notebook, str(path))
    result = notebooks.time_live_view("fake", mode="test", source=path)
    cells = result["cells"]
    assert [c["cell"] for c in cells] == [2, 3]
    assert [c["first"] for c in cells] == ["on", "off"], "the order alternates"
    assert all(c["seconds_on"] > c["seconds_off"] + 0.4 for c in cells), cells
    assert all(0.5 < c["drawing_share"] < 0.8 for c in cells), cells  # 0.5 s of about 0.7 s
    assert all(c["frames"] == [1] and 0.5 <= c["dearest_frame"] < 0.7 for c in cells), cells
    text = "\n".join(run._liveview_section([result]))
    assert "| `fake` | test | 2 |" in text and "| 1 | 0.5" in text
    assert "over in `fake` cell 2" in run._summary({"liveview": [result]})[0]


def test_notebook_timing_records_each_fit_against_its_time_budget(tmp_path, monkeypatch):
    """A training cell's fit planned for 8 s in a cell of a 1-second budget: the run records
    the cell, the budget, the seconds trained (within it) and how far the fit got."""
    from benchmarks import notebooks

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import time, keras, numpy as np\nimport common.plotting"),
        nbformat.v4.new_code_cell("print('not a training cell')"),
        nbformat.v4.new_code_cell(
            "class Slow(keras.callbacks.Callback):\n"
            "    def on_train_batch_begin(self, batch, logs=None):\n"
            "        time.sleep(0.02)\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\n"
            "model.fit(np.ones((400, 3)), np.ones((400, 1)), batch_size=4, epochs=4, verbose=0,\n"
            "          callbacks=[Slow(), common.plotting.LiveTraining(title='tiny')])"),
    ]
    (tmp_path / "nb").mkdir()
    path = tmp_path / "nb" / "nb.ipynb"
    nbformat.write(notebook, str(path))
    monkeypatch.setenv("COURSE_TRAINING_SECONDS", "1")
    result = notebooks.time_notebook("fake", "demo", source=path)
    assert result["error"] is None, result["error"]
    (cell,) = result["training_cells"]
    (fit,) = cell["fits"]
    assert cell["cell"] == 2 and cell["cell_seconds"] >= fit["training_seconds"]
    assert fit["budget"] == 1 and fit["stopped_at_budget"] and fit["training_seconds"] <= 1, fit
    assert 0 < fit["epochs"] < fit["epochs_planned"] == 4 and "loss" in fit["last"], fit
    text = "\n".join(run._training_section([result]))
    assert "| `fake` | 2 | tiny | 1.0 |" in text and "(stopped at the budget)" in text, text
    assert any(line.startswith("`demo` mode, every fit within its time budget: met (1 fits, "
                               "1 stopped") for line in run._summary({"notebooks": [result]}))
    result["training_cells"][0]["fits"][0]["training_seconds"] = 1.5
    assert any("over in `fake` cell 2 2 s" in line  # noqa: E501
               for line in run._summary({"notebooks": [result]}))
