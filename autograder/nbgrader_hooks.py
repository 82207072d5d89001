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
this process's memory (nbgrader_submissions.py), never in a file a student
could write.

The pieces, one idea each: nbgrader_staging.py (copying and checking a
submission before nbgrader reads it), nbgrader_apps.py (the two converters and
how nbgrader is made to use them), nbgrader_preprocessors.py (RunEngine,
ExecuteKeepGoing, WriteEngineGrades) and nbgrader_submissions.py (what is
learned about each submission). This module applies them (``configure``) and
is what ``nbgrader_config.py`` imports; the names other modules import from it
are re-exported here.
"""
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from . import assignments
from .kernel_sandbox import SandboxedKernelManager
from .nbgrader_apps import CourseAutograde, CourseGenerateFeedback, install_converters
from .nbgrader_preprocessors import NOT_RUN_SENTENCE, REPORT_NAME, ExecuteKeepGoing, RunEngine, WriteEngineGrades
from .nbgrader_staging import STAGING_PREFIX, notebook_problem, released_notebooks
from .release import CODE_STUB

__all__ = ["configure", "COURSE_ID", "DEFAULT_CELL_TIMEOUT_S", "CourseAutograde", "CourseGenerateFeedback",
           "install_converters", "RunEngine", "ExecuteKeepGoing", "WriteEngineGrades", "REPORT_NAME",
           "NOT_RUN_SENTENCE", "STAGING_PREFIX", "notebook_problem", "released_notebooks"]

COURSE_ID = "nn-from-scratch"  # nbgrader's course_id unless nbgrader_config.py sets one
DEFAULT_CELL_TIMEOUT_S = 120


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
