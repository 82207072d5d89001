"""The student release: stubs only, no solution or hidden test, and in step with solutions/."""
import shutil

import pytest

from autograder import assignments
from autograder.release import MARKERS, ReleaseError, release, strip_solutions
from autograder.student_repo import leaks, secret_lines
from helpers import REPO


def test_strip_replaces_each_region_with_an_indented_stub():
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    stripped = strip_solutions(source)
    assert "return x + 1" not in stripped and "SOLUTION" not in stripped
    assert '    raise NotImplementedError("not implemented yet")' in stripped
    assert "'''doc'''" in stripped


def test_strip_refuses_unbalanced_markers():
    with pytest.raises(RuntimeError):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")


@pytest.mark.parametrize("assignment_id", sorted(assignments.ASSIGNMENTS))
def test_no_solution_text_or_marker_reaches_assignments(assignment_id):
    source = REPO / "solutions" / assignment_id
    released = REPO / "assignments" / assignment_id
    released_text = "\n".join(p.read_text() for p in released.rglob("*") if p.is_file())
    for marker in MARKERS:
        assert marker not in released_text
    secret = secret_lines(source)
    assert secret, "the source should hold solution regions"
    leaked = leaks(released, secret)
    assert not leaked, f"solution lines in the release: {leaked[:3]}"
    assert not (released / "autograder").exists()


@pytest.mark.parametrize("assignment_id", sorted(assignments.ASSIGNMENTS))
def test_released_modules_are_stubs_that_import(assignment_id, tmp_path):
    for module in assignments.get(assignment_id).modules:
        text = (REPO / "assignments" / assignment_id / module).read_text()
        compile(text, module, "exec")
        assert "NotImplementedError" in text


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", sorted(assignments.ASSIGNMENTS))
def test_committed_release_is_up_to_date(assignment_id, tmp_path):
    """Re-running the release from solutions/ reproduces assignments/ exactly."""
    shutil.copytree(REPO / "solutions" / assignment_id, tmp_path / "solutions" / assignment_id)
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    out = release(assignment_id, tmp_path)
    committed = REPO / "assignments" / assignment_id
    fresh = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert fresh == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for rel in fresh:
        assert (out / rel).read_bytes() == (committed / rel).read_bytes(), \
            f"assignments/{assignment_id}/{rel} is stale: run python -m autograder release {assignment_id}"


def test_release_of_a_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(ReleaseError, match="no source folder"):
        release("hw1_activations", tmp_path)


def test_solutions_and_assignments_hold_only_assignment_folders():
    """Nothing stray (a report written by a run, a scratch file) is committed beside the assignments."""
    import subprocess

    from autograder import assignments
    tracked = subprocess.run(["git", "ls-files", "solutions", "assignments"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    stray = [p for p in tracked if len(p.split("/")) != 3 or p.split("/")[1] not in assignments.ASSIGNMENTS]
    assert tracked and not stray, stray
