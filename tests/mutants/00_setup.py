"""00_setup: typical wrong answers (MUTANTS) and other correct answers (VARIANTS)."""

MUTANTS = {
    "test_normalize_images": {
        "divides by 256": """
def normalize_images(x_uint8):
    return (np.asarray(x_uint8, np.float32) / 256.0).reshape(-1, 28, 28, 1)
""",
        "integer division": """
def normalize_images(x_uint8):
    return (np.asarray(x_uint8) // 255).astype(np.float32).reshape(-1, 28, 28, 1)
""",
        "no channel axis": """
def normalize_images(x_uint8):
    return np.asarray(x_uint8, np.float32) / 255.0
""",
        "returns float64": """
def normalize_images(x_uint8):
    return (np.asarray(x_uint8) / 255.0).reshape(-1, 28, 28, 1)
""",
        "always appends a channel axis": """
def normalize_images(x_uint8):
    return (np.asarray(x_uint8, np.float32) / 255.0)[..., np.newaxis]
""",
    },
    "test_class_counts": {
        "np.unique drops absent classes": """
def class_counts(labels, num_classes=10):
    return np.unique(labels, return_counts=True)[1]
""",
        "bincount without minlength": """
def class_counts(labels, num_classes=10):
    return np.bincount(labels)
""",
        "counts only up to the largest label present": """
def class_counts(labels, num_classes=10):
    labels = np.asarray(labels)
    return np.array([np.sum(labels == k) for k in range(labels.max() + 1)])
""",
        "fractions instead of counts": """
def class_counts(labels, num_classes=10):
    return np.bincount(labels, minlength=num_classes) / len(labels)
""",
        "ignores num_classes": """
def class_counts(labels, num_classes=10):
    return np.bincount(labels, minlength=10)
""",
    },
}

VARIANTS = {
    "test_normalize_images": {
        "expand_dims when needed": """
def normalize_images(x_uint8):
    x = np.asarray(x_uint8, dtype=np.float32) / 255
    return x if x.ndim == 4 else np.expand_dims(x, -1)
""",
        "TensorFlow ops": """
import tensorflow as tf
def normalize_images(x_uint8):
    return tf.reshape(tf.cast(x_uint8, tf.float32) / 255.0, (-1, 28, 28, 1)).numpy()
""",
    },
    "test_class_counts": {
        "a loop": """
def class_counts(labels, num_classes=10):
    counts = np.zeros(num_classes, dtype=int)
    for label in labels:
        counts[label] += 1
    return counts
""",
        "broadcast comparison": """
def class_counts(labels, num_classes=10):
    return (np.asarray(labels)[:, None] == np.arange(num_classes)).sum(axis=0)
""",
    },
}

# Mutants that pass the visible checks and only the hidden tests (the verdict) catch.
HIDDEN_ONLY = {
    "test_normalize_images": {"always appends a channel axis"},
    "test_class_counts": {"ignores num_classes"},
}
