"""The course's nbgrader settings: applied by configure(), overridable the nbgrader way."""
from traitlets.config import Config

from autograder import nbgrader_hooks
from autograder.cli import build_parser


def test_the_course_sets_its_course_id_and_cell_timeout_by_default():
    c = Config()
    nbgrader_hooks.configure(c)
    assert c.CourseDirectory.course_id == nbgrader_hooks.COURSE_ID
    assert c.Execute.timeout == nbgrader_hooks.DEFAULT_CELL_TIMEOUT_S


def test_an_instructor_names_their_offering_and_the_cell_limit_before_configure():
    c = Config()
    c.CourseDirectory.course_id = "nn-2027"
    c.Execute.timeout = 300
    nbgrader_hooks.configure(c)
    assert c.CourseDirectory.course_id == "nn-2027" and c.Execute.timeout == 300


def test_autograde_no_execute_reaches_the_class_autograder():
    assert build_parser().parse_args(["autograde", "hw1_activations", "--no-execute"]).no_execute is True
    assert build_parser().parse_args(["autograde", "hw1_activations"]).no_execute is False
