"""An item whose checks all skip (a GPU item on a machine without one) is reported as NOT GRADED.

It is never silently awarded and never silently zeroed: the JSON marks it, the
table flags it, and the report carries a warning for the instructor.
"""
import json
import shutil
import subprocess
import sys
import textwrap

from helpers import REPO

SUITE = textwrap.dedent('''
    import pytest

    @pytest.mark.item("cpu_part")
    def test_cpu(student):
        assert student.relu(2.0) == 2.0

    @pytest.mark.item("gpu_part")
    def test_gpu(student):
        pytest.skip("no usable CUDA GPU on this machine")
''')

SCRIPT = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from autograder import assignments
    from autograder.assignments import Assignment, Item
    assignments.ASSIGNMENTS["hwx_gpu"] = Assignment(
        id="hwx_gpu", title="test", modules=("activations.py",),
        items=(Item("cpu_part", 1, "cpu"), Item("gpu_part", 2, "gpu", needs_gpu=True)))
    from autograder.grading import grade
    report = grade("hwx_gpu", sys.argv[2])
    print(json.dumps(report.to_dict()))
    print(report.table(), file=sys.stderr)
''')


def test_skipped_gpu_item_is_not_graded_loudly(tmp_path):
    package = tmp_path / "pkg" / "autograder"
    shutil.copytree(REPO / "autograder", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "hidden" / "test_hwx_gpu.py").write_text(SUITE)
    submission = tmp_path / "sub"
    submission.mkdir()
    shutil.copy(REPO / "solutions" / "hw1_activations" / "activations.py", submission)
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "pkg"), str(submission)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    items = {i["name"]: i for i in report["items"]}
    assert items["cpu_part"]["score"] == 1 and items["cpu_part"]["status"] == "graded"
    assert items["gpu_part"]["status"] == "not graded" and items["gpu_part"]["score"] == 0
    assert "no usable CUDA GPU" in items["gpu_part"]["feedback"]
    assert report["not_graded"] == ["gpu_part"]
    assert any("NOT GRADED" in w for w in report["warnings"])
    assert "-- gpu_part" in result.stderr and "NOT GRADED" in result.stderr
