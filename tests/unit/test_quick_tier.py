"""The quick tier is the folder tests/unit: pytest -m quick selects exactly its tests that are not slow."""
import functools
import subprocess
import sys

from helpers import REPO

UNIT = REPO / "tests" / "unit"


@functools.cache
def collected(*args):
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert listed.returncode in (0, 5), listed.stdout[-2000:] + listed.stderr[-2000:]  # 5: nothing collected
    return {line.strip() for line in listed.stdout.splitlines() if "::" in line}


def test_marker_quick_selects_the_unit_folder_and_no_slow_test():
    quick = collected("-m", "quick")
    assert quick and all(test_id.startswith("tests/unit/") for test_id in quick), sorted(quick)[:5]
    unit_not_slow = collected("-m", "not slow", "tests/unit")
    assert quick == unit_not_slow
    assert collected("-m", "slow", "tests/unit/test_release.py")  # the folder has slow tests, and none is quick


def test_every_unit_module_holds_tests():
    modules = sorted(path.name for path in UNIT.glob("test_*.py"))
    assert len(modules) >= 15, modules
    quick = collected("-m", "quick")
    assert {test_id.split("::")[0].rsplit("/", 1)[-1] for test_id in quick} == set(modules)


def test_course_py_test_quick_passes_the_marker_and_every_other_argument():
    import importlib.util
    spec = importlib.util.spec_from_file_location("course_script", REPO / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    assert course.quick_tier(["--quick", "-x", "-k", "wire"]) == ["-m", "quick", "-x", "-k", "wire"]
    assert course.quick_tier(["-m", "not slow"]) == ["-m", "not slow"]
