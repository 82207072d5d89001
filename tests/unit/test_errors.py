"""The "cannot do it" family (autograder.errors): one line from str(), one way to the terminal, named exit codes."""
import pytest

from autograder import assignments, errors
from autograder.cli import main
from autograder.grading import CannotGrade
from autograder.release import ReleaseError, strip_solutions
from autograder.student_repo import ExportError
from helpers import REPO

FAMILY = (errors.CannotGrade, errors.UnknownAssignment, errors.ReleaseError, errors.ExportError,
          errors.SolutionMarkersError)


def test_every_cannot_error_is_a_course_error():
    assert all(issubclass(cls, errors.CourseError) for cls in FAMILY)
    # The names callers import from the modules that raise them are the same classes.
    assert (CannotGrade, assignments.UnknownAssignment, ReleaseError, ExportError) == FAMILY[:4]


def test_str_is_the_one_line_and_the_rest_is_detail():
    exc = ReleaseError("nbgrader generate_assignment hw1 failed:\nTraceback ...\nValueError: bad")
    assert str(exc) == "nbgrader generate_assignment hw1 failed:"
    assert exc.detail == "Traceback ...\nValueError: bad"
    assert str(CannotGrade("one line")) == "one line" and CannotGrade("one line").detail == ""


def test_an_unknown_assignment_says_so_without_quotes_and_is_still_a_key_error():
    with pytest.raises(KeyError) as caught:
        assignments.get("hw9_nothing")
    text = str(caught.value)
    assert text.startswith("unknown assignment 'hw9_nothing' (known: hw1_activations")
    assert not text.startswith('"') and "\n" not in text


def test_unbalanced_markers_are_a_release_error_and_still_a_runtime_error():
    for source in ("    ### BEGIN SOLUTION\n    x = 1\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"):
        with pytest.raises(errors.SolutionMarkersError) as caught:
            strip_solutions(source)
        assert isinstance(caught.value, RuntimeError) and "\n" not in str(caught.value)


def test_the_command_line_prints_every_course_error_the_same_way(capsys, tmp_path):
    assert main(["grade", "hw9_nothing", str(tmp_path)]) == errors.EXIT_CANNOT
    assert capsys.readouterr().err == ("cannot grade: unknown assignment 'hw9_nothing' (known: "
                                       + ", ".join(sorted(assignments.ASSIGNMENTS)) + ")\n")
    assert main(["student-repo", str(REPO / "exported")]) == errors.EXIT_CANNOT
    err = capsys.readouterr().err
    assert err.startswith("cannot export: ") and err.count("\n") == 1 and "inside the course repository" in err


def test_exit_codes_are_distinct_and_notebooks_read_the_named_one():
    codes = (errors.EXIT_OK, errors.EXIT_CANNOT, errors.EXIT_USAGE, errors.EXIT_CHECKS_FAIL)
    assert codes == (0, 1, 2, 3)
    notebook = (REPO / "autograder" / "notebook.py").read_text()
    assert "EXIT_CHECKS_FAIL" in notebook and "returncode == 3" not in notebook
