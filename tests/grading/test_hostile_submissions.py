"""Hostile submissions: each is graded to completion, harms nothing, earns nothing undeserved.

Most are the reference with one function sabotaged, so the test can demand
that exactly the sabotaged item is lost and every other item keeps full marks
(a misbehaving call costs only the items that needed it).
"""
import hashlib
import os
import re
import time

import pytest

from autograder import sandbox
from helpers import REPO, grade_folder, grade_many, write_submission
from mutants_hw1 import REFERENCE

ASSIGNMENT = "hw1_activations"
STUB = (REPO / "assignments" / ASSIGNMENT / "activations.py").read_text()
REF = REFERENCE.read_text()
CALL_TIMEOUT = "2"


def sabotage(function, code):
    """The reference whose ``function`` first runs ``code`` (one indented block)."""
    pattern = rf'(def {function}\(.*?\n    """.*?"""\n)'
    match = re.search(pattern, REF, re.S)
    assert match, function
    block = "".join(f"    {line}\n" for line in code.strip().splitlines())
    return REF[:match.end()] + block + REF[match.end():]


AT_IMPORT = {
    "sys_exit_at_import": ("import sys\nsys.exit(3)\n" + REF, "SystemExit"),
    "os_exit_at_import": ("import os\nos._exit(0)\n" + REF, "exited with status 0"),
    "raises_at_import": ("raise RuntimeError('boom')\n" + REF, "RuntimeError: boom"),
    "syntax_error": (REF + "\ndef broken(:\n", "SyntaxError"),
}

