"""The course's nbgrader preprocessors: steps 2 and 3 of the run that nbgrader_hooks' docstring tells whole.

``RunEngine`` (first) has the engine grade the student's real submission folder before any student code runs
in a notebook kernel; ``ExecuteKeepGoing`` runs the notebook in the sandboxed kernel, where a dead kernel ends
the notebook, not the grading; ``WriteEngineGrades`` scrubs the autograded folder and writes every grade cell
from the engine's report.
"""
import json
import os

from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade

from . import assignments, safe_paths
from .grading import grade
from .nbgrader_submissions import Note, Submission, notebook_key, submission_for, submissions
from .report import GRADED

REPORT_NAME = "autograder_report.json"
NOT_RUN_SENTENCE = ("This notebook was not run during grading: the course graded your module directly, the grade "
                    "cells show its results, and the other cells' outputs were cleared.")


class RunEngine(NbGraderPreprocessor):
    """Sanitize stage: grade the submitted module before any kernel runs."""

    def preprocess(self, nb, resources):
        student, assignment_id, _ = notebook_key(resources)
        if assignment_id not in assignments.ASSIGNMENTS:
            raise RuntimeError(f"the course autograder has no assignment {assignment_id!r}")
        record = submission_for(resources)
        if record is None:
            self.log.error("Course autograder: nbgrader is not using the course's converter (configure() installs "
                           "it); the submission was read without the course's checks on links")
            record = Submission(student, assignment_id, resources["metadata"]["path"])
            submissions[(student, assignment_id)] = record
        if record.report is None:
            self.log.info("Course autograder: grading %s/%s in %s", student, assignment_id, record.folder)
            record.report = grade(assignment_id, record.folder)
            self.log.info("Course autograder: %s scored %g / %g", student, record.report.score,
                          record.report.max_score)
            for warning in record.report.warnings:
                self.log.warning("Course autograder (%s): %s", student, warning)
        return nb, resources


class ExecuteKeepGoing(Execute):
    """nbgrader's Execute, except that the notebook cannot drop the student.

    A kernel that dies, or a cell that runs past ``c.Execute.timeout`` and
    cannot be interrupted, ends the notebook there: it keeps the outputs it
    had, the grade comes from the engine anyway, and the feedback says what
    happened. A released notebook standing in for the student's is not run.
    """

    def preprocess(self, nb, resources):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        record = submission_for(resources)
        notebook = resources["nbgrader"]["notebook"] + ".ipynb"
        note = record.notes.get(notebook) if record else None
        if note and note.replaced:
            self.log.info("Course autograder: not running the released notebook that stands in for %s's",
                          resources["nbgrader"]["student"])
            return nb, resources
        try:
            return super().preprocess(nb, resources)
        except DeadKernelError as exc:
            problem = "the kernel of your notebook died while it ran, so later cells have no output"
            failure = exc
        except CellTimeoutError as exc:
            problem = (f"a cell of your notebook ran longer than {self.timeout} s and could not be interrupted, "
                       f"so the notebook was stopped there")
            failure = exc
        self.log.warning("The notebook of %s stopped (%s: %s); grading continues with the engine's results",
                         resources["nbgrader"]["student"], type(failure).__name__, failure)
        if record is not None and notebook not in record.notes:
            record.notes[notebook] = Note(problem, False)
        return nb, resources


class WriteEngineGrades(NbGraderPreprocessor):
    """Autograde stage, right after the kernel exits: scrub the folder, then set each grade cell from the engine."""

    def preprocess(self, nb, resources):
        student, assignment_id, notebook = notebook_key(resources)
        record = submission_for(resources)
        if record is None or record.report is None:
            raise RuntimeError(f"no engine report for {student}/{assignment_id}: "
                               "RunEngine must be the first sanitize preprocessor")
        folder = self._autograded_dir(resources)
        if folder:
            self._scrub(folder, record)
        report = record.report
        if not record.notebook_run:
            _clear_code_outputs(nb)
        self._write_grade_cells(nb, report)
        note = record.notes.get(notebook + ".ipynb")
        sentence = _sentence(note, record) if note else None
        if sentence:
            nb.cells.insert(0, new_markdown_cell(f"**Note from the course autograder:** {sentence}"))
        if not record.notebook_run:  # first, above any other note
            nb.cells.insert(0, new_markdown_cell(f"**Note from the course autograder:** {NOT_RUN_SENTENCE}"))
        if folder:
            data = report.to_dict()
            if sentence:
                data["notebook_note"] = sentence
            if not record.notebook_run:
                data["notebook_run"] = False
            safe_paths.write_fresh(os.path.join(folder, REPORT_NAME), json.dumps(data, indent=2) + "\n")
        return nb, resources

    def _scrub(self, folder, record):
        """Remove what the kernel left: links, special files, and anything the course did not put there."""
        if record.manifest is None:
            self.log.warning("Course autograder: no record of %s's autograded folder; removing links and "
                             "special files only", record.student)
        for path, reason in safe_paths.scrub(folder, record.manifest):
            if not path.endswith(".ipynb"):  # the notebook is written again by nbgrader right after
                self.log.warning("Course autograder: removed %s from %s's autograded folder: it %s",
                                 path, record.student, reason)

    def _write_grade_cells(self, nb, report):
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
            status = "" if item.status == GRADED else "NOT GRADED. "
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

    @staticmethod
    def _autograded_dir(resources):
        path = resources.get("metadata", {}).get("path")
        return path if path and os.path.isdir(path) and not os.path.islink(path) else None


def _clear_code_outputs(nb):
    """Clear every code cell's outputs: a notebook that was not run shows nothing the student saved as output.

    nbgrader's ClearOutput (a sanitize step) already does this; it is done again here because, without a
    kernel, whatever survives would be shown in the feedback as if grading had produced it.
    """
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def _sentence(note, record):
    """The one line of feedback about a notebook."""
    if record.folder_problem:
        consequence = "it scores 0"
    elif note.replaced:
        consequence = "the released notebook was used in its place, and your module was graded as usual"
    else:
        consequence = "your module was graded as usual"
    text = f"{note.problem}; {consequence}."
    return text[0].upper() + text[1:]
