"""Which students ``autograde --not-graded-only`` autogrades again."""
from .class_gradebook import read_report


def with_items_not_graded(coursedir, assignment_id, students):
    """The students whose engine report from their last autograding has an item NOT GRADED, or who have no
    report yet; a line is printed for each student skipped.

    This is how a class autograded where a GPU was missing is finished on a
    machine with one: nbgrader autogrades each chosen student again (every
    item, into the same gradebook), and nobody else is touched.
    """
    chosen = []
    for student in students:
        report = read_report(coursedir, assignment_id, student)
        not_graded = [n for n in (report or {}).get("not_graded", []) if isinstance(n, str)]
        if report is not None and not not_graded:
            print(f"skipped {student}: no item is NOT GRADED in the last autograded report")
            continue
        chosen.append(student)
    return chosen
