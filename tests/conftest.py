"""Graded classes shared by test modules (graded once per pytest session, in a temporary
folder): see tests/course.py."""

import pytest

import course


@pytest.fixture(scope="session")
def elbo_class(tmp_path_factory):
    """The course folder of 03_elbo graded for a solution, a blank, a mistake only the hidden
    tests catch and a student who patched the visible checks (course.elbo_class)."""
    return course.elbo_class(tmp_path_factory.mktemp("elbo_class"))
