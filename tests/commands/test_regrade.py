"""Regrades that merge: some students, some items, or only what was NOT GRADED, into the same --out folder.

Other students' rows stay as they were, the regraded cells change, and every
replaced report is kept in reports/earlier/. The nbgrader path: autograde
hw4 on a machine without a GPU, then again for some students where the GPU
items can run (the CuPy stand-in in place of a GPU machine), into the same
gradebook.
"""
import csv
import json
import re
import shutil

import pytest

from autograder.report import STUDENT_GRADED, STUDENT_PARTLY_GRADED
from helpers import GPU_STAND_IN, REPO, run_cli, write_submission
from mutants_hw1 import REFERENCE

ASSIGNMENT = "hw1_activations"
MODULE = "activations.py"
STUB = (REPO / "assignments" / ASSIGNMENT / MODULE).read_text()
EARLIER_NAME = re.compile(r"^(?P<student>[a-z]+)\.\d{8}T\d{6}Z\.json$")
NO_GPU = {"AUTOGRADER_CUPY_STAND_IN": ""}
GPU_ITEMS = ["gpu_correctness", "no_host_transfers", "gpu_speedup"]


def rows_of(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def earlier(out):
    folder = out / "reports" / "earlier"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def graded(tmp_path):
    """alice: the reference; bob: the stub; carl: his module unzipped one folder too deep. Graded once."""
    root = tmp_path / "submitted"
    write_submission(root / "alice", ASSIGNMENT, {MODULE: REFERENCE.read_text()})
    write_submission(root / "bob", ASSIGNMENT, {MODULE: STUB})
    write_submission(root / "carl" / ASSIGNMENT, ASSIGNMENT, {MODULE: REFERENCE.read_text()})
    out = tmp_path / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    return root, out


def test_regrading_some_students_keeps_the_other_rows_and_the_earlier_reports(graded):
    root, out = graded
    before = rows_of(out)
    alice_report = (out / "reports" / "alice.json").read_text()
    bob_report = json.loads((out / "reports" / "bob.json").read_text())
    (root / "bob" / ASSIGNMENT / MODULE).write_text(REFERENCE.read_text())  # bob's late fix, accepted
    shutil.move(root / "carl" / ASSIGNMENT / ASSIGNMENT / MODULE, root / "carl" / ASSIGNMENT / MODULE)
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "bob", "carl", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    after = rows_of(out)
    assert after["alice"] == before["alice"] and (out / "reports" / "alice.json").read_text() == alice_report
    assert float(before["bob"]["score"]) == 0 and float(after["bob"]["score"]) == 14
    assert float(before["carl"]["score"]) == 0 and float(after["carl"]["score"]) == 14
    assert after["carl"]["why"] == "" and after["carl"]["status"] == STUDENT_GRADED
    names = earlier(out)
    assert [EARLIER_NAME.match(n)["student"] for n in names] == ["bob", "carl"]
    kept = json.loads((out / "reports" / "earlier" / names[0]).read_text())
    assert kept == bob_report  # the report replaced, byte for byte the same data
    assert "3 students: 3 graded" in result.stdout


def test_regrading_some_items_replaces_only_those_cells(graded):
    root, out = graded
    before = rows_of(out)
    (root / "bob" / ASSIGNMENT / MODULE).write_text(REFERENCE.read_text())
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "bob", "--item", "relu", "softmax")
    assert result.returncode == 0, result.stderr
    bob = rows_of(out)["bob"]
    assert float(bob["relu"]) == 1 and float(bob["softmax"]) == 3 and float(bob["score"]) == 4
    untouched = [name for name in before["bob"] if name not in ("relu", "softmax", "score", "why")]
    assert {k: bob[k] for k in untouched} == {k: before["bob"][k] for k in untouched}
    lost_items = bob["why"].split(":")[0]
    assert lost_items.startswith("lost points on sigmoid_prime (0/2), relu_prime (0/1)")
    assert " relu (" not in lost_items and "softmax" not in lost_items
    report = json.loads((out / "reports" / "bob.json").read_text())
    assert report["regraded_items"] == ["relu", "softmax"] and len(report["items"]) == 9
    assert report["score"] == sum(i["score"] for i in report["items"])
    # Regrading again keeps both earlier reports, each under its own name.
    run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "bob", "--item", "elu")
    assert [EARLIER_NAME.match(n)["student"] for n in earlier(out)] == ["bob", "bob"]
    assert float(rows_of(out)["bob"]["score"]) == 5


