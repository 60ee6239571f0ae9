"""Verdicts of 00_setup's hidden tests: the grader side (see grading/verdicts.py). `probe_inputs`
draws each class run's inputs from its seed; each verdict checks at least what the visible checks
of its cell check, against the solution's record on the same inputs."""

import numpy as np

from common import checks


def probe_inputs(seed):
    rng = np.random.default_rng([seed, 0])
    raw = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    raw[0, 0, :3] = [0, 51, 255]
    num_labels = int(rng.integers(500, 1500))
    return {
        "test_normalize_images": {
            "normalize_images(x) for x of shape (5, 28, 28)": raw,
            "normalize_images(x) for x of shape (3, 28, 28, 1)":
                rng.integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8),
            "normalize_images(x) for one white image of shape (1, 28, 28)":
                np.full((1, 28, 28), 255, dtype=np.uint8),
        },
        "test_class_counts": {
            "class_counts([0, 2, 2, 9, 9, 9])": (np.array([0, 2, 2, 9, 9, 9]),),
            "class_counts([0, 1, 1, 3]), classes 4-9 absent": (np.array([0, 1, 1, 3]),),
            "class_counts([1, 1], num_classes=3)": (np.array([1, 1]), 3),
            f"class_counts of {num_labels:,} random labels":
                (rng.integers(0, 10, size=num_labels),),
            "class_counts([4], num_classes=12)": (np.array([4]), 12),
        },
    }


def verdict_test_normalize_images(got, ref, inputs):
    for name, images in inputs.items():
        expected = (images.astype(np.float64) / 255.0).reshape(-1, 28, 28, 1)
        checks.check_shape(got[name], expected.shape, name=name,
                           hint="return (N, 28, 28, 1): add the channel axis only when it is "
                                "missing.")
        checks.check_dtype(got[name], "float32", name=name,
                           hint="convert with .astype(np.float32).")
        checks.check_close(got[name], expected, atol=1e-6, name=name,
                           hint="every pixel p must become p / 255.")


def verdict_test_class_counts(got, ref, inputs):
    for name, args in inputs.items():
        labels, num_classes = args[0], (args[1] if len(args) > 1 else 10)
        expected = np.bincount(labels, minlength=num_classes)
        counts = got[name]
        checks.check_shape(counts, expected.shape, name=name,
                           hint="return one count per class, num_classes in all, zeros included "
                                "(also for the highest classes when they never occur: "
                                "np.bincount needs minlength=num_classes).")
        assert np.issubdtype(counts.dtype, np.integer), (
            f"{name}: expected integer counts; got dtype {counts.dtype}. Hint: count, do not "
            "average.")
        checks.check_close(counts, expected, name=name,
                           hint="entry k is the number of labels equal to k, zeros included.")