# name -> (sabotaged item, source, words expected in that item's feedback)
IN_FUNCTION = {
    "sys_exit_in_function": ("sigmoid_prime", sabotage("sigmoid_prime", "import sys\nsys.exit(0)"), "SystemExit"),
    "os_exit_in_function": ("relu", sabotage("relu", "import os\nos._exit(1)"), "exited with status 1"),
    "infinite_loop_ignoring_sigterm": ("softmax", sabotage(
        "softmax", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"),
        "no answer within"),
    "memory_bomb_numpy": ("elu", sabotage("elu", "big = np.ones((1 << 31,))"), "MemoryError"),
    "memory_bomb_python": ("elu_prime", sabotage("elu_prime", "big = [0] * (1 << 33)"), "MemoryError"),
    "segfault": ("leaky_relu", sabotage("leaky_relu", "import ctypes\nctypes.string_at(0)"), "SIGSEGV"),
    "deep_recursion": ("relu_prime", sabotage(
        "relu_prime", "import sys\nsys.setrecursionlimit(10**8)\ndef down(n):\n    return down(n + 1) + 1\ndown(0)"),
        ("SIGSEGV", "RecursionError", "MemoryError", "no answer within")),
    "huge_output": ("leaky_relu_prime", sabotage(
        "leaky_relu_prime", "import sys\nfor _ in range(200000):\n    print('x' * 1000)"), "printed more than the output limit"),
    "huge_return_value": ("numerical_gradient", sabotage(
        "numerical_gradient", "return np.ones(10_000_000)"), ("more than 64 MiB", "no answer within")),
    "lying_array_like": ("softmax", sabotage("softmax", (
        "class Liar:\n    shape = np.shape(z)\n    dtype = np.dtype('float64')\n"
        "    def __eq__(self, other):\n        return True\n    def __array__(self, *a, **k):\n"
        "        return np.asarray(z, dtype=float)\n    def __float__(self):\n        return 0.25\n"
        "return Liar()")), "object of type Liar"),
    "ndarray_subclass": ("relu", sabotage("relu", (
        "class Sneaky(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "return np.maximum(np.asarray(z, dtype=float), 0).view(Sneaky)")), "Sneaky"),
    "returns_list": ("relu", sabotage("relu", "return np.maximum(np.asarray(z, float), 0).tolist()"), "got a "),
    "returns_string": ("sigmoid_prime", sabotage("sigmoid_prime", "return '0.25'"), "got a str"),
    "returns_none": ("elu", sabotage("elu", "return None"), "NoneType"),
    "returns_wrong_dtype": ("elu_prime", sabotage("elu_prime", "return np.asarray(z, dtype=np.float16)"),
                            "float16"),
}

CORRECT_FOR_SCALARS = {"returns_list", "ndarray_subclass"}

PATCHES_NUMPY = STUB + """
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.array_equal = lambda *a, **k: True
numpy.max = lambda *a, **k: 0.0
"""

SHADOW_FILES = {
    "numpy.py": "raise SystemExit('shadowed numpy imported')\n",
    "pytest.py": "raise SystemExit('shadowed pytest imported')\n",
    "conftest.py": ("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                    "def pytest_runtest_makereport(item, call):\n    outcome = yield\n"
                    "    outcome.get_result().outcome = 'passed'\n"),
    "sitecustomize.py": "open('/tmp/autograder-sitecustomize-ran', 'w').write('x')\n",
    "usercustomize.py": "open('/tmp/autograder-usercustomize-ran', 'w').write('x')\n",
    "wire.py": "raise SystemExit('shadowed wire imported')\n",
}


@pytest.fixture(scope="session")
def hostile_reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    folders = [write_submission(root, name, {"activations.py": src}) for name, (src, _) in AT_IMPORT.items()]
    folders += [write_submission(root, name, {"activations.py": src}) for name, (_, src, _) in IN_FUNCTION.items()]
    folders.append(write_submission(root, "patches_numpy", {"activations.py": PATCHES_NUMPY}))
    folders.append(write_submission(root, "shadows_stub", {"activations.py": STUB, **SHADOW_FILES}))
    folders.append(write_submission(root, "shadows_reference", {"activations.py": REF, **SHADOW_FILES}))
    started = time.monotonic()
    graded = grade_many(ASSIGNMENT, folders, "--call-timeout", CALL_TIMEOUT)
    graded["_elapsed"] = time.monotonic() - started
    return graded


def _report(hostile_reports, name):
    result, report = hostile_reports[name]
    assert result.returncode == 0, f"{name}: grading did not complete: {result.stderr[-500:]}"
    assert report is not None
    return report


@pytest.mark.parametrize("name", sorted(AT_IMPORT))
def test_failing_import_scores_zero_with_reason(hostile_reports, name):
    report = _report(hostile_reports, name)
    assert report["score"] == 0
    words = AT_IMPORT[name][1]
    assert all(words in i["feedback"] for i in report["items"]), report["items"][0]["feedback"]


@pytest.mark.parametrize("name", sorted(IN_FUNCTION))
def test_sabotage_costs_only_its_item(hostile_reports, name):
    item_name, _, words = IN_FUNCTION[name]
    report = _report(hostile_reports, name)
    for item in report["items"]:
        if item["name"] == item_name:
            if name in CORRECT_FOR_SCALARS:  # a float for a scalar input is a right answer
                assert item["score"] < item["max_score"], f"{name}: {item['feedback']}"
            else:
                assert item["score"] == 0, f"{name}: {item['feedback']}"
            alternatives = (words,) if isinstance(words, str) else words
            assert any(w in item["feedback"] for w in alternatives), item["feedback"]
        else:
            assert item["score"] == item["max_score"], f"{name} hurt {item['name']}: {item['feedback']}"


def test_timeouts_are_not_retried_for_every_check(hostile_reports):
    # One 2 s timeout for the looping item, not one per check (softmax has 7).
    result, report = hostile_reports["infinite_loop_ignoring_sigterm"]
    assert report["elapsed_s"] < 20


def test_patching_numpy_in_the_worker_changes_nothing(hostile_reports):
    assert _report(hostile_reports, "patches_numpy")["score"] == 0


def test_shadowing_files_are_ignored(hostile_reports):
    assert _report(hostile_reports, "shadows_stub")["score"] == 0
    assert _report(hostile_reports, "shadows_reference")["score"] == 14
    assert not os.path.exists("/tmp/autograder-sitecustomize-ran")
    assert not os.path.exists("/tmp/autograder-usercustomize-ran")


def test_a_correct_submission_that_prints_and_warns_scores_full(tmp_path):
    chatty = REF.replace("import numpy as np\n", (
        "import numpy as np\nimport sys\nimport warnings\nprint('loading my activations!')\n"
        "warnings.warn('this module is chatty')\n"), 1)
    for function in ("sigmoid_prime", "relu", "softmax", "numerical_gradient"):
        chatty = chatty.replace(f"def {function}(", f"def _{function}(", 1)
        chatty += (f"\ndef {function}(*args, **kwargs):\n    print('calling {function}', args[-1:] and type(args[-1]))\n"
                   f"    print('to stderr too', file=sys.stderr)\n"
                   f"    warnings.warn('{function} is being graded', UserWarning)\n"
                   f"    return _{function}(*args, **kwargs)\n")
    folder = write_submission(tmp_path, "chatty", {"activations.py": chatty})
    result, report = grade_folder(ASSIGNMENT, folder)
    assert result.returncode == 0
    assert report["score"] == 14, [i["feedback"] for i in report["items"] if i["score"] < i["max_score"]]


def _fingerprint(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.skipif(not sandbox.sandbox_available(),
                    reason="bubblewrap is not installed: without it the worker can read any file the grader can")
def test_reading_the_solution_or_suites_from_disk_fails(tmp_path):
    targets = [REFERENCE, REPO / "autograder" / "hidden" / "test_hw1_activations.py"]
    before = _fingerprint(targets)
    thief = STUB + f"""
import os
_stolen = None
for _path in [{str(REFERENCE)!r}] + [os.path.join(d, 'solutions/hw1_activations/activations.py')
                                      for d, _, _ in os.walk('/')]:
    try:
        _stolen = open(_path).read()
        break
    except OSError:
        pass
if _stolen:
    exec(compile(_stolen, 'stolen', 'exec'))
for _target in {[str(t) for t in targets]!r}:
    try:
        open(_target, 'a').write('\\n# tampered\\n')
    except OSError:
        pass
"""
    folder = write_submission(tmp_path, "thief", {"activations.py": thief})
    result, report = grade_folder(ASSIGNMENT, folder, "--call-timeout", "30")
    assert result.returncode == 0, result.stderr
    assert report["score"] == 0
    assert report["sandbox"] == "bubblewrap"
    assert _fingerprint(targets) == before


def test_grader_warns_loudly_without_a_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NO_SANDBOX", "1")
    folder = write_submission(tmp_path, "ref", {"activations.py": REF})
    result, report = grade_folder(ASSIGNMENT, folder, "--item", "relu")
    assert result.returncode == 0
    assert report["sandbox"] == "none"
    assert "WARNING: bubblewrap is not available" in result.stdout


def test_a_symlink_to_the_reference_earns_nothing(tmp_path):
    folder = tmp_path / "linker"
    folder.mkdir()
    (folder / "activations.py").symlink_to(REFERENCE)
    result, report = grade_folder(ASSIGNMENT, folder)
    assert result.returncode == 0 and report["score"] == 0
    assert "symbolic link" in report["items"][0]["feedback"]


def test_an_oversized_module_is_refused(tmp_path):
    folder = write_submission(tmp_path, "huge", {"activations.py": REF + "#" * (2 * 1024 * 1024)})
    result, report = grade_folder(ASSIGNMENT, folder)
    assert result.returncode == 0 and report["score"] == 0
    assert "larger than" in report["items"][0]["feedback"]


def test_slow_code_cannot_hold_the_grader_past_its_time_budget(tmp_path):
    # Every call sleeps 0.4 s: under the per-call limit, but 60 checks would take 24 s.
    slow = REF.replace("import numpy as np\n", "import numpy as np\nimport time\n", 1)
    slow = slow.replace('def sigmoid(z):\n', 'def sigmoid(z):\n    time.sleep(0.4)\n', 1)
    slow += "\n_relu = relu\ndef relu(z):\n    time.sleep(0.4)\n    return _relu(z)\n"
    folder = write_submission(tmp_path, "slow", {"activations.py": slow})
    started = time.monotonic()
    result, report = grade_folder(ASSIGNMENT, folder, "--time-budget", "3")
    assert result.returncode == 0
    assert time.monotonic() - started < 20
    assert report["score"] < report["max_score"]
    assert any("ran out" in i["feedback"] for i in report["items"])
