"""A grading process refuses to grade once its own files were changed on disk."""
import shutil
import subprocess
import sys
import textwrap

from helpers import REPO

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from autograder.grading import CannotGrade, grade
    submission = sys.argv[2]
    print("before:", grade("hw1_activations", submission, items=["relu"]).score)
    suite = Path(sys.argv[1]) / "autograder" / "hidden" / "test_hw1_activations.py"
    suite.write_text(suite.read_text() + "\\n# every check passes now\\n")
    try:
        grade("hw1_activations", submission, items=["relu"])
    except CannotGrade as exc:
        print("refused:", exc)
""")


def test_changed_hidden_suite_stops_grading(tmp_path):
    shutil.copytree(REPO / "autograder", tmp_path / "pkg" / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    submission = tmp_path / "sub"
    submission.mkdir()
    shutil.copy(REPO / "assignments" / "hw1_activations" / "activations.py", submission)
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "pkg"), str(submission)],
                            capture_output=True, text=True, timeout=120)
    assert "before: 0.0" in result.stdout, result.stdout + result.stderr
    assert "refused: the grader's own files changed on disk" in result.stdout
    assert "hidden/test_hw1_activations.py" in result.stdout
