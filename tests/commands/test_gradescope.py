"""The Gradescope autograder zip: its layout, setup.sh's pins, and run_autograder run for real.

End-to-end runs unpack the zip into a temporary folder laid out as Gradescope's /autograder, put a
submission in submission/, and run run_autograder inside bubblewrap with that folder at /autograder,
using this machine's Python instead of setup.sh.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from autograder import assignments, cli, gradescope
from mutants_hw1 import MUTANTS, REFERENCE, mutant_source

REPO = Path(__file__).resolve().parents[2]
STUB = REPO / "assignments" / "hw1_activations" / "activations.py"
HW4_REFERENCE = REPO / "solutions" / "hw4_gpu" / "gpu_network.py"
HIDDEN_HW1 = REPO / "autograder" / "hidden" / "test_hw1_activations.py"
HIDDEN_HW4 = REPO / "autograder" / "hidden" / "test_hw4_gpu.py"
BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason="bubblewrap (bwrap) is not installed here")

# Gradescope's results.json fields (autograder specification) and the values some of them take.
TOP_FIELDS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
              "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
               "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "gradescope", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def hw1_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "hw1.zip"
    done = run_module("hw1_activations", "--out", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def hw4_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip4") / "hw4.zip"
    done = run_module("hw4_gpu", "--out", out)
    assert done.returncode == 0, done.stderr
    return out


# ---------------------------------------------------------------- the zip

def test_zip_has_setup_and_run_autograder_at_its_root_executable(hw1_zip):
    with zipfile.ZipFile(hw1_zip) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        config = json.loads(z.read("gradescope_config.json"))
    assert "setup.sh" in names and "run_autograder" in names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert "autograder/hidden/test_hw1_activations.py" in names
    assert "autograder/grading.py" in names and "autograder/worker.py" in names
    assert config["assignment"] == "hw1_activations" and config["visibility"] == "visible"
    # Only this assignment's hidden suite ships; nothing of the solutions or the nbgrader path.
    others = [n for n in names if n.startswith("autograder/hidden/test_") and "hw1" not in n]
    assert others == []
    assert not [n for n in names if n.startswith(("solutions/", "autograder/nbgrader_", "autograder/class_"))]
    assert not [n for n in names if "__pycache__" in n]


def test_setup_sh_is_valid_bash_and_pins_the_installed_versions(hw1_zip, tmp_path):
    with zipfile.ZipFile(hw1_zip) as z:
        setup = z.read("setup.sh").decode()
        requirements = z.read("requirements.txt").decode()
    (tmp_path / "setup.sh").write_text(setup)
    check = subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "@" not in re.sub(r"[\w.-]+@[\w.-]+", "", setup.replace("$@", ""))  # no template slot left
    pins = dict(line.split("==") for line in requirements.split())
    for name in ("numpy", "pytest", "tqdm", "pluggy", "iniconfig"):
        assert pins[name] == metadata.version(name), name
    for unneeded in ("jupyter", "nbgrader", "notebook", "matplotlib", "ipykernel"):
        assert unneeded not in pins
    assert "apt-get install" in setup and "bubblewrap" in setup
    assert "-r /autograder/source/requirements.txt" in setup
    numpy_needs = re.search(r">=\s*(3\.\d+)", metadata.metadata("numpy")["Requires-Python"]).group(1)
    assert f'MIN_PYTHON="{numpy_needs}"' in setup


def test_hw2_zip_ships_mnist_loader_and_data_or_downloads_it(tmp_path):
    out = tmp_path / "hw2.zip"
    assert run_module("hw2_backprop", "--out", out, "--no-mnist").returncode == 0
    with zipfile.ZipFile(out) as z:
        assert "mnist_loader.py" in z.namelist()
        assert not [n for n in z.namelist() if n.startswith("data/")]
        assert "mnist_loader download" in z.read("setup.sh").decode()
        assert "autograder/hidden/reference_sgd.py" in z.namelist()


@pytest.mark.parametrize("args, says", [
    (["hw9_nothing", "--out", "{tmp}/x.zip"], "unknown assignment 'hw9_nothing'"),
    (["hw1_activations", "--out", "{tmp}/no/such/folder/x.zip"], "does not exist"),
    (["hw1_activations", "--out", "{tmp}"], "is a folder"),
])
def test_bad_input_is_one_line_exit_1_and_writes_nothing(tmp_path, args, says):
    before = sorted(tmp_path.rglob("*"))
    done = run_module(*[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 1
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_a_failed_build_leaves_an_existing_zip_untouched(tmp_path, monkeypatch):
    out = tmp_path / "hw1.zip"
    out.write_bytes(b"the zip from last week")

    def broken(*args, **kwargs):
        raise gradescope.BuildError("pretend the environment lacks numpy")
    monkeypatch.setattr(gradescope, "pinned_requirements", broken)
    assert cli.main(["gradescope", "hw1_activations", "--out", str(out)]) == 1
    assert out.read_bytes() == b"the zip from last week"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hw1.zip"]


def test_help_says_what_it_writes():
    done = run_module("--help")
    assert done.returncode == 0
    assert "setup.sh" in done.stdout and "results.json" in done.stdout and "--visibility" in done.stdout


# ---------------------------------------------------------------- finding the module in an upload

HW1 = assignments.get("hw1_activations")


def test_module_at_the_top_of_the_upload(tmp_path):
    (tmp_path / "activations.py").write_text("x = 1\n")
    assert gradescope.find_module_folder(tmp_path, HW1) == (tmp_path, None)


def test_module_one_folder_down_is_found_and_said(tmp_path):
    (tmp_path / "hw1_activations").mkdir()
    (tmp_path / "hw1_activations" / "activations.py").write_text("x = 1\n")
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "activations.py").write_text("debris\n")
    folder, note = gradescope.find_module_folder(tmp_path, HW1)
    assert folder == tmp_path / "hw1_activations"
    assert "hw1_activations/activations.py" in note


def test_module_in_the_course_repository_layout(tmp_path):
    nested = tmp_path / "assignments" / "hw1_activations"
    nested.mkdir(parents=True)
    (nested / "activations.py").write_text("x = 1\n")
    folder, note = gradescope.find_module_folder(tmp_path, HW1)
    assert folder == nested and "assignments/hw1_activations/" in note


def test_two_copies_are_not_guessed_between(tmp_path):
    for name in ("old", "new"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "activations.py").write_text("x = 1\n")
    folder, note = gradescope.find_module_folder(tmp_path, HW1)
    assert folder == tmp_path and "several folders" in note and "new/" in note and "old/" in note


def test_a_missing_module_names_what_the_upload_holds(tmp_path):
    (tmp_path / "activation.py").write_text("x = 1\n")
    folder, note = gradescope.find_module_folder(tmp_path, HW1)
    assert folder == tmp_path
    assert "activations.py not found" in note and "activation.py" in note


def test_a_linked_folder_is_not_followed(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "activations.py").write_text("x = 1\n")
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "hw1").symlink_to(real)
    folder, note = gradescope.find_module_folder(upload, HW1)
    assert folder == upload and "not found" in note


# ---------------------------------------------------------------- results.json, without a real grading

def test_scrub_removes_lines_that_contain_hidden_source():
    secrets = gradescope.secret_lines(REPO)
    line = next(s for s in secrets if "def test_" in s)
    text = f"first line\nerror near: {line} (sic)\nlast line"
    assert gradescope.scrub(text, secrets) == f"first line\n{gradescope.REMOVED}\nlast line"


def test_grading_that_cannot_start_still_writes_results_with_score_0(tmp_path):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)   # no gradescope_config.json: the autograder is broken
    (root / "submission").mkdir()
    assert gradescope.run_in_gradescope(root) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    validate_results(results)
    assert results["score"] == 0
    assert "could not be graded" in results["output"] and "tell your instructor" in results["output"]


def test_an_engine_that_cannot_grade_gives_score_0_and_its_reason(tmp_path, hw1_zip):
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": REFERENCE.read_text()})
    (root / "source" / "autograder" / "hidden" / "test_hw1_activations.py").unlink()
    assert gradescope.run_in_gradescope(root) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    validate_results(results, HW1)
    assert results["score"] == 0 and results["extra_data"]["status"] == "could not grade"
    assert "could not be graded: cannot grade: the hidden suite for hw1_activations is not installed" in results["output"]
    assert all(t["output"].startswith("not graded: cannot grade:") for t in results["tests"])


# ---------------------------------------------------------------- end to end, in a stand-in /autograder

def validate_results(results, assignment=None):
    """Check results.json against Gradescope's specification (fields, types, allowed values)."""
    assert set(results) <= TOP_FIELDS, set(results) - TOP_FIELDS
    assert isinstance(results["score"], (int, float))
    assert isinstance(results.get("execution_time", 0), int)
    assert isinstance(results["output"], str)
    assert results.get("output_format", "text") in FORMATS
    assert results.get("stdout_visibility", "hidden") in VISIBILITY
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("visibility", "visible") in VISIBILITY
        assert test.get("status", "passed") in {"passed", "failed"}
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    if assignment is not None:
        assert [t["name"].split(":")[0] for t in results["tests"]] == [i.name for i in assignment.items]
        assert sum(t["max_score"] for t in results["tests"]) == assignment.max_score


