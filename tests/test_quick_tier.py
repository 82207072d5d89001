"""The quick tier names real test modules, and pytest -m quick selects exactly their tests that are not slow."""
import subprocess
import sys

from conftest import QUICK_MODULES, REPO


def test_the_quick_tier_names_only_existing_test_modules():
    missing = [name for name in QUICK_MODULES if not (REPO / "tests" / name).is_file()]
    assert not missing, f"QUICK_MODULES names files that do not exist: {missing}"
    assert len(set(QUICK_MODULES)) == len(QUICK_MODULES)


def test_marker_quick_selects_the_listed_modules_and_no_slow_test():
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "-m", "quick", *QUICK_MODULES], cwd=REPO / "tests", capture_output=True, text=True,
                            timeout=300)
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert {i.split("::")[0].rsplit("/", 1)[-1] for i in ids} == set(QUICK_MODULES)
    slow = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-m", "quick and slow", "test_release.py"], cwd=REPO / "tests", capture_output=True,
                          text=True, timeout=300)
    assert "::" not in slow.stdout  # test_release.py has slow tests: none is quick


def test_course_py_test_quick_passes_the_marker_and_every_other_argument():
    import importlib.util
    spec = importlib.util.spec_from_file_location("course_script", REPO / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    assert course.quick_tier(["--quick", "-x", "-k", "wire"]) == ["-m", "quick", "-x", "-k", "wire"]
    assert course.quick_tier(["-m", "not slow"]) == ["-m", "not slow"]
