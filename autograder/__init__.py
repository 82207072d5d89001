"""Grading engine of the course: trusted grader, untrusted worker.

Entry points: ``python -m autograder`` (cli.py) and ``grading.grade()``.
"""
__version__ = "0.1.0"
