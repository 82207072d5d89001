"""Links and special files in a submission: `grade` and `grade-all` refuse them, and say why.

A submission folder (or the module in it) that is a symbolic link, a hard
link, a named pipe or a device scores 0 with the reason, whatever it points
at (here: the reference solution, which would score full marks if followed,
and a classmate, whose files must come out unchanged). nbgrader gives the same
grades through the same engine (tests/nbgrader/test_nbgrader_messy_class.py).
"""
import csv
import json
import os
import stat

import pytest

from helpers import REPO, grade_folder, run_cli, tree_fingerprint, write_submission
from mutants_hw1 import REFERENCE

ASSIGNMENT = "hw1_activations"
REF = REFERENCE.read_text()
FOLDER_LINK = "the submission folder is a symbolic link; submit the folder itself"


def feedback(report):
    return {i["feedback"] for i in report["items"]}


def test_a_folder_linked_to_the_solution_scores_zero_with_the_reason(tmp_path):
    folder = tmp_path / "mallory"
    folder.symlink_to(REPO / "solutions" / ASSIGNMENT)
    result, report = grade_folder(ASSIGNMENT, folder)
    assert result.returncode == 0, result.stderr
    assert report["score"] == 0 and report["max_score"] == 14
    assert feedback(report) == {FOLDER_LINK}
    assert FOLDER_LINK in result.stdout


def test_a_module_linked_or_special_scores_zero_with_the_reason(tmp_path):
    cases = {"symlink": "activations.py is a symbolic link; submit the file itself",
             "hardlink": "activations.py is a hard link to another file; submit the file itself",
             "fifo": "activations.py is a named pipe; submit the file itself"}
    (tmp_path / "classmate").mkdir()
    classmate = tmp_path / "classmate" / "activations.py"
    classmate.write_text(REF)
    for name in cases:
        (tmp_path / name).mkdir()
    (tmp_path / "symlink" / "activations.py").symlink_to(classmate)
    os.link(classmate, tmp_path / "hardlink" / "activations.py")
    os.mkfifo(tmp_path / "fifo" / "activations.py")
    if os.geteuid() == 0:
        os.mknod(tmp_path / "device.py", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
        (tmp_path / "device").mkdir()
        os.rename(tmp_path / "device.py", tmp_path / "device" / "activations.py")
        cases["device"] = "activations.py is a device; submit the file itself"
    before = tree_fingerprint(tmp_path / "classmate")
    for name, reason in cases.items():
        result, report = grade_folder(ASSIGNMENT, tmp_path / name)  # a pipe or device must not block
        assert result.returncode == 0, (name, result.stderr)
        assert report["score"] == 0 and feedback(report) == {reason}, (name, report)
    assert tree_fingerprint(tmp_path / "classmate") == before


def test_a_file_in_place_of_the_folder_scores_zero(tmp_path):
    (tmp_path / "flat").write_text(REF)
    result, report = grade_folder(ASSIGNMENT, tmp_path / "flat")
    assert result.returncode == 0 and report["score"] == 0
    assert feedback(report) == {"the submission is a file, not a folder"}
    assert run_cli("grade", ASSIGNMENT, tmp_path / "nowhere").returncode == 1  # a typo is still an error


def test_grade_all_lists_every_student_and_follows_no_link(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root / "alice", ASSIGNMENT, {"activations.py": REF})
    write_submission(root / "bob", ASSIGNMENT, {"activations.py": REF})
    (root / "carol").mkdir()
    (root / "carol" / ASSIGNMENT).symlink_to(REPO / "solutions" / ASSIGNMENT)  # assignment folder a link
    (root / "dan").symlink_to(root / "bob")                                    # student folder a link
    write_submission(root / "erin", ASSIGNMENT, {})
    (root / "erin" / ASSIGNMENT / "activations.py").symlink_to(root / "bob" / ASSIGNMENT / "activations.py")
    (root / "fay").mkdir()
    (root / "fay" / ASSIGNMENT).write_text(REF)                                # a file, not a folder
    write_submission(root / "gus", ASSIGNMENT, {})
    os.mkfifo(root / "gus" / ASSIGNMENT / "activations.py")
    out = tmp_path / "grades"
    (out / "reports").mkdir(parents=True)
    victim = tmp_path / "gradebook.db"
    victim.write_text("grades")
    (out / "grades.csv").symlink_to(victim)                 # reports and CSV are written fresh, not through links
    (out / "reports" / "alice.json").symlink_to(victim)
    before = tree_fingerprint(root)
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: float(row["score"]) for row in csv.DictReader(f)}
    assert rows == {"alice": 14, "bob": 14, "carol": 0, "dan": 0, "erin": 0, "fay": 0, "gus": 0}
    reasons = {s: feedback(json.loads((out / "reports" / f"{s}.json").read_text())) for s in rows}
    assert reasons["carol"] == reasons["dan"] == {FOLDER_LINK}
    assert reasons["erin"] == {"activations.py is a symbolic link; submit the file itself"}
    assert reasons["fay"] == {"the submission is a file, not a folder"}
    assert reasons["gus"] == {"activations.py is a named pipe; submit the file itself"}
    assert victim.read_text() == "grades"
    assert not (out / "grades.csv").is_symlink() and not (out / "reports" / "alice.json").is_symlink()
    assert not [p for p in (out / "reports").iterdir() if p.name.endswith(".tmp")]
    assert tree_fingerprint(root) == before


@pytest.mark.parametrize("layout", ["nbgrader", "flat"])
def test_the_same_submission_scores_the_same_through_grade_and_grade_all(tmp_path, layout):
    root = tmp_path / "submitted"
    module = (REPO / "assignments" / ASSIGNMENT / "activations.py").read_text()
    if layout == "nbgrader":
        write_submission(root / "alice", ASSIGNMENT, {"activations.py": module})
        folder = root / "alice" / ASSIGNMENT
    else:
        folder = write_submission(root, "alice", {"activations.py": module})
    (root / "mallory").symlink_to(REPO / "solutions" / ASSIGNMENT)
    out = tmp_path / "grades"
    assert run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--seed", "7").returncode == 0
    for student, path in [("alice", folder), ("mallory", root / "mallory")]:
        _, alone = grade_folder(ASSIGNMENT, path, "--seed", "7")
        batch = json.loads((out / "reports" / f"{student}.json").read_text())
        assert [(i["name"], i["score"], i["feedback"]) for i in batch["items"]] == \
               [(i["name"], i["score"], i["feedback"]) for i in alone["items"]]
