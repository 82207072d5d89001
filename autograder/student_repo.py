"""Export the repository students receive: everything but what grades them.

Left out: solutions/ (reference solutions), autograder/hidden/ (hidden
suites), tests/ and benchmarks/ (they hold mutants and sample submissions
written from the reference), .ci/, and anything git ignores. The
instructor's README.md is replaced by the students' (student_readme.md, with
a table of the lectures and assignments exported), and
the file course.py looks for to offer only the students' commands is
written. The export is then searched for every line of every solution
region; a hit stops it. With git=True the folder becomes a git repository
with one commit, ready to be a GitHub Classroom template.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

from .assignments import ASSIGNMENTS
from .errors import ExportError

SECRET_PREFIXES = ("solutions/", "autograder/hidden/", "tests/", "benchmarks/", ".ci/")
STUDENT_README = Path(__file__).resolve().parent / "student_readme.md"
# Files written in place of the instructor's (README.md) or not needed by students (the README's source).
REPLACED = {"README.md", "autograder/student_readme.md"}
# course.py offers only the students' commands where this file exists (keep the name in step with course.py).
STUDENT_MARKER = ".student-repository"
MARKER_TEXT = ("This is the students' copy of the course. Its course.py offers set-up, the public checks "
               "and the lectures; grading happens elsewhere.\n")
COMMIT_MESSAGE = "Course materials: lectures, assignments and public checks"
DEFAULT_AUTHOR = ("Course staff", "staff@course.invalid")


def tracked_files(repo):
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise ExportError(f"{repo} is not a git checkout; export needs git to know which files are tracked") from None
    return [name for name in out.decode().split("\0") if name]


def solution_lines(text):
    """The non-trivial lines (over 12 characters) inside ### BEGIN/END SOLUTION regions of ``text``."""
    from .release import INSIDE, solution_regions
    return [line.strip() for kind, line in solution_regions(text) if kind == INSIDE and len(line.strip()) > 12]


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


def week_of(name):
    """The week a lecture (``02_...``) or an assignment (``hw2_...``) belongs to, from its name."""
    found = re.match(r"(?:hw)?0*(\d+)_", name)
    return int(found.group(1)) if found else None


def course_table(dest):
    """The students' week-by-week table, from the lectures and assignments the export holds."""
    lectures = sorted(p.name for p in (dest / "lectures").glob("*.ipynb"))
    released = sorted(p.name for p in (dest / "assignments").iterdir() if p.is_dir()) \
        if (dest / "assignments").is_dir() else []
    weeks = sorted({week_of(name) for name in lectures + released} - {None})
    rows = ["| week | lecture (`lectures/`) | assignment (`assignments/`) | you edit |", "|---|---|---|---|"]
    for week in weeks + [None]:
        lecture = [f"`{name}`" for name in lectures if week_of(name) == week]
        homework = [name for name in released if week_of(name) == week]
        modules = [f"`{module}`" for name in homework for module in modules_of(dest, name)]
        if lecture or homework:
            rows.append(f"| {week or ''} | {', '.join(lecture) or '-'} | "
                        f"{', '.join(f'`{name}`' for name in homework) or '-'} | {', '.join(modules) or '-'} |")
    return "\n".join(rows)


def modules_of(dest, assignment_id):
    if assignment_id in ASSIGNMENTS:
        return ASSIGNMENTS[assignment_id].modules
    return sorted(p.name for p in (dest / "assignments" / assignment_id).glob("*.py"))


def gpu_assignments(dest):
    ids = [a.id for a in ASSIGNMENTS.values()
           if any(item.needs_gpu for item in a.items) and (dest / "assignments" / a.id).is_dir()]
    return ", ".join(f"`{assignment_id}`" for assignment_id in ids) or "The last assignment"


def students_readme(dest):
    """student_readme.md with the course table and the GPU assignment filled in for this export."""
    text = STUDENT_README.read_text()
    return text.replace("{{course table}}", course_table(dest)).replace("{{gpu assignments}}", gpu_assignments(dest))


def check_destination(repo, dest):
    """One clear reason to refuse DEST, before anything is written."""
    resolved_repo, resolved_dest = repo.resolve(), dest.resolve()
    if resolved_dest == resolved_repo or resolved_repo in resolved_dest.parents:
        raise ExportError(f"{dest} is inside the course repository {repo}; choose a folder outside it")
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file, not a folder; choose a new folder")
    if dest.exists() and any(dest.iterdir()):
        raise ExportError(f"{dest} exists and is not empty; choose a new folder")


def git_author():
    """The author git is configured with, else DEFAULT_AUTHOR (a fresh machine has none)."""
    def configured(key):
        done = subprocess.run(["git", "config", "--global", "--get", key], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""
    name, email = configured("user.name"), configured("user.email")
    return (name, email) if name and email else DEFAULT_AUTHOR


def init_git(dest):
    """Make DEST a git repository whose one commit holds the whole export."""
    name, email = git_author()
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    steps = [("init", ["init", "--quiet", "--initial-branch=main"]),
             ("add", ["add", "--all"]),
             ("commit", ["-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", COMMIT_MESSAGE])]
    for step, arguments in steps:
        done = subprocess.run(["git", *arguments], cwd=dest, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines() or ["no message"]
            raise ExportError(f"git {step} failed in {dest}: {last[-1]}")


def copy_files(repo, dest, names):
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)


def export(repo, dest, git=False):
    """Write the students' repository into DEST (new or empty); returns the files written."""
    repo, dest = Path(repo), Path(dest)
    check_destination(repo, dest)
    files = [f for f in tracked_files(repo) if not f.startswith(SECRET_PREFIXES) and f not in REPLACED]
    try:
        dest.mkdir(parents=True, exist_ok=True)
        copy_files(repo, dest, files)
        (dest / "README.md").write_text(students_readme(dest))
        (dest / STUDENT_MARKER).write_text(MARKER_TEXT)
    except OSError as exc:
        raise ExportError(f"could not write {dest}: {exc.strerror or exc}") from None
    files += ["README.md", STUDENT_MARKER]
    found = leaks(dest, secret_lines(repo / "solutions"))
    if found:
        shutil.rmtree(dest)
        raise ExportError("solution text would reach students, export removed: " + "; ".join(found[:5]))
    if git:
        init_git(dest)
    return files
