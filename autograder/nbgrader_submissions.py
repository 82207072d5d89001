"""What the course learns about each submission during ``nbgrader autograde``, kept in nbgrader's process.

Staging (nbgrader_staging.py, through the app in nbgrader_apps.py) fills one
``Submission`` per student and assignment; the preprocessors
(nbgrader_preprocessors.py) read it back for each notebook. It lives in this
process's memory only, never in a file a student could write.
"""
from dataclasses import dataclass, field


@dataclass
class Note:
    """What was wrong with one notebook, for one line of feedback."""
    problem: str
    replaced: bool  # the released notebook stands in for the student's


@dataclass
class Submission:
    """What the course learned about one student's submission, kept in nbgrader's process only."""
    student: str
    assignment: str
    folder: str                 # what the engine grades: the student's folder, or the link in its place
    folder_problem: str = ""    # set when nothing in the submission is read
    notes: dict = field(default_factory=dict)     # notebook name -> Note
    left_out: list = field(default_factory=list)  # [(relative path, reason)] not staged
    manifest: dict = None       # files the course put in the autograded folder (safe_paths.manifest)
    report: object = None       # the engine's Report, once graded
    notebook_run: bool = True   # False when the course does not run notebooks (CourseAutograde.execute_notebooks)


submissions = {}  # (student, assignment) -> Submission


def notebook_key(resources):
    """(student, assignment, notebook) of the notebook nbgrader is converting."""
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"]


def submission_for(resources):
    """The Submission of the notebook nbgrader is converting, or None."""
    student, assignment_id, _ = notebook_key(resources)
    return submissions.get((student, assignment_id))
