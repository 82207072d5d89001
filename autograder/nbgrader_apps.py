"""The course's nbgrader converters: ``CourseAutograde`` and ``CourseGenerateFeedback``.

``CourseAutograde`` is nbgrader's Autograde reading a staged copy of each
submission (nbgrader_staging.py), so nbgrader's own copying, timestamp reading
and notebook reading are safe, and no student's notebook can stop the run for
the class. ``CourseGenerateFeedback`` copies the autograded folder without
following links. ``install_converters`` makes nbgrader's apps use both.
"""
import fnmatch
import glob
import os
import shutil
import tempfile
from textwrap import dedent

from nbgrader.converters import Autograde, GenerateFeedback, NbGraderException
from nbgrader.preprocessors import Execute
from traitlets import Bool

from . import safe_paths
from .errors import CannotGrade
from .nbgrader_staging import (DEFAULT_STRUCTURE, MAX_FILE_BYTES, MAX_FILES, MAX_SUBMISSION_BYTES, STAGING_PREFIX,
                               released_notebooks, stage_submission)
from .nbgrader_submissions import Note, Submission, submission_for, submissions


class CourseAutograde(Autograde):
    """nbgrader's Autograde, reading a staged copy of each submission (see the module's docstring)."""

    execute_notebooks = Bool(
        True,
        help=dedent(
            """
            Whether to run each student's notebook in the sandboxed kernel while
            autograding. The grade comes from the course's engine either way; with
            False, no notebook is run (much faster for a class whose notebooks
            train or run demos), every code cell's output is cleared, the grade
            cells show the engine's results, and the notebook says at its top that
            it was not run. Set it in nbgrader_config.py
            (c.CourseAutograde.execute_notebooks = False) or on nbgrader's command
            line (--CourseAutograde.execute_notebooks=False).
            """
        )
    ).tag(config=True)

    _staging = None  # this run's staging folder, relative to the course root

    @property
    def _input_directory(self):
        if self._sanitizing and self._staging:
            return self._staging
        return super()._input_directory

    def start(self):
        try:
            super().start()
        finally:
            if self._staging:
                shutil.rmtree(os.path.join(self.coursedir.root, self._staging), ignore_errors=True)
                self._staging = None

    def init_notebooks(self):
        self._stage_submissions()
        super().init_notebooks()

    def init_assignment(self, assignment_id, student_id):
        super().init_assignment(assignment_id, student_id)
        record = submissions.get((student_id, assignment_id))
        if record is not None:  # before any kernel runs there: what the course put in the folder
            dest = self._format_dest(assignment_id, student_id)
            os.makedirs(dest, exist_ok=True)
            record.manifest = safe_paths.manifest(dest)

    def _init_preprocessors(self):
        """nbgrader's preprocessors, without the ones that run the notebook when execute_notebooks is False."""
        super()._init_preprocessors()
        if self._sanitizing or self.execute_notebooks:
            return
        # Dropping the class (not skipping inside ExecuteKeepGoing) also drops a plain Execute configured instead.
        kept = [pp for pp in self.exporter._preprocessors if not isinstance(pp, Execute)]
        self.exporter._preprocessors = kept

    def convert_single_notebook(self, notebook_filename):
        """Convert one notebook; if nbgrader fails on the student's own notebook, grade with the released one."""
        try:
            super().convert_single_notebook(notebook_filename)
            return
        except (KeyboardInterrupt, CannotGrade):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever nbgrader met in a student's notebook
            failure = exc
        resources = self.init_single_notebook_resources(notebook_filename)
        record = submission_for(resources)
        name = os.path.basename(notebook_filename)
        note = record.notes.get(name) if record else None
        released = released_notebooks(self.coursedir, resources["nbgrader"]["assignment"]).get(name)
        if record is None or released is None or (note and note.replaced):
            raise failure
        reason = str(failure).strip().splitlines()[0][:200] if str(failure).strip() else ""
        self.log.warning("nbgrader could not process the notebook of %s (%s: %s); grading with the released "
                         "notebook instead", record.student, type(failure).__name__, reason)
        safe_paths.write_fresh(notebook_filename, released[0])
        record.notes[name] = Note(f"nbgrader could not process your notebook {name} "
                                  f"({type(failure).__name__}{': ' + reason if reason else ''})", True)
        super().convert_single_notebook(notebook_filename)

    # -- staging
    def _stage_submissions(self):
        coursedir = self.coursedir
        if coursedir.directory_structure != DEFAULT_STRUCTURE:
            raise NbGraderException("the course autograder needs nbgrader's default directory_structure "
                                    f"{DEFAULT_STRUCTURE!r}")
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=coursedir.root)
        self._staging = os.path.basename(staging)
        released = {}
        for student, assignment_id, source, problem in self._submitted_folders():
            if assignment_id not in released:
                released[assignment_id] = released_notebooks(coursedir, assignment_id)
            record = Submission(student, assignment_id, source, folder_problem=problem,
                                notebook_run=self.execute_notebooks)
            submissions[(student, assignment_id)] = record
            stage_submission(record, source, os.path.join(staging, student, assignment_id),
                             released[assignment_id], coursedir.ignore)
            for path, reason in record.left_out:
                self.log.warning("Course autograder: %s/%s: %s %s; left out", student, assignment_id, path, reason)
            for name, note in record.notes.items():
                self.log.warning("Course autograder: %s: %s%s", student, note.problem,
                                 "; the released notebook stands in for it" if note.replaced else "")

    def _submitted_folders(self):
        """(student, assignment, path, problem) for each submission nbgrader would grade, looked at, not followed.

        ``problem`` is set when the student's folder or assignment folder is a
        link or not a folder: nothing in it is read, and ``path`` (the link
        itself) is what the engine grades, as ``grade`` and ``grade-all`` do.
        """
        coursedir = self.coursedir
        root = os.path.join(coursedir.root, coursedir.submitted_directory)
        excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
        literal = not glob.has_magic(coursedir.assignment_id)
        if not os.path.isdir(root):
            return
        for student in sorted(os.listdir(root)):
            if student.startswith(".") or student in excluded or not fnmatch.fnmatch(student, coursedir.student_id):
                continue
            student_dir = os.path.join(root, student)
            problem = safe_paths.is_link_or_special(student_dir)
            if problem:
                if literal:
                    yield student, coursedir.assignment_id, student_dir, f"your student folder {problem}"
                continue
            if not os.path.isdir(student_dir):
                continue
            for assignment_id in sorted(os.listdir(student_dir)):
                if assignment_id.startswith(".") or not fnmatch.fnmatch(assignment_id, coursedir.assignment_id):
                    continue
                path = os.path.join(student_dir, assignment_id)
                problem = safe_paths.is_link_or_special(path)
                if not problem and not os.path.isdir(path):
                    problem = "is not a folder"
                yield student, assignment_id, path, problem and f"your submission folder {problem}"


class CourseGenerateFeedback(GenerateFeedback):
    """nbgrader's GenerateFeedback, copying the autograded folder's other files without following links."""

    def init_assignment(self, assignment_id, student_id):
        source = self._format_source(assignment_id, student_id)
        dest = self._format_dest(assignment_id, student_id)
        skipped = safe_paths.copy_tree(source, dest, ignore=list(self.coursedir.ignore) + ["*.ipynb"],
                                       max_file_bytes=MAX_FILE_BYTES, max_total_bytes=MAX_SUBMISSION_BYTES,
                                       max_files=MAX_FILES)
        for path, reason in skipped:
            self.log.warning("Feedback for %s: %s %s; not copied", student_id, path, reason)


def install_converters():
    """Make nbgrader's autograde and generate_feedback (command line and formgrader) use the course's converters.

    nbgrader names its converter classes directly instead of reading them from
    the configuration, so the names are replaced where its apps look them up.
    """
    from nbgrader.apps import api, autogradeapp, generatefeedbackapp
    for module in (autogradeapp, api):
        module.Autograde = CourseAutograde
    for module in (generatefeedbackapp, api):
        module.GenerateFeedback = CourseGenerateFeedback
