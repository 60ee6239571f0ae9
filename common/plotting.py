"""Plots for the notebooks. Every function returns a matplotlib Figure that works headless and
shows once when it ends a notebook cell (display() it to show it mid-cell)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from common import modes, runtime
from common.checks import to_numpy


PROJECTOR_RC = runtime.PROJECTOR_RC  # text sizes that read from the back of a lecture room
MAX_WIDTH = 10.0  # inches: 1000 pixels, the width JupyterLab shows unscaled on a 1400-pixel page


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
    cols = min(len(names), 3)  # at most three panels a row, so the text stays projector-sized
    rows = -(-len(names) // cols)
    fig = new_figure((min(3.6 * cols, MAX_WIDTH), 3.2 * rows))
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax, name in zip(axes, names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], marker=".", label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], marker=".", label="validation")
            ax.legend(fontsize=PROJECTOR_RC["legend.fontsize"])
        ax.set_title(name, fontsize=PROJECTOR_RC["axes.titlesize"])
        ax.set_xlabel("epoch", fontsize=PROJECTOR_RC["axes.labelsize"])
        ax.tick_params(labelsize=PROJECTOR_RC["xtick.labelsize"])
    for ax in axes[len(names):]:  # the empty places of the last row: gone, so fig.axes are panels
        fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    return fig


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class LiveTraining(keras.callbacks.Callback):
    """A live view of `fit` for Jupyter (use with `verbose=0`): one picture, updated in place,
    with a progress bar (elapsed time, ETA), the curves of every logged metric so far and, given
    a `sampler`, a large grid of `sampler(inputs)` (fixed inputs, so the frames show progress).

    `panels` picks the curves: one entry per panel, a metric name or a tuple of names drawn
    together (default: one panel per metric, at most four). It first draws after `min_seconds`
    and only while drawing, with the final frame's cost set aside, stays under 3.5% of the time
    spent in `fit` so far (so a short fit shows just its final frame), evenly spaced, then once
    more at the end: nbconvert and feedback pages keep that final frame. `frames` keeps the
    grid of the untrained model, of every `every_n_epochs`-th epoch and of the last one (for
    `save_gif`); `history`, the epoch logs.
    One instance can serve several fits in a row (a loop over models): each fit redraws the
    same picture, within one drawing budget for all of them. Outside a Jupyter kernel it draws
    nothing.

    Each fit also keeps to a time budget: `share` of `common.training_seconds()` (demo mode
    55 s; none in test and full modes). Training stops between batches when the next batch,
    the epoch's end and the final frame would overrun it, and the final frame says where it
    stopped; `stopped_at_budget` and `epochs_trained` (6.4 for six epochs and part of a
    seventh) tell the cells after it. A cell that trains two models gives each `share=0.5`."""

    # At most this fraction of the time in fit goes into drawing, final frame included, unless
    # that frame alone costs more (a fit of a few seconds). The goal is 5%: the rest is margin
    # for a frame that costs more than the last one did.
    draw_share = 0.035

    def __init__(self, sampler: Callable | None = None, inputs=None, ncols: int = 8,
                 every_n_epochs: int = 1, title: str | None = None,
                 panels: Sequence[str | Sequence[str]] | None = None, min_seconds: float = 2.0,
                 share: float = 1.0):
        super().__init__()
        if not 0 < share <= 1:
            raise ValueError(f"share={share!r}: give the part of the cell's training time each "
                             f"fit gets, a number in (0, 1] (0.5 for one of two models)")
        self.share = share
        self.stopped_at_budget, self.epochs_trained = False, 0.0
        self.set_samples(sampler, inputs, title)
        self.ncols, self.every_n_epochs, self.min_seconds = ncols, every_n_epochs, min_seconds
        self.panels = None if panels is None else [
            (panel,) if isinstance(panel, str) else tuple(panel) for panel in panels]
        self.frames: list[np.ndarray] = []
        self.history: dict[str, list[float]] = {}
        self._display = None
        self._live = runtime.in_jupyter_kernel()
        self._drawing = self._fitted = 0.0  # Seconds drawing, and in earlier fits, in all fits.

    def set_samples(self, sampler: Callable | None, inputs, title: str | None = None) -> None:
        """From the next fit on, show the grid of `sampler(inputs)` under `title` (for one view
        reused by fits of different models)."""
        if (sampler is None) != (inputs is None):
            raise ValueError("give both `sampler` and the fixed `inputs` it draws from, or neither")
        self.sampler, self.inputs = sampler, None if inputs is None else to_numpy(inputs)
        self.title = title

    # --- Keras hooks
    def on_train_begin(self, logs=None):
        self.frames, self.history = [], {}
        self._epochs, self._steps = self.params.get("epochs") or 1, self.params.get("steps")
        self._epoch, self._step = 0, 0
        self._grid, self._grid_epoch = None, 0
        if self.sampler is not None:
            self._sample()  # Epoch 0, the untrained model: the picture's layout never jumps.
        seconds = modes.training_seconds()
        self._budget = None if seconds is None else seconds * self.share
        self.stopped_at_budget, self.epochs_trained = False, 0.0
        # Seconds a batch takes, and what an epoch's end (validation) and start add to its last
        # and first batches: measured as training goes, to stop before the budget runs out.
        self._batch_cost = self._epoch_end_cost = self._epoch_start_cost = 0.0
        self._call, self._stride = 0, 1
        self._start, self._pace_start = time.perf_counter(), None
        self._drawn_at = self._mark = self._start

    def on_train_batch_begin(self, batch, logs=None):
        # The batch's start, not its end: Keras runs end-of-batch hooks in a background thread
        # unless a callback has one, and pays a synchronisation per batch for it when one does.
        # The gap since this hook last returned is one call's batches, or at an epoch's start the
        # last call and all that ends an epoch (validation, samples), and the gap after an
        # epoch's first call, that call and what starting an epoch costs. A fit's first traces.
        # With steps_per_execution, one call runs several batches: `batch` counts batches and
        # `_call` calls of this hook within the epoch, `_stride` batches per call.
        gap = time.perf_counter() - self._mark
        self._call = 0 if batch == 0 else self._call + 1
        if self._call == 1:
            self._stride = batch
        if self._call > 1:
            self._batch_cost = gap if not self._batch_cost else 0.7 * self._batch_cost + 0.3 * gap
        elif self._epoch > 0:
            if not self._batch_cost:  # Epochs of one or two batches: a whole gap as a batch.
                self._batch_cost = gap
            extra = max(0.0, gap - self._batch_cost)
            if batch == 0:
                self._epoch_end_cost = max(self._epoch_end_cost, extra)
            else:
                self._epoch_start_cost = max(self._epoch_start_cost, extra)
        self._step = batch
        if self.stopped_at_budget:
            return
        if self._live and self._draw_due():
            self._draw()
        fit_ends = (self._steps and self._epoch == self._epochs - 1
                    and batch + self._stride >= self._steps)  # Stopping here would cut nothing.
        if self._budget is not None and not fit_ends and self._over_budget(batch):
            self.model.stop_training = self.stopped_at_budget = True  # after this batch
            self.epochs_trained = self._epoch + (min(1.0, (batch + self._stride) / self._steps)
                                                 if self._steps else 0.0)
        self._mark = time.perf_counter()

    def reached(self) -> str:
        """How far the last fit got, for the cells that report on it: "11 of 11 epochs", or
        "6.4 of 11 epochs: stopped at the 0:55 time budget"."""
        text = f"{self.epochs_trained:.3g} of {self._epochs} epochs"
        return (f"{text}: stopped at the {_clock(self._budget)} time budget"
                if self.stopped_at_budget else text)

    def _over_budget(self, batch: int) -> bool:
        """Whether going on past this batch could overrun the budget. Stopping at the next
        batch's start, the earliest later stop, ends after that batch, the epoch's end and the
        final frame; when this batch is its epoch's last (or the number per epoch is unknown),
        an epoch's end and an epoch's start come between the two batches too."""
        last = not self._steps or batch + self._stride >= self._steps
        this = self._batch_cost + (self._epoch_start_cost if batch == 0 else 0.0)
        between = self._epoch_end_cost + self._epoch_start_cost if last else 0.0
        final = self._sample_cost + (self._draw_cost if self._live else 0.0)
        return (time.perf_counter() - self._start + this + between + self._batch_cost
                + self._epoch_end_cost + final >= self._budget)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch, self._step = epoch + 1, 0
        if not self.stopped_at_budget:
            self.epochs_trained = float(self._epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(to_numpy(value)))
        if self.sampler is not None and (epoch + 1) % self.every_n_epochs == 0:
            self._sample()
        if self._live and not self.stopped_at_budget and self._draw_due():
            self._draw()

    def on_train_end(self, logs=None):
        if self.sampler is not None and self._grid_epoch != self._epoch:
            self._sample()
        if self._live:
            self._draw(final=True)
        elif self.stopped_at_budget:  # No picture to say it: a line does.
            print(f"LiveTraining: {self._status(final=True)[0]}")
        self._fitted += time.perf_counter() - self._start

    # --- Drawing
    # Seconds per picture: a first guess, then the last one measured in this kernel (a later
    # view starts from that measurement, not from the guess).
    _draw_cost = 0.2

    def _draw_due(self) -> bool:
        """Whether a frame now, and the final frame still to come, fit in the budget; frames
        come evenly spaced, not in a burst once the budget allows several."""
        now = time.perf_counter()
        elapsed = now - self._start
        return (elapsed >= self.min_seconds
                and now - self._drawn_at >= self._draw_cost / self.draw_share
                and self._drawing + 2 * self._draw_cost
                <= self.draw_share * (self._fitted + elapsed))

    # Seconds the last sampler call took (part of the final frame's cost).
    _sample_cost = 0.0

    def _sample(self) -> None:
        # One direct call: a few images, and no predict function to trace per model.
        started = time.perf_counter()
        self._grid = image_grid(to_numpy(self.sampler(self.inputs)), ncols=self.ncols)
        self._sample_cost = time.perf_counter() - started
        self._grid_epoch = self._epoch
        self.frames.append(self._grid)

    def _status(self, final: bool) -> tuple[str, float]:
        """The progress line and the fraction done. The ETA uses the pace since the first
        picture, so graph tracing at the start does not inflate it."""
        now = time.perf_counter()
        within = self._step / self._steps if self._steps else 0.0
        done = min(1.0, (self._epoch + within) / self._epochs)
        if final:
            if self.stopped_at_budget:
                return f"{self.reached()} · done in {_clock(now - self._start)}", 1.0
            stopped = ("" if self._epoch >= self._epochs
                       else f" (stopped early; {self._epochs} planned)")
            return (f"epoch {self._epoch}/{self._epochs}{stopped}"
                    f" · done in {_clock(now - self._start)}"), 1.0
        if self._pace_start is None:
            self._pace_start = (now, done)
        since, done_then = self._pace_start
        step = f" · batch {self._step}/{self._steps}" if self._steps and self._step else ""
        left = (now - since) / (done - done_then) * (1 - done) if done > done_then else None
        if self._budget is not None:  # Whichever ends first: the epochs or the time budget.
            done = max(done, min(1.0, (now - self._start) / self._budget))
            budget_left = max(0.0, self._budget - (now - self._start))
            left = budget_left if left is None else min(left, budget_left)
        eta = f" · ETA {_clock(left)}" if left is not None else ""
        return (f"epoch {min(self._epoch + 1, self._epochs)}/{self._epochs}{step}"
                f" · {_clock(now - self._start)} elapsed{eta}"), done

    def _figure(self, status: str, done: float) -> Figure:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import MaxNLocator

        panels = self.panels or [(n,) for n in self.history if not n.startswith("val_")][:4]
        side = self._grid is not None
        # 10 inches (1000 pixels) wide, so JupyterLab shows it unscaled on a 1400-pixel page;
        # samples take 5.5 of them: with 8 columns, about 65 pixels per digit.
        # Curves stacked beside the samples need about 1.7 inches each at projector text size.
        stacked = 1.7 * (len(self.panels) if self.panels else 3)
        body = max(3.0, 5.5 * self._grid.shape[0] / self._grid.shape[1] + 0.7,
                   stacked) if side else 3.0
        width, height = 10.0, body + 0.9  # Fixed, so the picture never jumps as it fills.
        fig = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(fig)
        bar = fig.add_axes((0.01, 1 - 0.6 / height, 0.98, 0.25 / height))
        bar.barh(0, done, height=1, color="tab:blue")
        bar.text(0.5, 0, f"{done:.0%}", ha="center", va="center", fontsize=12,
                 color="white" if done > 0.55 else "black")
        bar.set(xlim=(0, 1), ylim=(-0.5, 0.5), xticks=[], yticks=[], facecolor="0.88")
        for spine in bar.spines.values():
            spine.set_visible(False)
        bar.set_title(f"{self.title} · {status}" if self.title else status, fontsize=14,
                      loc="left")
        outer = fig.add_gridspec(1, 2 if side else 1, left=0.75 / width, right=0.99,
                                 bottom=0.55 / height, top=1 - 1.0 / height, wspace=0.12,
                                 width_ratios=[3.5, 5.5] if side else None)
        shape = (len(panels) or 1, 1) if side else (1, len(panels) or 1)
        curves = outer[0].subgridspec(*shape, hspace=0.8, wspace=0.3)
        for i, panel in enumerate(panels):
            ax = fig.add_subplot(curves[i])
            heading = []
            for name in panel:
                values = self.history.get(name, [])
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker=".", label=name if len(panel) > 1 else "train")
                if f"val_{name}" in self.history:
                    ax.plot(epochs, self.history[f"val_{name}"], marker=".",
                            label=f"val_{name}" if len(panel) > 1 else "validation")
                heading.append(f"{name} {values[-1]:.4g}" if values else name)
            if len(ax.get_lines()) > 1:
                ax.legend(fontsize=PROJECTOR_RC["legend.fontsize"])
            ax.set_title(" · ".join(heading), fontsize=13, loc="left")
            ax.set_xlim(0.5, self._epochs + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=PROJECTOR_RC["xtick.labelsize"])
        if panels:
            ax.set_xlabel("epoch", fontsize=PROJECTOR_RC["axes.labelsize"])
        else:  # Before the first epoch ends: hold the curves' place.
            ax = fig.add_subplot(curves[0])
            ax.set_axis_off()
            ax.text(0.5, 0.5, "curves after the first epoch", ha="center", va="center",
                    fontsize=12, color="0.4")
        if side:
            ax = fig.add_subplot(outer[1])
            ax.imshow(self._grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(f"samples after epoch {self._grid_epoch}", fontsize=13, loc="left")
        return fig

    def _draw(self, final: bool = False) -> None:
        import io

        from IPython.display import display

        started = time.perf_counter()
        status, done = self._status(final)
        buffer = io.BytesIO()
        # Fastest zlib level: encoding takes 11 ms instead of 20 (of ~150), for 8% more bytes.
        self._figure(status, done).savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        bundle = {"image/png": buffer.getvalue(), "text/plain": f"LiveTraining: {status}"}
        if self._display is None:
            self._display = display(bundle, raw=True, display_id=True)
        else:
            self._display.update(bundle, raw=True)
        self._drawn_at = time.perf_counter()
        LiveTraining._draw_cost = self._drawn_at - started
        self._drawing += self._draw_cost


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
                    grid_size: int = 15, interactive: bool | None = None, scale: int = 11):
    """Two sliders over latent axes `dims` that redraw `decoder`'s image (ipywidgets, in a live
    Jupyter kernel); elsewhere, or with `interactive=False`, the static `plot_manifold` Figure.

    The other latent axes stay at `center` (default 0). For a conditional decoder, pass the
    fixed `condition` (e.g. a one-hot label): the decoder is then called as `[z, condition]`.
    `interactive=None` (default) picks the sliders only inside a Jupyter kernel with ipywidgets;
    `True` asks for them and warns when it falls back. The image is `scale` times the decoder's
    size in screen pixels (308 for MNIST), beside long sliders and the caption, so all fit one
    laptop screen; with more than two latent axes, two pickers choose the sliders' axes.
    Returns the widget box (with `.sliders`, `.pickers`, `.image`, `.caption` and
    `.decode(first, second)` giving the decoded (H, W) image) or the Figure."""
    import io
    import warnings

    dims = tuple(int(d) for d in dims)
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < latent_dim for d in dims):
        raise ValueError(f"dims must be two different axes in 0..{latent_dim - 1}; got {dims}")
    base = np.zeros(latent_dim, np.float32) if center is None else np.asarray(
        center, np.float32).reshape(-1)
    if base.shape != (latent_dim,):
        raise ValueError(f"center must hold latent_dim={latent_dim} values; got {base.shape}")
    extra = None if condition is None else np.asarray(condition, np.float32).reshape(1, -1)

    def decode_codes(codes, plane=dims) -> np.ndarray:
        off_plane = base.copy()
        off_plane[list(plane)] = 0.0  # The axes off the plane sit at `center`.
        codes = np.asarray(codes, np.float32) + off_plane
        inputs = codes if extra is None else [codes, np.repeat(extra, len(codes), axis=0)]
        return _as_images(_predict(decoder, inputs))

    reason = None
    if interactive is None or interactive:
        try:
            import ipywidgets
        except ImportError:
            reason = "ipywidgets is not installed"
        if reason is None and interactive is None and not runtime.in_jupyter_kernel():
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
    axes = list(dims)  # The two latent axes on the sliders; pickers change them for 3+ dims.
    wide = ipywidgets.Layout(width="560px")
    sliders = tuple(ipywidgets.FloatSlider(value=min(max(0.0, low), high), min=low, max=high,
                                           step=step, description=f"z{d + 1}",
                                           readout_format=".2f", layout=wide,
                                           continuous_update=True) for d in dims)
    pickers = ()
    if latent_dim > 2:
        options = [(f"z{d + 1}", d) for d in range(latent_dim)]
        pickers = tuple(ipywidgets.Dropdown(options=options, value=d, description=label,
                                            layout=ipywidgets.Layout(width="180px"))
                        for d, label in zip(dims, ("slider 1", "slider 2")))
    image = ipywidgets.Image(format="png")
    caption = ipywidgets.HTML()

    def decode(first: float, second: float) -> np.ndarray:
        codes = np.zeros((1, latent_dim), np.float32)
        codes[0, axes[0]], codes[0, axes[1]] = first, second
        return decode_codes(codes, axes)[0]

    def redraw(_change=None) -> None:
        pixels = np.uint8(np.clip(decode(sliders[0].value, sliders[1].value), 0, 1) * 255)
        size = (pixels.shape[1] * scale, pixels.shape[0] * scale)
        buffer = io.BytesIO()
        Image.fromarray(pixels).resize(size, Image.NEAREST).save(buffer, format="png")
        # A fixed size in CSS pixels: JupyterLab would otherwise stretch it to the page width.
        image.layout = ipywidgets.Layout(width=f"{size[0]}px", height=f"{size[1]}px")
        image.value = buffer.getvalue()
        caption.value = (f"<span style='font-size: 1.3em'>z{axes[0] + 1} = "
                         f"{sliders[0].value:+.2f}, z{axes[1] + 1} = {sliders[1].value:+.2f}"
                         + (", other axes at their centre" if latent_dim > 2 else "") + "</span>")

    def pick(_change=None) -> None:
        chosen = [picker.value for picker in pickers]
        if chosen[0] == chosen[1]:  # Keep two different axes: undo the clash.
            caption.value = "choose two different axes"
            return
        axes[:] = chosen
        for slider, d in zip(sliders, axes):
            slider.description = f"z{d + 1}"
        redraw()

    for slider in sliders:
        slider.observe(redraw, names="value")
    for picker in pickers:
        picker.observe(pick, names="value")
    redraw()
    controls = ipywidgets.VBox([*([ipywidgets.HBox(list(pickers))] if pickers else []),
                                *sliders, caption],
                               layout=ipywidgets.Layout(justify_content="center"))
    box = ipywidgets.HBox([image, controls], layout=ipywidgets.Layout(align_items="center"))
    box.sliders, box.pickers, box.image, box.caption, box.decode = (sliders, pickers, image,
                                                                    caption, decode)
    return box
