"""common.plotting.latent_explorer: sliders in a Jupyter kernel, the static manifold elsewhere."""

import sys

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from common import plotting


class RecordingDecoder:
    """A decoder whose image brightness is a known function of the code; keeps every input."""

    def __init__(self):
        self.inputs = []

    def __call__(self, inputs):
        self.inputs.append(inputs)
        codes = inputs[0] if isinstance(inputs, list) else inputs
        level = 1.0 / (1.0 + np.exp(-np.asarray(codes).sum(axis=1)))  # sigmoid(sum of z)
        return np.tile(level[:, None, None, None], (1, 28, 28, 1)).astype(np.float32)


def png_pixels(widget):
    from io import BytesIO

    return np.asarray(Image.open(BytesIO(widget.image.value)))


def test_headless_returns_the_static_manifold_figure():
    decoder = RecordingDecoder()
    fig = plotting.latent_explorer(decoder, grid_size=5)
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    (codes,) = decoder.inputs
    assert codes.shape == (25, 2), "one decode of the whole 5 x 5 grid"
    assert "static" in fig.axes[0].get_title()
    assert np.isclose(codes[:, 0].max(), 1.6449, atol=1e-3), "plot_manifold's quantile grid"


def test_interactive_false_forces_the_figure():
    assert isinstance(plotting.latent_explorer(RecordingDecoder(), interactive=False), Figure)


def test_sliders_redraw_the_decoded_image():
    pytest.importorskip("ipywidgets")
    decoder = RecordingDecoder()
    box = plotting.latent_explorer(decoder, latent_dim=3, dims=(2, 0), interactive=True,
                                   value_range=(-2.0, 2.0), scale=4)
    first, second = box.sliders
    assert (first.description, second.description) == ("z3", "z1")
    assert (first.min, first.max, first.value) == (-2.0, 2.0, 0.0)
    assert png_pixels(box).shape[:2] == (112, 112), "28 x 28 image scaled 4 times"
    assert np.allclose(png_pixels(box), 127, atol=1), "z = 0 decodes to sigmoid(0) = 0.5 grey"
    first.value, second.value = 1.5, 0.25
    np.testing.assert_allclose(decoder.inputs[-1], [[0.25, 0.0, 1.5]])
    expected = np.uint8(255 / (1 + np.exp(-1.75)))
    assert np.allclose(png_pixels(box), expected, atol=1)
    assert "z3 = +1.50" in box.caption.value and "z1 = +0.25" in box.caption.value
    assert box.decode(-1.0, 0.0).shape == (28, 28)


def test_image_has_a_fixed_size_beside_long_sliders():
    pytest.importorskip("ipywidgets")
    box = plotting.latent_explorer(RecordingDecoder(), interactive=True)
    assert png_pixels(box).shape[:2] == (308, 308), "28 x 28 shown 11 times: about 300 pixels"
    assert (box.image.layout.width, box.image.layout.height) == ("308px", "308px"), (
        "an explicit CSS size, or JupyterLab stretches the image to the page width")
    assert all(slider.layout.width == "560px" for slider in box.sliders)
    assert box.children[0] is box.image and box.caption in box.children[1].children, (
        "image beside the sliders and caption, so all fit one screen")
    assert box.pickers == (), "two latent axes need no axis pickers"


def test_pickers_choose_the_axes_of_a_16_dimensional_code():
    pytest.importorskip("ipywidgets")
    decoder = RecordingDecoder()
    center = np.arange(16, dtype=np.float32)
    box = plotting.latent_explorer(decoder, latent_dim=16, center=center, interactive=True)
    horizontal, vertical = box.pickers
    assert len(horizontal.options) == 16 and (horizontal.value, vertical.value) == (0, 1)
    vertical.value = 9
    assert box.sliders[1].description == "z10"
    box.sliders[1].value = 1.0
    expected = center.copy()
    expected[[0, 9]] = [0.0, 1.0]  # The plane's axes come from the sliders, the rest from center.
    np.testing.assert_allclose(decoder.inputs[-1], [expected])
    assert "z10 = +1.00" in box.caption.value
    calls = len(decoder.inputs)
    horizontal.value = 9  # The same axis twice: refused, nothing decoded.
    assert "two different axes" in box.caption.value and len(decoder.inputs) == calls
    assert box.sliders[0].description == "z1"


def test_center_and_condition_reach_the_decoder_in_both_paths():
    pytest.importorskip("ipywidgets")
    decoder = RecordingDecoder()
    center, label = np.array([5.0, 7.0, 9.0]), np.eye(4)[2]
    box = plotting.latent_explorer(decoder, latent_dim=3, dims=(0, 1), center=center,
                                   condition=label, interactive=True)
    box.sliders[0].value = 0.5
    codes, labels = decoder.inputs[-1]
    np.testing.assert_allclose(codes, [[0.5, 0.0, 9.0]])
    np.testing.assert_allclose(labels, [label])
    plotting.latent_explorer(decoder, latent_dim=3, center=center, condition=label,
                             grid_size=3, interactive=False)
    codes, labels = decoder.inputs[-1]
    assert codes.shape == (9, 3) and np.all(codes[:, 2] == 9.0)
    assert labels.shape == (9, 4) and np.all(labels == label)


def test_falls_back_with_a_warning_without_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # Makes `import ipywidgets` fail.
    with pytest.warns(UserWarning, match="ipywidgets is not installed"):
        fig = plotting.latent_explorer(RecordingDecoder(), interactive=True)
    assert isinstance(fig, Figure)
    assert isinstance(plotting.latent_explorer(RecordingDecoder()), Figure)


def test_a_keras_decoder_works_in_both_paths():
    pytest.importorskip("ipywidgets")
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(784, "sigmoid"),
                                keras.layers.Reshape((28, 28, 1))])
    box = plotting.latent_explorer(decoder, interactive=True)
    before = png_pixels(box).copy()
    box.sliders[1].value = 2.5
    assert not np.array_equal(before, png_pixels(box)), "moving z2 changes the picture"
    plotting.latent_explorer(decoder, grid_size=4, interactive=False).canvas.draw()


@pytest.mark.parametrize("kwargs, message", [
    ({"dims": (0, 0)}, "two different axes"),
    ({"dims": (0, 2)}, "two different axes"),
    ({"center": np.zeros(3)}, "latent_dim=2"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.latent_explorer(RecordingDecoder(), **kwargs)


def test_auto_mode_picks_the_sliders_inside_a_kernel(monkeypatch):
    pytest.importorskip("ipywidgets")
    IPython = pytest.importorskip("IPython")

    class FakeKernelShell:
        kernel = object()

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    box = plotting.latent_explorer(RecordingDecoder())
    assert not isinstance(box, Figure) and len(box.sliders) == 2
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert isinstance(plotting.latent_explorer(RecordingDecoder()), Figure)
