"""Gradescope: build an autograder zip for one assignment, and grade inside Gradescope's container.

``python -m autograder gradescope <id> --out hw1.zip`` writes a zip that follows Gradescope's
autograder specification: ``setup.sh`` and ``run_autograder`` at its root, the engine with this
assignment's hidden suite (Gradescope keeps an autograder private), ``requirements.txt`` pinning the
packages grading needs to the versions installed here, and ``gradescope_config.json``.

For every submission ``run_autograder`` calls :func:`run_in_gradescope`, which finds the module in
the upload (at its top, one folder down, or in the course repository's ``assignments/<id>/``), grades
it with ``python -m autograder grade`` in a separate process, and writes
``/autograder/results/results.json``: one test per item with the engine's feedback, the report's
table and warnings as the overall output. Whatever goes wrong, a results.json with score 0 and the
reason is written. No line of the hidden suite ever reaches results.json: every text is scrubbed
against the suite's source before it is written.

Gradescope has no GPU, so GPU items come back NOT GRADED (score 0) with the reason, and the overall
output says to expect them to be graded elsewhere.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from importlib import metadata
from pathlib import Path

from .errors import CourseError
from .report import NOT_GRADED_PREFIX, STUDENT_GRADED, STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED

PACKAGE_DIR = Path(__file__).resolve().parent
REPO = PACKAGE_DIR.parent
FILES_DIR = PACKAGE_DIR / "gradescope_files"
CONFIG_NAME = "gradescope_config.json"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
# What the grading process imports (the engine, pytest, the worker's NumPy); their dependencies follow.
GRADING_PACKAGES = ("numpy", "pytest", "tqdm")
SECRET_LINE_MIN = 21   # hidden-suite lines this long or longer never appear in results.json
REMOVED = "(a line that would show the hidden tests was removed here)"
# Engine files a Gradescope grading never uses: the nbgrader path, release and course tooling.
NOT_SHIPPED = {"kernel_sandbox.py", "demo.py", "release.py", "student_repo.py"}
NOT_SHIPPED_PREFIXES = ("class_", "nbgrader_")  # the nbgrader path: a class run and nbgrader's hooks


def shipped(module_name):
    """Whether an engine module goes into the zip: everything but the instructor's own commands."""
    return module_name not in NOT_SHIPPED and not module_name.startswith(NOT_SHIPPED_PREFIXES)


class BuildError(CourseError):
    """The zip cannot be built; the message is one line for the instructor."""


# ---------------------------------------------------------------- building the zip

def pinned_requirements(roots=GRADING_PACKAGES):
    """name -> installed version for ``roots`` and everything they need here (markers evaluated, no extras)."""
    from packaging.requirements import Requirement
    pins, todo = {}, list(roots)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in pins:
            continue
        try:
            pins[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise BuildError(f"{name} is not installed in this environment; grading needs it "
                             f"(activate the course's .venv)") from None
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return dict(sorted(pins.items()))


def minimum_python(pins):
    """The oldest Python 3.x that every pinned package's Requires-Python allows, as "3.x"."""
    from packaging.specifiers import SpecifierSet
    for minor in range(8, 30):
        version = f"3.{minor}.0"
        if all(SpecifierSet(metadata.metadata(name).get("Requires-Python") or "").contains(version)
               for name in pins):
            return f"3.{minor}"
    raise BuildError("no Python 3 version satisfies every pinned package's Requires-Python")


def uses_mnist(assignment):
    return "mnist_loader" in assignment.hidden_suite.read_text(encoding="utf-8")


def local_mnist_files():
    """The MNIST test-set files found on this machine (the course subset is the test set), or []."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_course_mnist_loader", REPO / "mnist_loader.py")
    if spec is None or not (REPO / "mnist_loader.py").is_file():
        return []
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    try:
        folder = loader.find_data_dir()
    except loader.MnistError:
        return []
    idx = [folder / name for name in list(loader.IDX_FILES)[2:]]
    if all(p.is_file() for p in idx):
        return idx
    return [folder / loader.PICKLE_FILE]


def engine_files(assignment):
    """(path in the zip, path here) for the engine and this assignment's hidden suite only."""
    files = [(f"autograder/{p.name}", p) for p in sorted(PACKAGE_DIR.glob("*.py")) if shipped(p.name)]
    for p in sorted((PACKAGE_DIR / "hidden").glob("*.py")):
        if not p.name.startswith("test_") or p == assignment.hidden_suite:
            files.append((f"autograder/hidden/{p.name}", p))
    return files


def setup_script(pins, mnist_shipped, needs_mnist):
    text = (FILES_DIR / "setup.sh").read_text(encoding="utf-8")
    if needs_mnist and not mnist_shipped:
        mnist = ("# MNIST (the hw2 learning item): not in the zip, so download it while the image is built.\n"
                 "(cd /autograder/source && /autograder/venv/bin/python -m mnist_loader download)\n")
    elif needs_mnist:
        mnist = "# MNIST (the hw2 learning item) ships in the zip under data/mnist.\n"
    else:
        mnist = ""
    return text.replace("@MIN_PYTHON@", minimum_python(pins)).replace("@MNIST@", mnist)


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)


