"""nbgrader integration: the engine decides the grade cells, not the student's kernel or files.

``nbgrader autograde`` runs in one (trusted) process. ``configure(c)`` makes it
run the course's way:

1. **Staging** (``CourseAutograde``). Before nbgrader looks at a submission,
   the course copies ``submitted/<student>/<id>/`` into a staging folder,
   following nothing: links, hard links, pipes and devices are left out, and a
   student folder (or assignment folder) that is a link is not read at all.
   Each notebook is checked against the released one; one that is missing,
   unreadable, a link, or whose nbgrader metadata were changed (a copied grade
   cell, edited points, a deleted cell) is replaced by the released notebook,
   with a note saying why. nbgrader only ever reads the staged copy, so its
   own copying, timestamp reading and notebook reading are safe, and no
   student's notebook can stop the run for the class.
2. **Sanitize** (``RunEngine`` first). The engine grades the student's real
   submission folder (``grading.grade``, which refuses links itself) before
   any student code has run in a notebook kernel.
3. **Autograde.** ``ExecuteKeepGoing`` runs the student's notebook (not a
   replaced one) in the sandboxed kernel (kernel_sandbox.py); a kernel that
   dies or a cell that cannot be interrupted ends the notebook there, not the
   student's grading. ``WriteEngineGrades`` then scrubs the autograded
   folder (only files the course put there, unchanged, survive the kernel),
   writes every grade cell's output from the engine's report, adds the
   one-line note, and saves the JSON report next to the notebook.

   With ``c.CourseAutograde.execute_notebooks = False`` (or
   ``--CourseAutograde.execute_notebooks=False``) no notebook is run: the
   engine grades the module as always, every code cell's output is cleared
   (what a student saved is never shown as if the grader had produced it),
   the grade cells get the engine's results, and the notebook's first cell
   says it was not run. The gradebook gets the same scores either way.

``generate_feedback`` copies the autograded folder without following links
(``CourseGenerateFeedback``). Everything learned about a submission stays in
this process's memory (``_submissions``), never in a file a student could
write.
"""
import fnmatch
import glob
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from textwrap import dedent

import nbformat
from nbformat.v4 import new_markdown_cell, new_output
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde, GenerateFeedback, NbGraderException
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    ClearOutput, DeduplicateIds, Execute,
                                    GetGrades, IgnorePattern, LimitOutput, NbGraderPreprocessor,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
from nbgrader.utils import is_grade, parse_utc
from traitlets import Bool

from . import assignments, safe_paths
from .errors import CannotGrade
from .grading import grade
from .kernel_sandbox import SandboxedKernelManager
from .release import CODE_STUB
from .report import GRADED

REPORT_NAME = "autograder_report.json"
COURSE_ID = "nn-from-scratch"  # nbgrader's course_id unless nbgrader_config.py sets one
DEFAULT_CELL_TIMEOUT_S = 120
MiB = 1024 * 1024
MAX_FILE_BYTES = 50 * MiB         # one submitted file nbgrader may see (a notebook with many figures fits)
MAX_SUBMISSION_BYTES = 200 * MiB  # one submission in all
MAX_FILES = 2000
STAGING_PREFIX = ".autograder_staged_"
DEFAULT_STRUCTURE = "{nbgrader_step}/{student_id}/{assignment_id}"
NOT_RUN_SENTENCE = ("This notebook was not run during grading: the course graded your module directly, the grade "
                    "cells show its results, and the other cells' outputs were cleared.")
NBGRADER_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")


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


_submissions = {}  # (student, assignment) -> Submission


def _key(resources):
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"]


def _submission(resources):
    student, assignment_id, _ = _key(resources)
    return _submissions.get((student, assignment_id))


# ----------------------------------------------------------------------------- staging
def released_notebooks(coursedir, assignment_id):
    """{notebook name: (bytes, NotebookNode)} of the release, which stands in for a student's broken notebook."""
    folder = coursedir.format_path(coursedir.release_directory, ".", assignment_id)
    found = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(folder), "*.ipynb"))):
        data = safe_paths.read_regular(path, MAX_FILE_BYTES)
        found[os.path.basename(path)] = (data, nbformat.reads(data.decode("utf-8"), as_version=4))
    return found


def _nbgrader_cells(nb):
    """grade_id -> list of (cell type, nbgrader metadata) of cells with nbgrader metadata; None for no grade_id."""
    cells = {}
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        cells.setdefault(grade_id, []).append((cell.cell_type, meta))
    return cells


