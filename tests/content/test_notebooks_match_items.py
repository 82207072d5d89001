"""Every assignment notebook has one locked grade cell per item, with the item's points."""
import nbformat
import pytest

from autograder import assignments
from helpers import REPO


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
@pytest.mark.parametrize("assignment_id", sorted(assignments.ASSIGNMENTS))
def test_grade_cells_match_the_registry(folder, assignment_id):
    nb = nbformat.read(REPO / folder / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    items = {i.name: i.points for i in assignments.get(assignment_id).items}
    assert {k: v["points"] for k, v in cells.items()} == items
    assert all(v["locked"] for v in cells.values())


def test_nbgrader_config_grades_the_students_modules():
    from traitlets.config import Config

    from autograder.nbgrader_hooks import RunEngine, WriteEngineGrades, configure
    c = configure(Config())
    for a in assignments.ASSIGNMENTS.values():
        assert c.Autograde.exclude_overwriting[a.id] == list(a.modules)
    assert c.Autograde.sanitize_preprocessors[0] is RunEngine
    names = [p.__name__ for p in c.Autograde.autograde_preprocessors]
    assert names.index("WriteEngineGrades") == names.index("ExecuteKeepGoing") + 1
    assert names.index("WriteEngineGrades") < names.index("SaveAutoGrades")
    assert "ClearHiddenTests" in [p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert WriteEngineGrades in c.Autograde.autograde_preprocessors