def build_zip(assignment_id, out, visibility="visible", include_mnist=True):
    """Write the autograder zip for ``assignment_id`` to ``out`` (a fresh file renamed into place).

    Returns the names in the zip."""
    from . import assignments
    try:
        assignment = assignments.get(assignment_id)
    except assignments.UnknownAssignment as exc:
        raise BuildError(str(exc)) from None
    if visibility not in VISIBILITIES:
        raise BuildError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    out = Path(out)
    if out.is_dir():
        raise BuildError(f"{out} is a folder; give the zip's file name, e.g. {out / (assignment_id + '.zip')}")
    if not out.parent.is_dir():
        raise BuildError(f"folder {out.parent} does not exist")
    if not assignment.hidden_suite.is_file():
        raise BuildError(f"the hidden suite for {assignment_id} is not installed here ({assignment.hidden_suite})")
    pins = pinned_requirements()
    needs_mnist = uses_mnist(assignment)
    mnist = local_mnist_files() if needs_mnist and include_mnist else []
    config = {"assignment": assignment_id, "visibility": visibility,
              "built": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "pinned": pins}

    fd, fresh = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(fresh, "w") as archive:
            _add(archive, "setup.sh", setup_script(pins, bool(mnist), needs_mnist), executable=True)
            _add(archive, "run_autograder", (FILES_DIR / "run_autograder").read_bytes(), executable=True)
            _add(archive, "requirements.txt", "".join(f"{n}=={v}\n" for n, v in pins.items()))
            _add(archive, CONFIG_NAME, json.dumps(config, indent=2) + "\n")
            for name, path in engine_files(assignment):
                _add(archive, name, path.read_bytes())
            if needs_mnist:
                _add(archive, "mnist_loader.py", (REPO / "mnist_loader.py").read_bytes())
            for path in mnist:
                _add(archive, f"data/mnist/{path.name}", path.read_bytes())
            names = archive.namelist()
        os.chmod(fresh, 0o644)
        os.replace(fresh, out)
    finally:
        if os.path.exists(fresh):
            os.unlink(fresh)
    return names


# ---------------------------------------------------------------- inside Gradescope's container

def _entries(folder):
    """Sub-folders of ``folder``, never following a link, skipping hidden ones and macOS zip debris."""
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it
                          if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
                          and e.name != "__MACOSX")
    except OSError:
        return []


def _has_modules(folder, modules):
    return all(os.path.lexists(folder / m) for m in modules)


def find_module_folder(upload, assignment):
    """The folder of the upload to grade, and a note for the student (None when it is the upload itself).

    Students upload the module itself, a zip of the assignment folder (so the module is one folder
    down), or the course repository from GitHub (``assignments/<id>/``). Anything found is only
    located here; the engine still refuses links and special files with its own reason.
    """
    modules = assignment.modules
    wanted = " and ".join(modules)
    if _has_modules(upload, modules):
        return upload, None
    candidates = [d for d in _entries(upload) if _has_modules(d, modules)]
    for child in _entries(upload):  # two down, only in a folder named after the assignment
        nested = child / assignment.id
        if nested in _entries(child) and _has_modules(nested, modules):
            candidates.append(nested)
    if len(candidates) > 1:
        named = [c for c in candidates if c.name == assignment.id]
        candidates = named if len(named) == 1 else candidates
    if len(candidates) == 1:
        rel = candidates[0].relative_to(upload)
        return candidates[0], f"graded {rel.as_posix()}/{modules[0]} (found in the folder {rel.as_posix()}/ of your upload)"
    if candidates:
        listed = ", ".join(c.relative_to(upload).as_posix() + "/" for c in candidates)
        return upload, (f"your upload holds {wanted} in several folders ({listed}); upload only one "
                        f"(nothing was graded)")
    found = sorted(p.relative_to(upload).as_posix() for p in upload.rglob("*.py")
                   if len(p.relative_to(upload).parts) <= 3)[:10] if upload.is_dir() else []
    return upload, (f"{wanted} not found at the top of your upload or one folder down"
                    + (f"; it holds {', '.join(found)}" if found else "; it holds no .py file"))