def test_not_graded_only_grades_the_gpu_items_and_skips_students_with_none(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"gpu_network.py": (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()})
    write_submission(root, "bob", {"gpu_network.py": (REPO / "assignments" / "hw4_gpu" / "gpu_network.py").read_text()})
    out = tmp_path / "grades"
    first = run_cli("grade-all", "hw4_gpu", root, "--out", out, "--jobs", "2", env=NO_GPU)
    assert first.returncode == 0, first.stderr
    before = rows_of(out)
    assert before["alice"]["status"] == STUDENT_PARTLY_GRADED and float(before["alice"]["score"]) == 12
    assert "--not-graded-only" in first.stdout  # the summary says how to finish the job
    # On the GPU machine (here the stand-in): only what was NOT GRADED, into the same folder.
    second = run_cli("grade-all", "hw4_gpu", root, "--out", out, "--jobs", "2", "--not-graded-only", env=GPU_STAND_IN)
    assert second.returncode == 0, second.stderr
    after = rows_of(out)
    assert after["alice"]["status"] == STUDENT_GRADED and float(after["alice"]["score"]) == 19
    assert after["alice"]["not_graded"] == "" and after["alice"]["why"] == ""
    alice = json.loads((out / "reports" / "alice.json").read_text())
    assert alice["regraded_items"] == GPU_ITEMS
    for name in ["sigmoid_kernel", "feedforward", "backprop", "train_epoch", "dtype"]:
        assert after["alice"][name] == before["alice"][name]
    assert after["bob"]["status"] == STUDENT_GRADED and float(after["bob"]["score"]) == 0
    # Nothing left NOT GRADED: every student is skipped, saying so, and nothing changes.
    third = run_cli("grade-all", "hw4_gpu", root, "--out", out, "--not-graded-only", env=GPU_STAND_IN)
    assert third.returncode == 0, third.stderr
    assert "skipped alice: no item is NOT GRADED in the current report" in third.stdout
    assert "skipped bob: no item is NOT GRADED in the current report" in third.stdout
    assert rows_of(out) == after and len(earlier(out)) == 2


def test_an_unknown_student_or_item_stops_before_grading(graded):
    root, out = graded
    before = (out / "grades.csv").read_text()
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "zoe")
    assert result.returncode == 1 and result.stderr.strip() == f"cannot grade: no submission folder for zoe in {root}"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--item", "tanh")
    assert result.returncode == 1 and "unknown item(s) for hw1_activations: tanh" in result.stderr
    assert (out / "grades.csv").read_text() == before and earlier(out) == []


@pytest.mark.slow
def test_nbgrader_regrade_of_gpu_items_on_a_gpu_machine_updates_only_those_students(tmp_path):
    """The documented procedure: autograde without a GPU, copy the course to a GPU machine, autograde again
    with --student (or --not-graded-only), copy it back. The stand-in takes the GPU machine's place."""
    from autograder.nbgrader_hooks import REPORT_NAME
    from autograder.release import release
    from helpers import gradebook_totals

    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / "hw4_gpu", course / "solutions" / "hw4_gpu")
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    released = release("hw4_gpu", course)
    for student in ["alice", "bob"]:
        dest = course / "submitted" / student / "hw4_gpu"
        shutil.copytree(released, dest)
        (dest / "gpu_network.py").write_text((REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text())
    first = run_cli("autograde", "hw4_gpu", "--jobs", "2", cwd=course, env=NO_GPU, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert gradebook_totals(course) == {"alice": 12.0, "bob": 12.0}  # the 7 GPU points NOT GRADED
    bob_report = (course / "autograded" / "bob" / "hw4_gpu" / REPORT_NAME).read_text()

    gpu_machine = tmp_path / "gpu-machine" / "course"  # the course copied to the GPU machine
    shutil.copytree(course, gpu_machine, symlinks=True)
    second = run_cli("autograde", "hw4_gpu", "--student", "alice", cwd=gpu_machine,
                     env=GPU_STAND_IN, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    assert gradebook_totals(gpu_machine) == {"alice": 19.0, "bob": 12.0}
    assert (gpu_machine / "autograded" / "bob" / "hw4_gpu" / REPORT_NAME).read_text() == bob_report
    alice = json.loads((gpu_machine / "autograded" / "alice" / "hw4_gpu" / REPORT_NAME).read_text())
    assert alice["score"] == 19 and alice["not_graded"] == []
    # Now every student left with items NOT GRADED (bob): --not-graded-only finds them itself.
    third = run_cli("autograde", "hw4_gpu", "--not-graded-only", cwd=gpu_machine, env=GPU_STAND_IN, timeout=900)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "for 1 student(s)" in third.stdout
    assert gradebook_totals(gpu_machine) == {"alice": 19.0, "bob": 19.0}
