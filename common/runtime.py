"""Runtime set-up: modes and budgets, seeds, devices, and the one-line environment report."""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import sys
import warnings

import numpy as np

from common import quiet
from common.modes import (  # noqa: F401 (re-exported)
    DEFAULT_MODE, MODES, budget, mode, offline, training_seconds)


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


@dataclasses.dataclass(frozen=True)
class RuntimeReport:
    """What `setup()` found and did; printed as a compact report."""

    python: str
    tensorflow: str
    keras: str
    backend: str
    devices: tuple[str, ...]
    num_gpus: int
    mode: str
    data_source: str
    colab: bool
    seed: int
    mixed_precision: bool
    deterministic: bool

    def __str__(self) -> str:
        platform_name = "Colab" if self.colab else platform.system()
        options = [f"seed {self.seed}"]
        options += ["mixed precision"] if self.mixed_precision else []
        options += ["deterministic ops"] if self.deterministic else []
        return "\n".join([
            f"Python {self.python} | TensorFlow {self.tensorflow} | Keras {self.keras} "
            f"({self.backend} backend) | {platform_name}",
            f"Devices: {', '.join(self.devices)}"
            + ("" if self.num_gpus else " (no GPU: fine for test and demo modes)"),
            f"Mode: {self.mode} | Data: {self.data_source} | {', '.join(options)}",
        ])


# Figure text read from the back of a lecture room on a 1400-pixel screen: 12 points are 17
# pixels in a figure of 100 dpi shown unscaled (common.plotting keeps its figures at most 10
# inches wide). setup() makes them matplotlib's defaults, so the notebooks' own plots follow.
PROJECTOR_RC = {"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13,
                "xtick.labelsize": 12, "ytick.labelsize": 12, "legend.fontsize": 12,
                "figure.titlesize": 15}


def setup(seed: int = 42, mixed_precision: bool = False,
          deterministic: bool = False) -> RuntimeReport:
    """Seed everything, configure devices, set projector-sized text for figures, print and
    return a compact environment report."""
    import keras
    import matplotlib
    import tensorflow as tf

    from common import datasets

    matplotlib.rcParams.update(PROJECTOR_RC)

    current_mode = mode()
    with quiet.filtered_stderr():  # looking for a GPU logs "failed call to cuInit" without one
        gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:  # Grow GPU memory on demand so several notebooks can share one GPU.
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # Already initialised by an earlier cell: keep its setting.
            pass
    if not gpus and current_mode == "full":
        warnings.warn("full mode without a GPU will be slow; consider COURSE_MODE=demo.",
                      stacklevel=2)

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # Seeds Python, NumPy and the backend together.
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if mixed_precision and not gpus:
        warnings.warn("mixed precision speeds up GPUs only; on a CPU it is slower.",
                      stacklevel=2)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")

    devices = tuple(f"{d.device_type}:{d.name.split(':')[-1]}"
                    for d in tf.config.list_physical_devices())
    report = RuntimeReport(
        python=platform.python_version(), tensorflow=tf.__version__,
        keras=keras.__version__, backend=keras.backend.backend(), devices=devices,
        num_gpus=len(gpus), mode=current_mode, data_source=datasets.describe_source(),
        colab=in_colab(), seed=seed, mixed_precision=mixed_precision,
        deterministic=deterministic,
    )
    print(report)
    return report


def in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbconvert, nbgrader): where displayed pictures
    and widgets reach a page. False in plain Python and in a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def test_mode_note(what: str | None = None) -> None:
    """In test mode only, print one line saying that `what` (a trained result) means little."""
    if mode() == "test":
        print(f"(test mode: trained for seconds only, so read little into "
              f"{what or 'these results'}; demo mode gives the results the text describes)")


def distribution_strategy(device_type: str = "GPU"):
    """MirroredStrategy over all visible `device_type` devices when there are two or more,
    else TensorFlow's default (single-device) strategy."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices(device_type)
    if len(devices) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()
