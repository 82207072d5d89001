"""pytest's fixtures and hooks for the whole suite (shared functions are in tests/helpers.py).

The tests are laid out by kind: unit/ (one module per engine module, the quick tier), grading/ (the
hidden suites against mutants, hostile submissions, sandbox escapes), commands/ (the instructor's and
student's commands), nbgrader/ (real nbgrader runs) and content/ (lectures, glossary, site).
"""
import os

import pytest

from helpers import REPO

UNIT = REPO / "tests" / "unit"


@pytest.fixture(scope="session")
def repo():
    return REPO


# The quick tier (`python3 course.py test --quick`, i.e. pytest -m quick): the engine's own unit tests in
# tests/unit, chosen by measuring (each module a few seconds at most on 2 shared cores, under a minute
# together). None starts nbgrader or grades a class; tests there marked slow stay out of it.
def mark_quick(items):
    for item in items:
        if item.path.parent == UNIT and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.quick)


def pytest_collection_modifyitems(config, items):
    """Mark the quick tier; tests marked gpu run only where CuPy computes on a real GPU (elsewhere they skip,
    saying why)."""
    mark_quick(items)
    marked = [item for item in items if item.get_closest_marker("gpu")]
    if not marked:
        return
    from autograder import gpu
    from autograder.limits import Limits
    from autograder.sandbox import STAND_IN_ENV
    saved = os.environ.pop(STAND_IN_ENV, None)  # the stand-in is not a GPU
    try:
        status = gpu.probe(Limits(gpu=True))
    finally:
        if saved is not None:
            os.environ[STAND_IN_ENV] = saved
    if not status["available"]:
        skip = pytest.mark.skip(reason=f"no usable CUDA GPU here ({status['reason']})")
        for item in marked:
            item.add_marker(skip)