def assert_no_hidden_line(results_file, hidden_suite):
    """No line of the hidden suite longer than 20 characters, in the file or in any string in it."""
    raw = results_file.read_text()
    strings = []

    def collect(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)
    collect(json.loads(raw))
    text = "\n".join(strings)
    for line in hidden_suite.read_text().splitlines():
        line = line.strip()
        if len(line) > 20:
            assert line not in raw and line not in text, line


def stand_in_root(tmp_path, zip_path, files):
    """A folder laid out as Gradescope's /autograder: source/ (the zip), run_autograder, submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for relative, source in files.items():
        target = root / "submission" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    return root


def run_autograder(root, own_proc=True, python=sys.executable):
    """run_autograder inside bubblewrap with ``root`` at /autograder and the rest of this machine read-only.

    ``own_proc``: the box gets a new /proc, as a Docker container does; the grader's own sandbox then
    cannot mount /proc inside it (nesting refused). ``own_proc=False`` shares this machine's /proc, and
    the grader's sandbox starts inside.
    """
    argv = [BWRAP]
    for entry in sorted(Path("/").iterdir()):
        if entry.name in ("proc", "dev", "tmp", "autograder"):
            continue
        if entry.is_symlink():
            argv += ["--symlink", os.readlink(entry), str(entry)]
        else:
            argv += ["--ro-bind", str(entry), str(entry)]
    argv += ["--tmpfs", "/tmp", "--bind", str(root), "/autograder", "--dev", "/dev",
             *(["--proc", "/proc"] if own_proc else ["--bind", "/proc", "/proc"]),
             "--setenv", "AUTOGRADER_PYTHON", python, "--chdir", "/autograder", "/autograder/run_autograder"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results_file = root / "results" / "results.json"
    return json.loads(results_file.read_text()), results_file, done.stdout


@needs_bwrap
def test_reference_scores_full_in_a_nested_sandbox(tmp_path, hw1_zip):
    root = stand_in_root(tmp_path, hw1_zip, {"hw1_activations/activations.py": REFERENCE.read_text()})
    results, results_file, stdout = run_autograder(root, own_proc=False)
    validate_results(results, HW1)
    assert results["score"] == 14
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"]["sandbox"] == "bubblewrap"
    assert "hw1_activations/activations.py" in results["output"]   # where the module was found
    assert "cannot make the grader's sandbox" not in results["output"]
    assert_no_hidden_line(results_file, HIDDEN_HW1)


@needs_bwrap
def test_reference_scores_full_where_the_sandbox_cannot_nest_and_says_so(tmp_path, hw1_zip):
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": REFERENCE.read_text()})
    results, results_file, stdout = run_autograder(root, own_proc=True)
    validate_results(results, HW1)
    assert results["score"] == 14
    assert results["extra_data"]["sandbox"] == "none"
    assert "bubblewrap cannot make the grader's sandbox inside this container" in results["output"]
    assert "Can't mount proc" in results["output"]
    assert "without file-system isolation" in stdout
    assert_no_hidden_line(results_file, HIDDEN_HW1)


@needs_bwrap
def test_released_stub_scores_0(tmp_path, hw1_zip):
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": STUB.read_text()})
    results, results_file, _ = run_autograder(root, own_proc=False)
    validate_results(results, HW1)
    assert results["score"] == 0
    assert all(t["status"] == "failed" and t["output"] for t in results["tests"])
    assert_no_hidden_line(results_file, HIDDEN_HW1)


@needs_bwrap
def test_a_mutant_scores_short_of_full_on_its_item(tmp_path, hw1_zip):
    name = "relu_prime_one_at_zero"
    item = MUTANTS[name][0]
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": mutant_source(name)})
    results, results_file, _ = run_autograder(root, own_proc=False)
    validate_results(results, HW1)
    by_item = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert 0 < results["score"] < 14
    assert by_item[item]["score"] < by_item[item]["max_score"] and by_item[item]["status"] == "failed"
    assert "checks passed" in by_item[item]["output"]
    assert all(t["score"] == t["max_score"] for n, t in by_item.items() if n != item)
    assert_no_hidden_line(results_file, HIDDEN_HW1)


@needs_bwrap
def test_a_submission_that_prints_the_hidden_suite_has_it_removed(tmp_path, hw1_zip):
    # Where the grader's sandbox cannot nest, student code can read the autograder's files; the
    # feedback it provokes (an import error carrying the suite's text) is scrubbed before it is shown.
    hostile = ("text = open('/autograder/source/autograder/hidden/test_hw1_activations.py').read()\n"
               "raise ImportError(text[:4000])\n")
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": hostile})
    results, results_file, _ = run_autograder(root, own_proc=True)
    validate_results(results, HW1)
    assert results["score"] == 0
    assert gradescope.REMOVED in results_file.read_text()
    assert_no_hidden_line(results_file, HIDDEN_HW1)


@needs_bwrap
def test_hw4_gpu_items_are_not_graded_with_the_reason(tmp_path, hw4_zip):
    root = stand_in_root(tmp_path, hw4_zip, {"gpu_network.py": HW4_REFERENCE.read_text()})
    env_before = os.environ.pop("AUTOGRADER_CUPY_STAND_IN", None)
    try:
        results, results_file, _ = run_autograder(root, own_proc=False)
    finally:
        if env_before is not None:
            os.environ["AUTOGRADER_CUPY_STAND_IN"] = env_before
    hw4 = assignments.get("hw4_gpu")
    validate_results(results, hw4)
    gpu_items = [i.name for i in hw4.items if i.needs_gpu]
    by_item = {t["name"].split(":")[0]: t for t in results["tests"]}
    for name in gpu_items:
        assert by_item[name]["score"] == 0
        assert by_item[name]["output"].startswith("NOT GRADED: ") and "GPU" in by_item[name]["output"]
        assert "status" not in by_item[name]   # neither passed nor failed
    cpu_points = sum(i.points for i in hw4.items if not i.needs_gpu)
    assert results["score"] == cpu_points
    assert "NOT GRADED on Gradescope (it has no GPU): " + ", ".join(gpu_items) in results["output"]
    assert results["extra_data"]["status"] == "items not graded"
    assert_no_hidden_line(results_file, HIDDEN_HW4)


@needs_bwrap
def test_run_autograder_writes_results_even_when_python_cannot_start(tmp_path, hw1_zip):
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": REFERENCE.read_text()})
    results, _, _ = run_autograder(root, python="/bin/false")
    validate_results(results)
    assert results["score"] == 0 and "could not be graded" in results["output"]


BLOCK_UNPINNED = """
import importlib.abc, importlib.machinery, sys
allowed = {ALLOWED}
class Unpinned(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if path is None and name not in allowed:
            spec = importlib.machinery.PathFinder.find_spec(name)
            if spec is not None and "site-packages" in str(spec.origin or spec.submodule_search_locations):
                raise ImportError(f"{name} is not among the packages setup.sh installs")
        return None
sys.meta_path.insert(0, Unpinned())
import runpy
sys.argv = ["autograder", *sys.argv[1:]]
runpy.run_module("autograder", run_name="__main__")
"""


def test_grading_from_the_zip_needs_only_the_pinned_packages(tmp_path, hw1_zip):
    # setup.sh installs requirements.txt only; an engine import of anything else (matplotlib, nbgrader...)
    # would fail on Gradescope, so here every import outside the standard library and the pins fails.
    root = stand_in_root(tmp_path, hw1_zip, {"activations.py": REFERENCE.read_text()})
    with zipfile.ZipFile(hw1_zip) as z:
        pins = [line.split("==")[0] for line in z.read("requirements.txt").decode().split()]
    import_names = {"pytest": ["pytest", "_pytest", "py"]}
    allowed = {n for p in pins for n in import_names.get(p, [p.replace("-", "_")])} | {"autograder", "mnist_loader"}
    script = BLOCK_UNPINNED.replace("ALLOWED", ", ".join(repr(n) for n in sorted(allowed)))
    done = subprocess.run([sys.executable, "-c", script, "grade", "hw1_activations", root / "submission",
                           "--json", tmp_path / "r.json"], cwd=root / "source", capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 14


@pytest.mark.slow
@needs_bwrap
def test_hw2_learning_is_graded_with_the_mnist_in_the_zip(tmp_path):
    zip_path = tmp_path / "hw2.zip"
    assert run_module("hw2_backprop", "--out", zip_path).returncode == 0
    with zipfile.ZipFile(zip_path) as z:
        assert [n for n in z.namelist() if n.startswith("data/mnist/")], "no MNIST found on this machine to ship"
    network = REPO / "solutions" / "hw2_backprop" / "network.py"
    root = stand_in_root(tmp_path, zip_path, {"network.py": network.read_text()})
    results, results_file, _ = run_autograder(root, own_proc=False)
    validate_results(results, assignments.get("hw2_backprop"))
    learning = next(t for t in results["tests"] if t["name"].startswith("learning:"))
    assert learning["score"] == learning["max_score"] and "held out" in learning["output"]
    assert_no_hidden_line(results_file, REPO / "autograder" / "hidden" / "test_hw2_backprop.py")