def notebook_problem(data, released):
    """(problem, replace) for a submitted notebook's bytes against the released NotebookNode; (None, False) if fine.

    ``replace`` is True when nbgrader could not grade the notebook as it is
    (it would stop the student or the whole class), False for what nbgrader
    repairs by itself (an old format, a removed kernelspec), which is only noted.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "is not valid JSON (it may have been cut short while saving)", True
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return "is not a notebook", True
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a notebook nbgrader can use"
        return f"does not follow the notebook format ({type(exc).__name__})", True
    try:
        problem = _metadata_problem(nb, released)
    except Exception as exc:  # noqa: BLE001
        problem = f"has nbgrader metadata that cannot be checked ({type(exc).__name__})"
    if problem:
        return problem, True
    if raw.get("nbformat") != 4:
        return f"was saved in an old notebook format (nbformat {raw.get('nbformat')}) and was converted", False
    kernel = nb.metadata.get("kernelspec")
    if not isinstance(kernel, dict) or kernel.get("name") != released.metadata.get("kernelspec", {}).get("name"):
        return "had its kernel specification removed or changed, and the course's kernel was used", False
    return None, False


def _metadata_problem(nb, released):
    """Why the nbgrader cells of ``nb`` differ from the release's, or None."""
    mine, theirs = _nbgrader_cells(nb), _nbgrader_cells(released)
    for grade_id, cells in mine.items():
        if grade_id is None or grade_id not in theirs:
            return "has a cell with nbgrader metadata that the released notebook does not have"
        if len(cells) > 1:
            return f"has the cell '{grade_id}' {len(cells)} times (a copied grade cell)"
    for grade_id, [(cell_type, meta)] in theirs.items():
        if grade_id not in mine:
            return f"lost the cell '{grade_id}' (deleted, or its nbgrader metadata removed)"
        [(my_type, my_meta)] = mine[grade_id]
        if my_type != cell_type:
            return f"has the cell '{grade_id}' changed from a {cell_type} cell to a {my_type} cell"
        if any(my_meta.get(k) != meta.get(k) for k in NBGRADER_KEYS):
            return f"has the nbgrader metadata of the cell '{grade_id}' changed"
    MetadataValidator().validate_nb(nb)
    return None


def stage_submission(record, source, staged, released, ignore):
    """Copy the submission ``source`` into ``staged`` for nbgrader, following nothing; fill ``record``."""
    os.makedirs(staged, exist_ok=True)
    if not record.folder_problem:
        try:
            record.left_out = safe_paths.copy_tree(source, staged, ignore=ignore, max_file_bytes=MAX_FILE_BYTES,
                                                   max_total_bytes=MAX_SUBMISSION_BYTES, max_files=MAX_FILES)
        except safe_paths.UnsafePath as exc:
            record.folder_problem = f"your submission folder {exc.reason}"
    _check_timestamp(record, staged)
    left_out = dict(record.left_out)
    for name, (data, node) in released.items():
        path = os.path.join(staged, name)
        if record.folder_problem:
            problem, replace = f"{record.folder_problem}, so nothing in it was read", True
        elif name in left_out:
            problem, replace = f"your notebook {name} {left_out[name]}, so it was not read", True
        elif not os.path.exists(path):
            problem, replace = f"your submission has no notebook {name}", True
        else:
            with open(path, "rb") as f:  # the staged copy: a regular file the course wrote
                problem, replace = notebook_problem(f.read(), node)
            problem = problem and f"your notebook {name} {problem}"
        if replace:
            safe_paths.write_fresh(path, data)
        if problem:
            record.notes[name] = Note(problem, replace)


def _check_timestamp(record, staged):
    """nbgrader drops a student whose timestamp.txt it cannot parse: leave such a file out (and say so)."""
    path = os.path.join(staged, "timestamp.txt")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read().strip()
    try:
        if text:
            parse_utc(text)
        return
    except Exception:  # noqa: BLE001 - dateutil raises several kinds
        pass
    os.unlink(path)
    record.left_out.append(("timestamp.txt", "is not a timestamp nbgrader can read"))


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
        record = _submissions.get((student_id, assignment_id))
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
        record = _submission(resources)
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
            _submissions[(student, assignment_id)] = record
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


# ----------------------------------------------------------------------------- preprocessors
class RunEngine(NbGraderPreprocessor):
    """Sanitize stage: grade the submitted module before any kernel runs."""

    def preprocess(self, nb, resources):
        student, assignment_id, _ = _key(resources)
        if assignment_id not in assignments.ASSIGNMENTS:
            raise RuntimeError(f"the course autograder has no assignment {assignment_id!r}")
        record = _submission(resources)
        if record is None:
            self.log.error("Course autograder: nbgrader is not using the course's converter (configure() installs "
                           "it); the submission was read without the course's checks on links")
            record = Submission(student, assignment_id, resources["metadata"]["path"])
            _submissions[(student, assignment_id)] = record
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
        record = _submission(resources)
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
        student, assignment_id, notebook = _key(resources)
        record = _submission(resources)
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


def configure(c):
    """Apply the course's nbgrader settings to config ``c``."""
    # Set c.CourseDirectory.course_id before configure() to name your own offering of the course.
    if "course_id" not in c.CourseDirectory:
        c.CourseDirectory.course_id = COURSE_ID
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
    # Seconds a notebook cell may run; set c.Execute.timeout before configure(), or pass --Execute.timeout=...
    if "timeout" not in c.Execute:
        c.Execute.timeout = DEFAULT_CELL_TIMEOUT_S
    # The student's notebook kernel sees only its own folder (when bubblewrap is available).
    c.Execute.kernel_manager_class = SandboxedKernelManager
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    # Feedback never shows hidden tests (nbgrader shows them by default).
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
    install_converters()
    return c
