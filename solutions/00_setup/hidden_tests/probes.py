"""Probes of 00_setup's hidden tests: the kernel side (see grading/probe_runtime.py). Each calls
the student's function on the inputs the grader drew for this class run and returns what it
gave; nothing here knows the right answers (verdicts.py, in the grader, decides)."""


def probe_test_normalize_images(answers, inputs):
    normalize_images = answers["normalize_images"]
    return {name: (lambda images=images: normalize_images(images))
            for name, images in inputs.items()}


def probe_test_class_counts(answers, inputs):
    class_counts = answers["class_counts"]
    return {name: (lambda args=args: class_counts(*args)) for name, args in inputs.items()}
