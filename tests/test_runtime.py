"""common.runtime: modes, budgets, setup report, distribution strategy."""

import subprocess
import sys
import textwrap

import pytest

import common


def test_mode_defaults_to_demo(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert common.mode() == "demo"


@pytest.mark.parametrize("value", ["test", "demo", "full", " FULL "])
def test_mode_reads_environment(monkeypatch, value):
    monkeypatch.setenv("COURSE_MODE", value)
    assert common.mode() == value.strip().lower()


def test_unknown_mode_lists_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "fast")
    with pytest.raises(ValueError, match="'fast'.*test, demo, full"):
        common.mode()


@pytest.mark.parametrize("value, expected", [("test", 1), ("demo", 8), ("full", 40)])
def test_budget_picks_the_current_mode(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_MODE", value)
    assert common.budget(test=1, demo=8, full=40) == expected


@pytest.mark.parametrize("value, override, expected", [
    ("demo", None, 55.0), ("test", None, None), ("full", None, None),
    ("demo", "90", 90.0), ("test", " 2.5 ", 2.5), ("demo", "0", None), ("demo", "0.0", None),
    ("demo", "none", None)])
def test_training_seconds_come_from_the_mode_or_the_override(monkeypatch, value, override,
                                                              expected):
    monkeypatch.setenv("COURSE_MODE", value)
    if override is None:
        monkeypatch.delenv("COURSE_TRAINING_SECONDS", raising=False)
    else:
        monkeypatch.setenv("COURSE_TRAINING_SECONDS", override)
    assert common.training_seconds() == expected


@pytest.mark.parametrize("override", ["a minute", "-5", "inf", "nan"])
def test_a_training_time_that_is_not_seconds_says_what_to_give(monkeypatch, override):
    monkeypatch.setenv("COURSE_TRAINING_SECONDS", override)
    with pytest.raises(ValueError, match="not a number of seconds; give one such as 90"):
        common.training_seconds()


def test_offline_in_test_mode_or_when_asked(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "demo")
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    assert not common.runtime.offline()
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert common.runtime.offline()
    monkeypatch.setenv("COURSE_OFFLINE", "")
    monkeypatch.setenv("COURSE_MODE", "test")
    assert common.runtime.offline()


def test_setup_seeds_reports_and_returns_dataclass(capsys):
    import keras
    import numpy as np

    report = common.setup(seed=7)
    printed = capsys.readouterr().out
    first = (np.random.rand(), float(keras.random.uniform((1,))[0]))
    common.setup(seed=7)
    assert (np.random.rand(), float(keras.random.uniform((1,))[0])) == first
    for fact in (report.tensorflow, report.keras, "tensorflow backend", "CPU", "Mode: test",
                 "bundled subsets (offline)", "seed 7"):
        assert fact in printed
    assert report.mode == "test" and report.num_gpus == 0 and report.seed == 7
    assert printed.count("\n") <= 3, "the report should stay compact"


def test_setup_without_gpu_does_not_fail_and_warns_in_full_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "full")
    with pytest.warns(UserWarning, match="without a GPU"):
        report = common.setup()
    assert report.mode == "full"


def test_setup_mixed_precision_sets_and_resets_the_policy():
    import keras

    with pytest.warns(UserWarning, match="mixed precision"):
        common.setup(mixed_precision=True)
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    common.setup()
    assert keras.mixed_precision.global_policy().name == "float32"


def test_distribution_strategy_mirrors_two_logical_cpus():
    """Logical devices must be configured before TensorFlow starts: use a fresh process."""
    script = textwrap.dedent("""
        import tensorflow as tf
        import common
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        default = common.runtime.distribution_strategy()
        mirrored = common.runtime.distribution_strategy(device_type="CPU")
        print(type(default).__name__, type(mirrored).__name__, mirrored.num_replicas_in_sync)
        with mirrored.scope():
            import keras
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
        model.fit(tf.ones((8, 3)), tf.ones((8, 1)), batch_size=4, verbose=0)
        print("fit ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "_DefaultDistributionStrategy MirroredStrategy 2" in result.stdout
    assert "fit ok" in result.stdout


def test_filtered_stderr_drops_tensorflow_noise_and_keeps_the_rest():
    """Descriptor-level: what C++ writes to fd 2 is filtered, in a fresh process."""
    program = textwrap.dedent("""
        import os
        from common import quiet
        with quiet.filtered_stderr():
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called "
                        b"are written to STDERR\\n")
            os.write(2, b"E0000 00:00:1.2 7 cuda_platform.cc:52] failed call to cuInit: X\\n")
            os.write(2, b"E0000 something real went wrong\\n")
        os.write(2, b"after\\n")
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "E0000 something real went wrong\nafter\n"


@pytest.mark.parametrize("first", ["common", "keras"])
def test_setup_cell_shows_no_stderr_in_a_jupyter_kernel(tmp_path, first):
    """The Setup cell's first impression (issue 15): with `import common` first, then Keras
    and TensorFlow, then setup(), the kernel sends only the report, no red stderr box, while
    a real warning still shows. Importing Keras first shows the noise this prevents."""
    import os

    import nbformat
    from nbclient import NotebookClient

    imports = ["import common", "import keras"]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in [
        "\n".join(imports if first == "common" else imports[::-1])
        + "\nimport tensorflow as tf\nenv = common.setup(seed=42)",
        "import os\nos.write(2, b'a real warning\\n')",
        "import sys, time\ntime.sleep(1)\nsys.stderr.flush()",  # fd output arrives late
    ]]
    # ipykernel shows descriptor-level output in the notebook unless it runs under pytest.
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST")}
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)
    try:
        client.start_new_kernel_client()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    finally:
        client._cleanup_kernel()
    stderr = "".join(o.text for cell in notebook.cells for o in cell.outputs
                     if o.get("name") == "stderr")
    assert "Devices: CPU" in "".join(o.get("text", "") for o in notebook.cells[0].outputs)
    if first == "common":
        assert stderr == "a real warning\n", stderr
    else:
        assert "absl::InitializeLog" in stderr and "a real warning" in stderr, stderr


@pytest.mark.parametrize("value", ["test", "demo", "full"])
def test_test_mode_note_prints_one_line_in_test_mode_only(monkeypatch, capsys, value):
    monkeypatch.setenv("COURSE_MODE", value)
    common.test_mode_note("the mode count")
    common.test_mode_note()
    printed = capsys.readouterr().out
    if value == "test":
        lines = printed.splitlines()
        assert len(lines) == 2 and lines[0].startswith("(test mode:"), printed
        assert "the mode count" in lines[0] and "demo mode" in lines[0]
        assert "these results" in lines[1]
        assert all(len(line) <= 160 for line in lines), "the note should stay short"
    else:
        assert printed == ""
