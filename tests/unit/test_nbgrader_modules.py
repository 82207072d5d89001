"""The nbgrader integration and the class autograder, one idea per module, with nbgrader_hooks as the entry point.

Importing a module changes nothing in nbgrader: only ``configure()`` (which a course's
nbgrader_config.py calls) makes nbgrader's apps use the course's converters. The class
autograder's modules do not load nbgrader at all until a class is autograded. Each check
runs in a fresh interpreter, so what one import does cannot hide behind another's.
"""
import json
import subprocess
import sys

from helpers import REPO

NBGRADER_MODULES = ["nbgrader_submissions", "nbgrader_staging", "nbgrader_apps", "nbgrader_preprocessors",
                    "nbgrader_hooks"]
CLASS_MODULES = ["class_outcome", "class_setup", "class_workers", "class_gradebook", "class_summary",
                 "class_regrade", "class_baselines", "class_autograde"]


def run_python(code):
    """What ``code`` prints as JSON on its last line, run by a fresh interpreter from the repository root."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


CONVERTERS_NOW = """
from nbgrader import converters
from nbgrader.apps import api, autogradeapp, generatefeedbackapp
print(json.dumps({"autograde": [m.Autograde.__module__ for m in (api, autogradeapp)],
                  "feedback": [m.GenerateFeedback.__module__ for m in (api, generatefeedbackapp)]}))
"""


def test_importing_a_module_installs_nothing_in_nbgrader():
    code = "import importlib, json\n" + "".join(
        f"importlib.import_module('autograder.{name}')\n" for name in NBGRADER_MODULES) + CONVERTERS_NOW
    found = run_python(code)
    assert found == {"autograde": ["nbgrader.converters.autograde"] * 2,
                     "feedback": ["nbgrader.converters.generate_feedback"] * 2}, found


def test_the_course_configuration_installs_the_course_converters():
    """What nbgrader does with the repository's own nbgrader_config.py: the course's classes, from their modules."""
    code = ("import json, runpy\nfrom traitlets.config import Config\nconfig = Config()\n"
            "runpy.run_path('nbgrader_config.py', init_globals={'get_config': lambda: config})\n"
            "first = [config.Autograde.sanitize_preprocessors[0], config.Autograde.autograde_preprocessors[0]]\n"
            "print(json.dumps([f'{p.__module__}.{p.__name__}' for p in first]))\n"
            + CONVERTERS_NOW)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    preprocessors, converters = map(json.loads, done.stdout.strip().splitlines()[-2:])
    assert preprocessors == ["autograder.nbgrader_preprocessors.RunEngine",
                             "autograder.nbgrader_preprocessors.ExecuteKeepGoing"]
    assert converters == {"autograde": ["autograder.nbgrader_apps"] * 2, "feedback": ["autograder.nbgrader_apps"] * 2}


def test_the_entry_point_still_offers_what_other_modules_import_from_it():
    """nbgrader_config.py files, demo.py and the tests import these from nbgrader_hooks: the very same objects."""
    homes = {"configure": "nbgrader_hooks", "COURSE_ID": "nbgrader_hooks", "DEFAULT_CELL_TIMEOUT_S": "nbgrader_hooks",
             "CourseAutograde": "nbgrader_apps", "CourseGenerateFeedback": "nbgrader_apps",
             "install_converters": "nbgrader_apps", "RunEngine": "nbgrader_preprocessors",
             "ExecuteKeepGoing": "nbgrader_preprocessors", "WriteEngineGrades": "nbgrader_preprocessors",
             "REPORT_NAME": "nbgrader_preprocessors", "NOT_RUN_SENTENCE": "nbgrader_preprocessors",
             "STAGING_PREFIX": "nbgrader_staging", "notebook_problem": "nbgrader_staging",
             "released_notebooks": "nbgrader_staging"}
    code = ("import importlib, json\nfrom autograder import nbgrader_hooks\n"
            f"homes = {homes!r}\n"
            "same = {name: getattr(nbgrader_hooks, name, None)"
            " is getattr(importlib.import_module('autograder.' + home), name) for name, home in homes.items()}\n"
            "from autograder import nbgrader_apps, nbgrader_preprocessors, nbgrader_submissions\n"
            "one = [module.submissions is nbgrader_submissions.submissions"
            " for module in (nbgrader_apps, nbgrader_preprocessors)]\n"
            "print(json.dumps({'same': same, 'all': sorted(nbgrader_hooks.__all__), 'one record': one}))\n")
    found = run_python(code)
    assert found["same"] == {name: True for name in homes}, found["same"]
    assert found["all"] == sorted(homes)
    # The app fills the record of submissions while staging and the preprocessors read it: one dictionary.
    assert found["one record"] == [True, True]
    assert (REPO / "nbgrader_config.py").read_text().count("from autograder.nbgrader_hooks import configure") == 1


def test_the_class_autograder_loads_nbgrader_only_when_it_runs():
    code = ("import importlib, json, sys\n" + "".join(f"importlib.import_module('autograder.{name}')\n"
                                                       for name in CLASS_MODULES)
            + "loaded = {name.split('.')[0] for name in sys.modules}\n"
            "print(json.dumps(sorted(loaded & {'nbgrader', 'traitlets', 'nbformat'})))\n")
    assert run_python(code) == []



def test_the_class_run_uses_the_per_student_statuses_of_grade_all():
    """The words grade-all writes (graded / items not graded / could not grade), in the table and the summary."""
    from autograder.class_outcome import Outcome
    from autograder.class_summary import student_line, summary_lines
    assert Outcome("zoe").status == "could not grade"  # until nbgrader says otherwise
    outcomes = [Outcome("ann", "graded", score=14.0), Outcome("ben", "items not graded", score=12.0),
                Outcome("cat", "could not grade", "NotADirectoryError: [Errno 20] Not a directory")]
    lines = summary_lines(outcomes, 14, "autograde_hw1.log", 12.0, 2)
    assert lines[0] == "3 students in 12 s (2 at a time): 1 graded, 1 with items not graded, 1 could not grade"
    assert "1 student(s) with items not graded (scored 0 until regraded)" in lines[3]
    assert lines[4].startswith("1 student(s) could not be graded; see the reasons above")
    line = "cat           - / 14    could not grade   NotADirectoryError: [Errno 20] Not a directory"
    assert student_line(outcomes[2], 14, 7) == line
