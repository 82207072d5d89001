"""The gradebook checked against the engine's reports, after a class is autograded through nbgrader.

Each autograded student's grades are read back through ``nbgrader.api.Gradebook``
and compared, grade cell by grade cell, with the engine's report written next
to the notebook (``autograder_report.json``), scaled to the cell's points as
the course's ``WriteEngineGrades`` does. Any difference is reported loudly
(the command exits 1).
"""
import json
import os

from .class_outcome import shorten
from .report import STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED

SCORE_TOLERANCE = 1e-3        # the course writes scores rounded to 4 decimals
MAX_REPORT_BYTES = 4 * 1024 * 1024


def read_report(coursedir, assignment_id, student):
    """The engine's report next to the student's autograded notebook, or None."""
    from . import safe_paths
    from .nbgrader_preprocessors import REPORT_NAME
    folder = coursedir.format_path(coursedir.autograded_directory, student, assignment_id)
    try:
        report = json.loads(safe_paths.read_regular(os.path.join(folder, REPORT_NAME), MAX_REPORT_BYTES))
    except (OSError, ValueError, safe_paths.UnsafePath):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("items"), list):
        return None
    return report


def expected_cell_score(item, points):
    """What the course's WriteEngineGrades writes into a grade cell worth ``points`` for a report item."""
    if item is None or not item.get("max_score"):
        return 0.0
    return min(points, float(item["score"]) * points / float(item["max_score"]))


def compare_with_engine(gb, assignment_id, student, report):
    """(gradebook total, engine total scaled to the grade cells, mismatch text or "")."""
    items = {i.get("name"): i for i in report["items"] if isinstance(i, dict)}
    submission = gb.find_submission(assignment_id, student)
    book = engine = 0.0
    wrong = []
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.max_score_gradecell is None or grade.cell_type_gradecell != "code":
                continue  # a task or markdown cell, graded by hand
            want = expected_cell_score(items.get(grade.name), grade.max_score)
            got = grade.auto_score
            engine += want
            book += got or 0.0
            if got is None or abs(got - want) > SCORE_TOLERANCE:
                wrong.append(f"{grade.name} {'none' if got is None else f'{got:g}'} (engine {want:.4g})")
    return book, engine, ", ".join(wrong)


def check_gradebook(coursedir, assignment_id, outcomes):
    """Fill score, engine, status and mismatch of each autograded student from the gradebook and the reports."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for outcome in outcomes:
            if outcome.status == STUDENT_NOT_GRADED:
                continue
            report = read_report(coursedir, assignment_id, outcome.student)
            if report is None:
                outcome.status = STUDENT_NOT_GRADED
                outcome.reason = "nbgrader finished but the engine's report is missing"
                continue
            try:
                outcome.score, outcome.engine, outcome.mismatch = compare_with_engine(
                    gb, assignment_id, outcome.student, report)
            except MissingEntry:
                outcome.mismatch = "the gradebook has no submission for this student"
            not_graded = [n for n in report.get("not_graded", []) if isinstance(n, str)]
            if not_graded:
                outcome.status = STUDENT_PARTLY_GRADED
                first = next((i for i in report["items"] if isinstance(i, dict) and i.get("name") == not_graded[0]),
                             {})
                outcome.reason = shorten(f"{', '.join(not_graded)}: {first.get('feedback', '')}")
            elif report.get("notebook_note"):
                outcome.reason = shorten(report["notebook_note"])
