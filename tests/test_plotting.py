"""common.plotting: every plot returns a Figure on the headless Agg backend."""

import keras
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from common import plotting

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(12, 28, 28, 1)).astype(np.float32)


def rendered(fig):
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    return fig


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() == "agg"


def test_show_images_with_labels_and_tanh_range():
    fig = rendered(plotting.show_images(IMAGES * 2 - 1, labels=list(range(12)), ncols=5))
    assert len(fig.axes) == 15 and fig.axes[0].get_title() == "0"
    shown = fig.axes[0].images[0].get_array()
    assert shown.min() >= 0 and np.allclose(shown, IMAGES[0, ..., 0], atol=1e-6)


def test_show_images_rejects_bad_shapes():
    with pytest.raises(ValueError, match="expected images shaped"):
        plotting.show_images(np.zeros(10))


def test_compare_reconstructions_two_rows():
    fig = rendered(plotting.compare_reconstructions(IMAGES, IMAGES[::-1], n=6))
    assert len(fig.axes) == 12
    with pytest.raises(ValueError, match="6 originals but 2"):
        plotting.compare_reconstructions(IMAGES[:6], IMAGES[:2])


def test_plot_latent_scatter_has_legend_per_class():
    fig = rendered(plotting.plot_latent_scatter(rng.normal(size=(50, 2)), np.arange(50) % 5))
    assert len(fig.axes[0].get_legend().get_texts()) == 5
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plotting.plot_latent_scatter(np.zeros((5, 3)), np.zeros(5))


def test_plot_manifold_decodes_a_quantile_grid():
    seen = []

    def decoder(z):
        seen.append(z)
        return np.tile(z[:, :1, None, None], (1, 28, 28, 1)) * 0 + 0.5

    rendered(plotting.plot_manifold(decoder, grid_size=5, latent_dim=3))
    (z,) = seen
    assert z.shape == (25, 3) and np.all(z[:, 2] == 0)
    assert np.isclose(z[:, 0].max(), 1.6449, atol=1e-3), "95% normal quantile at the edge"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(784, "sigmoid"),
                              keras.layers.Reshape((28, 28, 1))])
    rendered(plotting.plot_manifold(model, grid_size=4))


def test_plot_interpolation_accepts_one_strip_or_labelled_rows():
    assert len(rendered(plotting.plot_interpolation(IMAGES[:10])).axes) == 10
    fig = rendered(plotting.plot_interpolation({"pixel": IMAGES[:10], "latent": IMAGES[2:12]}))
    assert len(fig.axes) == 20 and fig.axes[10].get_title(loc="left") == "latent"


def test_plot_history_from_a_real_fit():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, validation_split=0.25,
                        verbose=0)
    fig = rendered(plotting.plot_history(history))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    assert len(fig.axes[0].get_lines()) == 2, "train and validation curves"
    with pytest.raises(ValueError, match="no metrics"):
        plotting.plot_history({})


def test_sample_grid_callback_keeps_frames_and_saves_a_gif(tmp_path):
    calls = []

    def decoder(z):  # a sampler that improves a little at every call, like a generator
        calls.append(1)
        return np.full((len(z), 28, 28, 1), len(calls) / 10, np.float32)

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    callback = plotting.SampleGridCallback(decoder, rng.normal(size=(8, 2)), every_n_epochs=2,
                                           ncols=4)
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=5, verbose=0, callbacks=[callback])
    assert len(callback.frames) == 2 and callback.frames[0].shape == (57, 115)
    fig = rendered(plotting.save_gif(callback.frames, tmp_path / "out" / "samples.gif"))
    gif = Image.open(tmp_path / "out" / "samples.gif")
    assert gif.n_frames == 2 and len(fig.axes) == 2
    with pytest.raises(ValueError, match="no frames"):
        plotting.save_gif([], tmp_path / "empty.gif")


def test_image_grid_tiles_with_padding():
    grid = plotting.image_grid(np.zeros((5, 2, 3)), ncols=3, pad=1)
    assert grid.shape == (5, 11) and grid[2, 0] == 1.0 and grid[0, 0] == 0.0
