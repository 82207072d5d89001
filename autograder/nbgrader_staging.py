"""Staging a submission for nbgrader: copy it following nothing, check each notebook against the released one.

Before nbgrader looks at a submission, ``submitted/<student>/<id>/`` is
copied into a staging folder, following nothing: links, hard links, pipes and
devices are left out, and a student folder (or assignment folder) that is a
link is not read at all. Each notebook is checked against the released one;
one that is missing, unreadable, a link, or whose nbgrader metadata were
changed (a copied grade cell, edited points, a deleted cell) is replaced by
the released notebook, with a note saying why. ``CourseAutograde``
(nbgrader_apps.py) points nbgrader at the staged copy.
"""
import glob
import json
import os

import nbformat
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.utils import parse_utc

from . import safe_paths
from .nbgrader_submissions import Note

MiB = 1024 * 1024
MAX_FILE_BYTES = 50 * MiB         # one submitted file nbgrader may see (a notebook with many figures fits)
MAX_SUBMISSION_BYTES = 200 * MiB  # one submission in all
MAX_FILES = 2000
STAGING_PREFIX = ".autograder_staged_"
DEFAULT_STRUCTURE = "{nbgrader_step}/{student_id}/{assignment_id}"
NBGRADER_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")


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