def secret_lines(source_root):
    """Lines of the hidden suites (stripped, long enough to mean something) that must never be shown."""
    lines = set()
    for path in sorted((Path(source_root) / "autograder" / "hidden").glob("*.py")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if len(line) >= SECRET_LINE_MIN:
                lines.add(line)
    return lines


def scrub(text, secrets):
    """``text`` with every line that contains a hidden-suite line replaced by a notice."""
    if not text:
        return text
    return "\n".join(REMOVED if any(s in line for s in secrets) else line for line in str(text).split("\n"))


def _item_test(item, feedback, score, visibility):
    test = {"name": f"{item.name}: {item.what}", "score": round(float(score), 4),
            "max_score": float(item.points), "output": feedback, "output_format": "text",
            "visibility": visibility}
    return test


def _report_table(report):
    from .report import ItemResult, Report
    fields = set(ItemResult.__dataclass_fields__)
    items = [ItemResult(**{k: v for k, v in i.items() if k in fields}) for i in report["items"]]
    return Report(assignment=report["assignment"], items=items, warnings=list(report.get("warnings", []))).table()


def results_from_report(report, assignment, visibility, notes=()):
    """results.json's dict from the engine's JSON report."""
    from .report import NOT_GRADED
    by_name = {i["name"]: i for i in report["items"]}
    tests, not_graded_gpu = [], []
    for item in assignment.items:
        got = by_name.get(item.name)
        if got is None:
            tests.append(_item_test(item, NOT_GRADED_PREFIX + "this item was not part of the grading run", 0, visibility))
            continue
        feedback = got["feedback"]
        if got.get("status") == NOT_GRADED:
            reason = feedback.removeprefix(NOT_GRADED_PREFIX)
            feedback = f"NOT GRADED: {reason}"
            if item.needs_gpu:
                not_graded_gpu.append(item.name)
        test = _item_test(item, feedback, got["score"], visibility)
        if got.get("status") != NOT_GRADED:
            test["status"] = "passed" if got["score"] >= got["max_score"] else "failed"
        tests.append(test)
    status = report.get("status") or (STUDENT_PARTLY_GRADED if report.get("not_graded") else STUDENT_GRADED)
    why = report.get("why", "")
    lines = [_report_table(report)]
    if why:
        lines.append(f"Why: {why}")
    lines += list(notes)
    if not_graded_gpu:
        lines.append(f"NOT GRADED on Gradescope (it has no GPU): {', '.join(not_graded_gpu)}. They score 0 here; "
                     f"your instructor grades them on a machine with a GPU, so your final score can be higher.")
    return {"score": float(report["score"]), "output": "\n".join(lines), "output_format": "text",
            "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": status, "why": why, "seed": report.get("seed"),
                           "not_graded": list(report.get("not_graded", [])), "sandbox": report.get("sandbox")}}


