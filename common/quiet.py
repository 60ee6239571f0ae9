"""TensorFlow's start-up noise, hidden.

TensorFlow's C++ code writes lines such as "All log messages before absl::InitializeLog() is
called are written to STDERR", "Could not find cuda drivers" and "failed call to cuInit" straight
to file descriptor 2 while it loads and looks for GPUs, before `TF_CPP_MIN_LOG_LEVEL` takes
effect; a Jupyter kernel shows them as red boxes in a notebook's first cell. `import common`
installs a one-shot import hook so that the first `import tensorflow` (also through
`import keras`) runs with file descriptor 2 filtered: the known start-up lines are dropped, every
other line (a real warning or error) is passed on. `common.setup()` looks for GPUs the same way.
Works alike in a Jupyter kernel, a terminal and nbconvert, since all write to descriptor 2."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

NOISE = re.compile("|".join([
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"cudart_stub\.cc:\d+\] Could not find cuda drivers",
    r"cuda_platform\.cc:\d+\] failed call to cuInit",
    r"cuda_executor\.cc:\d+\] .*(no NUMA|could not open file to read NUMA)",
    r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow",
    r"oneDNN custom operations are on",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
]))


@contextlib.contextmanager
def filtered_stderr():
    """While the block runs, file descriptor 2 goes to a temporary file; afterwards its lines
    that are not known TensorFlow start-up noise are written to descriptor 2 after all."""
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (some embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            for stream in (sys.stderr, sys.__stderr__):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not NOISE.search(line))
            if kept:
                os.write(2, kept.encode())


class _Quietly(importlib.abc.Loader):
    """TensorFlow's own loader, run with descriptor 2 filtered."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):  # get_data, get_source, ...: the real loader's
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            self._loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, through the other finders, and wraps its loader."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Quietly(spec.loader)
        return spec


_HOOK = _QuietTensorFlowImport()


def install() -> None:
    """Filter the first `import tensorflow` of this process (no-op once it is imported)."""
    if "tensorflow" not in sys.modules and _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def uninstall() -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_HOOK)
