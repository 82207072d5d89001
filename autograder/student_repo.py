"""Export the repository students receive: everything but what grades them.

Left out: solutions/ (reference solutions), autograder/hidden/ (hidden
suites), tests/ and benchmarks/ (they hold mutants and sample submissions
written from the reference), .ci/, and anything git ignores. The export is
then searched for every line of every solution region; a hit stops it.
"""
import shutil
import subprocess
from pathlib import Path

SECRET_PREFIXES = ("solutions/", "autograder/hidden/", "tests/", "benchmarks/", ".ci/")


class ExportError(Exception):
    pass


def tracked_files(repo):
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise ExportError(f"{repo} is not a git checkout; export needs git to know which files are tracked") from None
    return [name for name in out.decode().split("\0") if name]


def solution_lines(text):
    """The non-trivial lines inside ### BEGIN/END SOLUTION regions of ``text``."""
    lines, inside = [], False
    for line in text.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif inside and len(line.strip()) > 12:
            lines.append(line.strip())
    return lines


def secret_lines(solutions_dir):
    """Lines of solution regions (modules and notebook cells) that do not also appear as given code."""
    import nbformat

    from .release import strip_solutions
    solutions_dir = Path(solutions_dir)
    texts = [p.read_text() for p in solutions_dir.rglob("*.py")]
    for path in solutions_dir.rglob("*.ipynb"):
        texts += [cell.source for cell in nbformat.read(path, as_version=4).cells]
    secret = {line for text in texts for line in solution_lines(text)}
    given = {line.strip() for text in texts for line in strip_solutions(text).splitlines()}
    return secret - given


def leaks(folder, secrets):
    found = []
    for path in Path(folder).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="ignore")
            found += [f"{path.relative_to(folder)}: {line}" for line in secrets if line in text]
    return found


def export(repo, dest):
    repo, dest = Path(repo), Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ExportError(f"{dest} exists and is not empty; choose a new folder")
    files = [f for f in tracked_files(repo) if not f.startswith(SECRET_PREFIXES)]
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)
    found = leaks(dest, secret_lines(repo / "solutions"))
    if found:
        shutil.rmtree(dest)
        raise ExportError("solution text would reach students, export removed: " + "; ".join(found[:5]))
    return files
