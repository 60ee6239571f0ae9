"""Hidden tests of 00_setup. Probes run in the student's sandboxed kernel after the notebook and
record outputs; verdicts run in the grader and compare them with the solution's (see
grading/verdicts.py). Each verdict checks at least what the visible checks of its cell check."""

import numpy as np

from common import checks


def probe_test_normalize_images(answers):
    normalize_images = answers["normalize_images"]
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)  # the visible test's input
    raw[0, 0, :3] = [0, 51, 255]
    with_channel = np.random.default_rng(10).integers(0, 256, size=(3, 28, 28, 1),
                                                      dtype=np.uint8)
    single = np.full((1, 28, 28), 255, dtype=np.uint8)
    return {"normalize_images(x) for x of shape (5, 28, 28)": lambda: normalize_images(raw),
            "normalize_images(x) for x of shape (3, 28, 28, 1)":
                lambda: normalize_images(with_channel),
            "normalize_images(x) for one white image of shape (1, 28, 28)":
                lambda: normalize_images(single)}


def verdict_test_normalize_images(got, ref):
    for name in ref.values:
        expected = ref[name]
        checks.check_shape(got[name], expected.shape, name=name,
                           hint="return (N, 28, 28, 1): add the channel axis only when it is "
                                "missing.")
        checks.check_dtype(got[name], "float32", name=name,
                           hint="convert with .astype(np.float32).")
        checks.check_close(got[name], expected, atol=1e-6, name=name,
                           hint="every pixel p must become p / 255.")


def probe_test_class_counts(answers):
    class_counts = answers["class_counts"]
    labels = np.random.default_rng(1).integers(0, 10, size=1000)
    return {
        "class_counts([0, 2, 2, 9, 9, 9])": lambda: class_counts(np.array([0, 2, 2, 9, 9, 9])),
        "class_counts([0, 1, 1, 3]), classes 4-9 absent":
            lambda: class_counts(np.array([0, 1, 1, 3])),
        "class_counts([1, 1], num_classes=3)": lambda: class_counts(np.array([1, 1]),
                                                                    num_classes=3),
        "class_counts of 1,000 random labels": lambda: class_counts(labels),
        "class_counts([4], num_classes=12)": lambda: class_counts(np.array([4]), num_classes=12),
    }


def verdict_test_class_counts(got, ref):
    for name in ref.values:
        counts = got[name]
        checks.check_shape(counts, ref[name].shape, name=name,
                           hint="return one count per class, num_classes in all, zeros included "
                                "(also for the highest classes when they never occur: "
                                "np.bincount needs minlength=num_classes).")
        assert np.issubdtype(counts.dtype, np.integer), (
            f"{name}: expected integer counts; got dtype {counts.dtype}. Hint: count, do not "
            "average.")
        checks.check_close(counts, ref[name], name=name,
                           hint="entry k is the number of labels equal to k, zeros included.")
