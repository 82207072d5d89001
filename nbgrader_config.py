"""nbgrader configuration of the course. All settings live in autograder/nbgrader_hooks.py
(configure), where the tests check them; this file only applies them."""
from autograder.nbgrader_hooks import configure

# To name your own offering (nbgrader's course_id, default "nn-from-scratch") or change the limit per notebook
# cell (default 120 s), set them before configure(), e.g.:
#   get_config().CourseDirectory.course_id = "nn-2027"  # noqa: F821
#   get_config().Execute.timeout = 300  # noqa: F821
configure(get_config())  # noqa: F821  (nbgrader provides get_config)

# Autograde without running the students' notebooks (the engine grades the module either way; the
# feedback says the notebook was not run). Uncomment for a large class whose notebooks train or run demos:
# c = get_config()  # noqa: F821
# c.CourseAutograde.execute_notebooks = False