def results_could_not_grade(reason, assignment, visibility):
    """results.json's dict when grading could not happen at all: score 0 and the reason."""
    text = f"Your submission could not be graded: {reason}"
    tests = [] if assignment is None else [
        _item_test(item, NOT_GRADED_PREFIX + reason, 0, visibility) for item in assignment.items]
    return {"score": 0.0, "output": text, "output_format": "text", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": STUDENT_NOT_GRADED, "why": reason}}


def nested_sandbox_problem():
    """None when a worker's bubblewrap sandbox can start here, else why not (one line).

    Gradescope grades inside a Docker container, where a sandbox inside the container may be refused.
    The probe uses the mounts a worker needs (a new /proc in its own PID namespace among them): a
    container can allow a bare sandbox and still refuse to mount /proc in one.
    """
    from . import sandbox
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed in this image"
    said = sandbox.sandbox_problem()  # the probe every grading uses: the worker's own mounts and flags
    return said and f"bubblewrap cannot make the grader's sandbox inside this container ({said})"


def write_results(path, results, secrets):
    """Scrub every text against the hidden suites, then write results.json to a fresh file and rename it."""
    results = dict(results)
    results["output"] = scrub(results.get("output", ""), secrets)
    results["tests"] = [dict(t, output=scrub(t.get("output", ""), secrets), name=scrub(t["name"], secrets))
                        for t in results.get("tests", [])]
    extra = dict(results.get("extra_data", {}))
    extra["why"] = scrub(extra.get("why", ""), secrets)
    results["extra_data"] = extra
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, fresh = tempfile.mkstemp(prefix=".results.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    os.replace(fresh, path)


def grade_with_engine(assignment, folder, source_root, sandbox=True):
    """Run ``python -m autograder grade`` on ``folder``; (report dict, None) or (None, reason).

    ``sandbox=False`` makes the engine grade without bubblewrap (it says so in its report) where a
    sandbox cannot start: otherwise every worker would fail to start and every item would score 0."""
    fd, report_path = tempfile.mkstemp(prefix="report-", suffix=".json")
    os.close(fd)
    timeout = assignment.limits.total_s + 180  # the engine's own budget, plus starting workers and probes
    env = dict(os.environ)
    if not sandbox:
        env["AUTOGRADER_NO_SANDBOX"] = "1"
    try:
        try:
            done = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment.id, str(folder),
                                   "--json", report_path], cwd=source_root, capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return None, f"grading took longer than {timeout:g} s and was stopped"
        print(done.stdout)
        print(done.stderr, file=sys.stderr)
        if done.returncode != 0:
            said = done.stderr.strip()
            said = said[said.find("cannot grade:"):] if "cannot grade:" in said else said[-1500:]
            return None, said[:1500] or f"the grader exited with status {done.returncode}"
        try:
            return json.loads(Path(report_path).read_text(encoding="utf-8")), None
        except (OSError, ValueError) as exc:
            return None, f"the grader's report could not be read ({exc})"
    finally:
        os.unlink(report_path)


def run_in_gradescope(root="/autograder"):
    """Grade ``root/submission`` and write ``root/results/results.json``; always returns 0 once it is written."""
    started = time.monotonic()
    root = Path(root)
    source = root / "source"
    results_path = root / "results" / "results.json"
    secrets, assignment, visibility = set(), None, "visible"
    try:
        secrets = secret_lines(source)
        config = json.loads((source / CONFIG_NAME).read_text(encoding="utf-8"))
        visibility = config.get("visibility", "visible")
        from . import assignments
        assignment = assignments.get(config["assignment"])
        notes = []
        problem = nested_sandbox_problem()
        if problem:
            notes.append(f"Note: {problem}; your code was graded without it, under the grader's other limits.")
            print(f"WARNING: {problem}. Student code runs without file-system isolation here: it can read the "
                  f"autograder's files. Grading continues without bubblewrap.")
        folder, where = find_module_folder(root / "submission", assignment)
        if where:
            notes.insert(0, f"Note: {where}.")
        report, reason = grade_with_engine(assignment, folder, source, sandbox=problem is None)
        if report is None:
            results = results_could_not_grade(reason, assignment, visibility)
        else:
            results = results_from_report(report, assignment, visibility, notes)
    except Exception as exc:  # whatever happened, Gradescope gets a results.json that says so
        traceback.print_exc()
        results = results_could_not_grade(f"the autograder failed ({type(exc).__name__}: {exc}); this is not "
                                          f"about your code, please tell your instructor", assignment, visibility)
    results["execution_time"] = int(round(time.monotonic() - started))
    write_results(results_path, results, secrets)
    print(f"results.json written: score {results['score']:g}")
    return 0


# ---------------------------------------------------------------- command line

def _build(args):
    try:
        names = build_zip(args.assignment, args.out, visibility=args.visibility, include_mnist=not args.no_mnist)
    except BuildError as exc:
        print(f"cannot build the Gradescope autograder: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot build the Gradescope autograder: {exc.strerror or exc}: {exc.filename or args.out}",
              file=sys.stderr)
        return 1
    mnist = [n for n in names if n.startswith("data/mnist/")]
    print(f"wrote {args.out}: {len(names)} files (setup.sh, run_autograder, the engine and the hidden suite of "
          f"{args.assignment}{', MNIST' if mnist else ''}). Upload it as a zip in the assignment's "
          f"'Configure Autograder' page, with the Ubuntu 22.04 or 24.04 base image.")
    return 0


def add_command(subparsers):
    p = subparsers.add_parser(
        "gradescope", help="build a Gradescope autograder zip for an assignment (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write an autograder zip following Gradescope's autograder specification: setup.sh\n"
                    "(installs bubblewrap and the course's pinned numpy/pytest in /autograder/venv),\n"
                    "run_autograder (grades the upload with this engine and writes results.json: one test\n"
                    "per item with the engine's feedback), the engine and this assignment's hidden suite.\n"
                    "Hidden-suite lines never appear in results.json. Gradescope has no GPU: GPU items are\n"
                    "reported NOT GRADED (score 0) with the reason.",
        epilog="exit status: 0 written; 1 it could not be built (the reason on one line).")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("--out", required=True, metavar="FILE.zip", help="the zip to write (replaced if it exists)")
    p.add_argument("--visibility", choices=VISIBILITIES, default="visible",
                   help="when students see each item's score and feedback (Gradescope's test visibility; "
                        "default: visible)")
    p.add_argument("--no-mnist", action="store_true",
                   help="do not put MNIST's test set in the zip for assignments that train on it; "
                        "setup.sh then downloads it")
    p.set_defaults(func=_build)
    return p
