"""Plots for the notebooks. Every function returns a matplotlib Figure that works headless and
shows once when it ends a notebook cell (display() it to show it mid-cell)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from common.checks import to_numpy


def _as_images(images) -> np.ndarray:
    """(N, H, W) float images in [0, 1]; accepts (N, H, W[, 1|3]) in [0, 1] or [-1, 1]."""
    array = to_numpy(images).astype(np.float32)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4):
        raise ValueError(f"expected images shaped (N, H, W) or (N, H, W, C); got {array.shape}")
    if array.size and array.min() < -1e-3:  # tanh outputs: map [-1, 1] to [0, 1].
        array = (array + 1.0) / 2.0
    return np.clip(array, 0.0, 1.0)


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure on pyplot's backend (so Jupyter renders it) that pyplot forgets at once:
    it shows only when returned or displayed, never twice, and never leaks memory."""
    fig = plt.figure(figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig


def _grid_figure(rows: int, cols: int, cell: float = 1.0):
    fig = new_figure((cols * cell, rows * cell))
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def image_grid(images, ncols: int = 8, pad: int = 1) -> np.ndarray:
    """Tile images into one (rows·H, cols·W) array in [0, 1], e.g. for GIF frames."""
    array = _as_images(images)
    n, h, w = array.shape[:3]
    rows = -(-n // ncols)
    grid = np.ones((rows * (h + pad) - pad, ncols * (w + pad) - pad) + array.shape[3:],
                   np.float32)
    for i, image in enumerate(array):
        r, c = divmod(i, ncols)
        grid[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = image
    return grid


def show_images(images, labels: Sequence | None = None, ncols: int = 10,
                title: str | None = None) -> Figure:
    """A grid of images, with an optional label above each."""
    array = _as_images(images)
    ncols = max(1, min(ncols, len(array)))
    fig, axes = _grid_figure(-(-len(array) // ncols), ncols)
    for ax, i in zip(axes.flat, range(len(array))):
        ax.imshow(array[i], cmap="gray", vmin=0, vmax=1)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def compare_reconstructions(originals, reconstructions, n: int = 10,
                            title: str | None = None) -> Figure:
    """Originals (top row) above their reconstructions (bottom row)."""
    top, bottom = _as_images(originals)[:n], _as_images(reconstructions)[:n]
    if len(top) != len(bottom):
        raise ValueError(f"got {len(top)} originals but {len(bottom)} reconstructions")
    fig, axes = _grid_figure(2, len(top))
    for i in range(len(top)):
        axes[0, i].imshow(top[i], cmap="gray", vmin=0, vmax=1)
        axes[1, i].imshow(bottom[i], cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("original", fontsize=9, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=9, loc="left")
    if title:
        fig.suptitle(title)
    return fig


def plot_latent_scatter(codes, labels, title: str = "Latent codes",
                        class_names: Sequence[str] | None = None) -> Figure:
    """2-D codes as points coloured by label, with a legend."""
    codes, labels = to_numpy(codes), to_numpy(labels).reshape(-1)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"expected 2-D codes shaped (N, 2); got {codes.shape}")
    fig = new_figure((6, 5))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for k, label in enumerate(np.unique(labels)):
        chosen = labels == label
        name = class_names[int(label)] if class_names is not None else str(label)
        ax.scatter(codes[chosen, 0], codes[chosen, 1], s=6, alpha=0.7, color=cmap(k % 10),
                   label=name)
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
    ax.legend(markerscale=3, fontsize=8, loc="best")
    return fig


def _predict(model: Callable, inputs: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict"):
        return to_numpy(model.predict(inputs, verbose=0))
    return to_numpy(model(inputs))


def plot_manifold(decoder: Callable, grid_size: int = 15, latent_dim: int = 2,
                  dims: tuple[int, int] = (0, 1), title: str | None = None) -> Figure:
    """Decode a grid of latent points at normal quantiles (5%..95%) along two latent axes,
    the other axes held at 0: the learned manifold of a 2-D (or sliced) latent space."""
    quantiles = np.array([statistics.NormalDist().inv_cdf(p)
                          for p in np.linspace(0.05, 0.95, grid_size)], np.float32)
    codes = np.zeros((grid_size * grid_size, latent_dim), np.float32)
    rows, cols = np.meshgrid(quantiles[::-1], quantiles, indexing="ij")
    codes[:, dims[1]], codes[:, dims[0]] = rows.ravel(), cols.ravel()
    images = _as_images(_predict(decoder, codes))
    fig = new_figure((6, 6))
    ax = fig.subplots()
    ax.imshow(image_grid(images, ncols=grid_size, pad=0), cmap="gray", vmin=0, vmax=1,
              extent=(quantiles[0], quantiles[-1], quantiles[0], quantiles[-1]))
    ax.set(xlabel=f"$z_{dims[0] + 1}$", ylabel=f"$z_{dims[1] + 1}$",
           title=title or "Decoded latent grid")
    return fig


def plot_interpolation(rows, row_labels: Sequence[str] | None = None,
                       title: str | None = None) -> Figure:
    """Interpolation strips: `rows` is (steps, H, W[, C]) for one strip, or a list/array of
    strips, or a mapping label -> strip (e.g. {"pixel space": ..., "latent space": ...})."""
    if isinstance(rows, Mapping):
        row_labels, rows = list(rows), list(rows.values())
    strips = [_as_images(r) for r in (rows if isinstance(rows, list) or to_numpy(rows).ndim
                                      == 5 else [rows])]
    steps = max(len(s) for s in strips)
    fig, axes = _grid_figure(len(strips), steps)
    for r, strip in enumerate(strips):
        for c, image in enumerate(strip):
            axes[r, c].imshow(image, cmap="gray", vmin=0, vmax=1)
        if row_labels is not None:
            axes[r, 0].set_title(row_labels[r], fontsize=9, loc="left")
    if title:
        fig.suptitle(title)
    return fig


def plot_history(history, title: str | None = None) -> Figure:
    """One panel per tracked metric of a Keras History (or its .history dict), with its
    validation curve when there is one."""
    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_")]
    if not names:
        raise ValueError("the history has no metrics; did fit() run for at least one epoch?")
    fig = new_figure((4 * len(names), 3))
    axes = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)[0])
    for ax, name in zip(axes, names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], marker=".", label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], marker=".", label="validation")
            ax.legend(fontsize=8)
        ax.set(title=name, xlabel="epoch")
    if title:
        fig.suptitle(title)
    return fig


class SampleGridCallback(keras.callbacks.Callback):
    """Every `every_n_epochs`, draw `sampler(noise)` (fixed noise, so the frames show
    progress), update the picture in place in Jupyter, and keep each frame in `frames`."""

    def __init__(self, sampler: Callable, noise, every_n_epochs: int = 1, ncols: int = 8,
                 show: bool = True):
        super().__init__()
        self.sampler, self.noise = sampler, to_numpy(noise)
        self.every_n_epochs, self.ncols, self.show = every_n_epochs, ncols, show
        self.frames: list[np.ndarray] = []
        self._display = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        frame = image_grid(_predict(self.sampler, self.noise), ncols=self.ncols)
        self.frames.append(frame)
        if self.show:
            self._show(frame, f"epoch {epoch + 1}")

    def _show(self, frame: np.ndarray, caption: str) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:  # Plain Python: just keep the frames.
            return
        fig = new_figure((4, 4 * frame.shape[0] / frame.shape[1]))
        ax = fig.subplots()
        ax.imshow(frame, cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title(caption)
        if self._display is None:
            self._display = display(fig, display_id=True)
        else:
            self._display.update(fig)


def save_gif(frames: Sequence, path: str | Path, seconds_per_frame: float = 0.3) -> Figure:
    """Write frames (2-D arrays in [0, 1]) as an animated GIF at `path`; return a Figure
    previewing up to 8 evenly spaced frames (GIFs do not animate in every viewer)."""
    from PIL import Image

    if len(frames) == 0:
        raise ValueError("no frames to save; did the callback run for at least one epoch?")
    images = [Image.fromarray(np.uint8(np.clip(to_numpy(f), 0, 1) * 255)) for f in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                   duration=int(seconds_per_frame * 1000))
    picks = np.unique(np.linspace(0, len(frames) - 1, min(8, len(frames))).astype(int))
    fig, axes = _grid_figure(1, len(picks), cell=2.0)
    for ax, i in zip(axes.flat, picks):
        ax.imshow(to_numpy(frames[i]), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"frame {i + 1}", fontsize=9)
    fig.suptitle(f"{len(frames)} frames saved to {path}")
    return fig



def latent_explorer(decoder: Callable, latent_dim: int = 2, dims: tuple[int, int] = (0, 1),
                    center=None, condition=None,
                    value_range: tuple[float, float] = (-3.0, 3.0), step: float = 0.05,
                    grid_size: int = 15, interactive: bool | None = None, scale: int = 8):
    """Two sliders over latent axes `dims` that redraw `decoder`'s image (ipywidgets, in a live
    Jupyter kernel); elsewhere, or with `interactive=False`, the static `plot_manifold` Figure.

    The other latent axes stay at `center` (default 0). For a conditional decoder, pass the
    fixed `condition` (e.g. a one-hot label): the decoder is then called as `[z, condition]`.
    `interactive=None` (default) picks the sliders only inside a Jupyter kernel with ipywidgets;
    `True` asks for them and warns when it falls back. Returns the widget box (with `.sliders`,
    `.image` and `.decode(first, second)` giving the decoded (H, W) image) or the Figure."""
    import io
    import warnings

    dims = tuple(int(d) for d in dims)
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < latent_dim for d in dims):
        raise ValueError(f"dims must be two different axes in 0..{latent_dim - 1}; got {dims}")
    base = np.zeros(latent_dim, np.float32) if center is None else np.asarray(
        center, np.float32).reshape(-1)
    if base.shape != (latent_dim,):
        raise ValueError(f"center must hold latent_dim={latent_dim} values; got {base.shape}")
    off_axes = base.copy()
    off_axes[list(dims)] = 0.0
    extra = None if condition is None else np.asarray(condition, np.float32).reshape(1, -1)

    def decode_codes(codes) -> np.ndarray:
        codes = np.asarray(codes, np.float32) + off_axes  # The other axes sit at `center`.
        inputs = codes if extra is None else [codes, np.repeat(extra, len(codes), axis=0)]
        return _as_images(_predict(decoder, inputs))

    reason = None
    if interactive is None or interactive:
        try:
            import ipywidgets
        except ImportError:
            reason = "ipywidgets is not installed"
        if reason is None and interactive is None:
            try:
                from IPython import get_ipython
                shell = get_ipython()
            except ImportError:
                shell = None
            if getattr(shell, "kernel", None) is None:  # Plain Python or a terminal IPython.
                reason = "no Jupyter kernel"
        if reason is not None and interactive:
            warnings.warn(f"latent_explorer: {reason}; showing the static grid instead.",
                          stacklevel=2)
    if interactive is False or reason is not None:
        title = (f"Decoded latent grid over $z_{dims[0] + 1}$, $z_{dims[1] + 1}$ "
                 "(static; sliders need Jupyter with ipywidgets)")
        return plot_manifold(decode_codes, grid_size=grid_size, latent_dim=latent_dim,
                             dims=dims, title=title)

    from PIL import Image

    low, high = (float(v) for v in value_range)
    sliders = tuple(ipywidgets.FloatSlider(value=min(max(0.0, low), high), min=low, max=high,
                                           step=step, description=f"z{d + 1}",
                                           readout_format=".2f") for d in dims)
    image = ipywidgets.Image(format="png")
    caption = ipywidgets.HTML()

    def decode(first: float, second: float) -> np.ndarray:
        codes = np.zeros((1, latent_dim), np.float32)
        codes[0, dims[0]], codes[0, dims[1]] = first, second
        return decode_codes(codes)[0]

    def redraw(_change=None) -> None:
        pixels = np.uint8(np.clip(decode(sliders[0].value, sliders[1].value), 0, 1) * 255)
        buffer = io.BytesIO()
        Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale),
                                       Image.NEAREST).save(buffer, format="png")
        image.value = buffer.getvalue()
        caption.value = (f"z{dims[0] + 1} = {sliders[0].value:+.2f}, "
                         f"z{dims[1] + 1} = {sliders[1].value:+.2f}")

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    box = ipywidgets.VBox([ipywidgets.HBox(list(sliders)), image, caption])
    box.sliders, box.image, box.decode = sliders, image, decode
    return box
