"""nbgrader integration: the engine decides the grade cells, not the student's kernel.

``nbgrader autograde`` runs each submission in two stages inside nbgrader's own
(trusted) process:

1. sanitize: ``RunEngine`` comes first. It grades the submitted module with the
   hidden suite before any student code has run in a notebook kernel, and keeps
   the report in this process's memory.
2. autograde: nbgrader executes the notebook (student code runs in a kernel
   sandboxed by kernel_sandbox.py; a dead kernel no longer drops the student,
   see ``ExecuteKeepGoing``). Then
   ``WriteEngineGrades`` replaces the outputs of every grade cell with the
   engine's feedback and score, so nothing a notebook cell printed or patched
   reaches the gradebook. The JSON report is saved next to the notebook.

``configure(c)`` applies all of this to an nbgrader config object.
"""
import json
import os

from nbformat.v4 import new_output
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    ClearOutput, DeduplicateIds, Execute,
                                    GetGrades, IgnorePattern, LimitOutput, NbGraderPreprocessor,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
from nbgrader.utils import is_grade

from . import assignments
from .grading import grade
from .kernel_sandbox import SandboxedKernelManager
from .release import CODE_STUB

REPORT_NAME = "autograder_report.json"
_reports = {}  # (student, assignment, notebook) -> Report, only in nbgrader's process


def _key(resources):
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"]


class RunEngine(NbGraderPreprocessor):
    """Sanitize stage: grade the submitted module before any kernel runs."""

    def preprocess(self, nb, resources):
        student, assignment_id, _ = _key(resources)
        folder = resources["metadata"]["path"]
        if assignment_id not in assignments.ASSIGNMENTS:
            raise RuntimeError(f"the course autograder has no assignment {assignment_id!r}")
        self.log.info("Course autograder: grading %s/%s in %s", student, assignment_id, folder)
        report = grade(assignment_id, folder)
        _reports[_key(resources)] = report
        self.log.info("Course autograder: %s scored %g / %g", student, report.score, report.max_score)
        for warning in report.warnings:
            self.log.warning("Course autograder (%s): %s", student, warning)
        return nb, resources


class ExecuteKeepGoing(Execute):
    """nbgrader's Execute, except that a kernel that dies does not drop the student.

    The grade comes from the engine anyway; the notebook keeps the outputs it
    had when the kernel died, and nbgrader's log says which student's kernel died.
    """

    def preprocess(self, nb, resources, retries=None):
        from nbclient.exceptions import DeadKernelError
        try:
            return super().preprocess(nb, resources, retries)
        except DeadKernelError as exc:
            self.log.warning("The notebook kernel of %s died (%s); grading continues with the engine's results",
                             resources["nbgrader"]["student"], exc)
            return nb, resources


class WriteEngineGrades(NbGraderPreprocessor):
    """Autograde stage: set each grade cell's output from the engine's report."""

    def preprocess(self, nb, resources):
        key = _key(resources)
        if key not in _reports:
            raise RuntimeError(f"no engine report for {key}: RunEngine must be the first sanitize preprocessor")
        report = _reports.pop(key)
        by_name = {item.name: item for item in report.items}
        seen = set()
        for cell in nb.cells:
            if cell.cell_type != "code" or not is_grade(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            item = by_name.get(grade_id)
            if item is None:
                self.log.error("Grade cell %r is not an item of %s", grade_id, report.assignment)
                cell.outputs = [new_output("stream", name="stderr",
                                           text=f"'{grade_id}' is not a graded item of this assignment\n")]
                continue
            seen.add(grade_id)
            points = float(cell.metadata["nbgrader"]["points"])
            score = min(points, item.score * points / item.max_score) if item.max_score else 0.0
            status = "" if item.status == "graded" else "NOT GRADED. "
            text = f"{item.name}: {score:g} / {points:g}. {status}{item.feedback}\n"
            cell.outputs = [
                new_output("stream", name="stdout", text=text),
                new_output("execute_result", data={"text/plain": repr(float(round(score, 4)))},
                           execution_count=cell.get("execution_count")),
            ]
        missing = set(by_name) - seen
        if missing:
            self.log.error("%s: no grade cell for item(s) %s; their points are lost",
                           report.assignment, ", ".join(sorted(missing)))
        folder = self._autograded_dir(resources)
        if folder:
            with open(os.path.join(folder, REPORT_NAME), "w", encoding="utf-8") as f:
                json.dump(report.to_dict(), f, indent=2)
        return nb, resources

    @staticmethod
    def _autograded_dir(resources):
        path = resources.get("metadata", {}).get("path")
        return path if path and os.path.isdir(path) else None


def configure(c):
    """Apply the course's nbgrader settings to config ``c``."""
    c.CourseDirectory.course_id = "nn-from-scratch"
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "assignments"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
    # Grade the student's own modules, never the reference copied over them.
    c.Autograde.exclude_overwriting = {a.id: list(a.modules) for a in assignments.ASSIGNMENTS.values()}
    c.Autograde.sanitize_preprocessors = [RunEngine, ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                          OverwriteCells, CheckCellMetadata]
    c.Autograde.autograde_preprocessors = [ExecuteKeepGoing, WriteEngineGrades, IgnorePattern,
                                           ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                           AssignLatePenalties, CheckCellMetadata]
    c.Execute.timeout = 120
    # The student's notebook kernel sees only its own folder (when bubblewrap is available).
    c.Execute.kernel_manager_class = SandboxedKernelManager
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    # Feedback never shows hidden tests (nbgrader shows them by default).
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
    return c
