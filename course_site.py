#!/usr/bin/env python3
"""Build the course's static web site: every page readable without running anything.

    python course_site.py                    # executes the lectures, writes site/
    python course_site.py --out public_html  # somewhere else
    python course_site.py --skip-execution   # render the lectures as stored (no outputs, no figures)

The lectures are stored without outputs, so a hosting page or an LMS shows no figure. This runs each
lecture top to bottom (nbclient, in its own folder, as the tests do) and renders it with its figures to HTML
(nbconvert; figures are embedded in the page). The assignments' instructions are their released
notebooks (assignments/<id>/<id>.ipynb), rendered as they are, never executed. docs/glossary.md is
included when it exists. Nothing is read from solutions/ or autograder/hidden/.

Open <out>/index.html in a browser, or copy the folder to any static host. Maths is typeset by MathJax,
loaded from a CDN when a page is opened; everything else is in the folder.
"""
import argparse
import html
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

COURSE = Path(__file__).resolve().parent
MARKER = ".course-site"  # marks a folder this script made, so a rebuild may replace it
SECRET_FOLDERS = ("solutions", "autograder/hidden")
MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: .25rem .5rem; }
code, pre { background: #f5f5f5; } pre { padding: .5rem; overflow-x: auto; }
nav.course-nav { font: 14px system-ui, sans-serif; padding: .5rem 1rem; border-bottom: 1px solid #ddd; }
nav.course-nav a { margin-right: 1rem; }
"""


class SiteError(Exception):
    """A problem the person building the site can fix; the message is one line saying how."""


@dataclass
class Page:
    kind: str        # "lecture", "assignment" or "glossary"
    source: Path
    target: str      # path of the HTML page inside the site, with "/"
    title: str = ""


# ---------------------------------------------------------------- what goes on the site

def find_pages(course):
    """The lectures, the released assignment notebooks and the glossary of ``course``, in site order."""
    pages = [Page("lecture", path, f"lectures/{path.stem}.html") for path in sorted((course / "lectures").glob("*.ipynb"))]
    if not pages:
        raise SiteError(f"no lectures found in {course / 'lectures'}; is {course} the course folder? (see --course)")
    assignments = course / "assignments"
    for folder in sorted(p for p in assignments.iterdir() if p.is_dir()) if assignments.is_dir() else []:
        notebook = folder / f"{folder.name}.ipynb"
        if notebook.is_file():
            pages.append(Page("assignment", notebook, f"assignments/{folder.name}.html"))
    glossary = course / "docs" / "glossary.md"
    if glossary.is_file():
        pages.append(Page("glossary", glossary, "glossary.html"))
    for page in pages:
        refuse_secret(course, page.source)
    return pages


def refuse_secret(course, path):
    """Solutions and hidden suites never reach the site, not even through a link."""
    real = path.resolve()
    for folder in SECRET_FOLDERS:
        secret = (course / folder).resolve()
        if real == secret or secret in real.parents:
            raise SiteError(f"{path.relative_to(course)} leads into {folder}/, which never goes on the site; "
                            "replace the link with the released file")


def first_heading(text, fallback):
    match = re.search(r"^#+\s+(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else fallback


def course_title(course):
    readme = course / "README.md"
    return first_heading(readme.read_text(encoding="utf-8"), "Course") if readme.is_file() else "Course"


# ---------------------------------------------------------------- notebooks

def read_notebook(path):
    import nbformat
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # a damaged file: say which, in one line
        raise SiteError(f"{path} is not a readable notebook ({type(exc).__name__}: {exc})") from None


def execute(nb, path, course, timeout):
    """Run every cell of ``nb`` in its own folder, as a student would; a failing cell stops the build."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    os.environ.pop("MPLBACKEND", None)  # figures go inline into the notebook
    # The kernel must be this environment's Python, which has the course installed.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    where = path.relative_to(course)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    # The kernel's own log (a warning per start) would break up the progress lines: it goes to a file,
    # read only if the kernel dies.
    with tempfile.TemporaryFile("w+") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except DeadKernelError:
            kernel_log.seek(0)
            last = (kernel_log.read().strip().splitlines() or ["no message"])[-1]
            raise SiteError(f"{where}: the Python kernel died while running it ({last})") from None
        except CellExecutionError as exc:
            cell = failed_cell(nb)
            raise SiteError(f"{where}: cell {cell} raised {exc.ename}: {exc.evalue} "
                            "(fix the lecture, or build with --skip-execution)") from None
        except CellTimeoutError:
            raise SiteError(f"{where}: a cell ran longer than {timeout} s "
                            "(raise --timeout, or build with --skip-execution)") from None
        except NoSuchKernel:
            raise SiteError("no Jupyter kernel named python3 here (python -m pip install ipykernel)") from None


def failed_cell(nb):
    """1-based number of the code cell that holds an error output, as Jupyter counts cells."""
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs):
            return number
    return "?"


def notebook_html(exporter, nb, title):
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


# ---------------------------------------------------------------- markdown and plain pages

def markdown_html(text):
    import mistune
    render = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "footnotes", "url", "math"])
    return render(text)


def plain_page(title, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script>MathJax = {{tex: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']]}}}};</script>"
            f"<script async src=\"{MATHJAX}\"></script></head>\n<body>\n{body}\n</body></html>\n")


def index_html(title, pages, executed, built):
    sections = []
    for kind, heading in (("lecture", "Lectures"), ("assignment", "Assignments"), ("glossary", "Reference")):
        items = [f'<li><a href="{p.target}">{html.escape(p.title)}</a></li>' for p in pages if p.kind == kind]
        if items:
            sections.append(f"<h2>{heading}</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    how = ("The lectures were run to show their output and figures." if executed
           else "The lectures are shown as stored, without their output (built with --skip-execution).")
    return plain_page(title, f"<h1>{html.escape(title)}</h1>\n" + "\n".join(sections)
                      + f"\n<p><small>{how} Assignments show their instructions; work on them in your own copy "
                        f"of the course. Built {built}.</small></p>")


# ---------------------------------------------------------------- links between pages

def add_navigation(page_html, page, pages):
    """A bar at the top of every page: the index, and the previous and next page."""
    up = posixpath.relpath("index.html", posixpath.dirname(page.target) or ".")
    links = [f'<a href="{up}">Course index</a>']
    i = pages.index(page)
    for label, other in (("Previous", pages[i - 1] if i > 0 else None), ("Next", pages[i + 1] if i + 1 < len(pages) else None)):
        if other is not None:
            href = posixpath.relpath(other.target, posixpath.dirname(page.target) or ".")
            links.append(f'<a href="{href}">{label}: {html.escape(other.title)}</a>')
    nav = f'<nav class="course-nav">{" ".join(links)}</nav>'
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + nav, page_html, count=1)


def link_pages(page_html, page, pages, warn):
    """A link to another page's source (lecture notebook, glossary) points to its HTML page instead.

    A link to a notebook or markdown file that is not on the site is left as it is, with a warning."""
    targets = {p.source.resolve(): p.target for p in pages}
    here = posixpath.dirname(page.target) or "."

    def relink(match):
        href, fragment = match.group(2), match.group(3) or ""
        target = targets.get((page.source.parent / href).resolve())
        if target is None:
            warn(f"{page.target}: the link to {href} leads to no page of the site")
            return match.group(0)
        return f'{match.group(1)}"{posixpath.relpath(target, here)}{fragment}"'

    return re.sub(r'(href=)"([^"#:?]+\.(?:ipynb|md))(#[^"]*)?"', relink, page_html)


# ---------------------------------------------------------------- the build

def prepare_out(out):
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file, not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise SiteError(f"{out} holds files this builder did not make; choose a new or empty folder with --out")
        shutil.rmtree(out)  # the previous build
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by course_site.py; rebuilding replaces this folder\n")


def build(course, out, execute_lectures=True, timeout=600, log=print, warn=print):
    course, out = Path(course).resolve(), Path(out).resolve()
    if out == course or out in course.parents:
        raise SiteError(f"--out {out} would replace the course itself; choose a folder of its own")
    pages = find_pages(course)
    for page in pages:
        page.title = (first_heading(page.source.read_text(encoding="utf-8"), page.source.stem) if page.kind == "glossary"
                      else first_heading(notebook_markdown(read_notebook(page.source)), page.source.stem))
    prepare_out(out)
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="lab")
    for number, page in enumerate(pages, start=1):
        start = time.monotonic()
        if page.kind == "glossary":
            text, done = plain_page(page.title, markdown_html(page.source.read_text(encoding="utf-8"))), "markdown"
        else:
            nb = read_notebook(page.source)
            run = execute_lectures and page.kind == "lecture"
            if run:
                execute(nb, page.source, course, timeout)
            text, done = notebook_html(exporter, nb, page.title), "executed" if run else "as stored"
        text = link_pages(add_navigation(text, page, pages), page, pages, warn)
        target = out / page.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        log(f"[{number}/{len(pages) + 1}] {page.target}  ({done}, {time.monotonic() - start:.1f} s)")
    built = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") + commit_note(course)
    (out / "index.html").write_text(index_html(course_title(course), pages, execute_lectures, built), encoding="utf-8")
    log(f"[{len(pages) + 1}/{len(pages) + 1}] index.html")
    return pages


def notebook_markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def commit_note(course):
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=course, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" from commit {commit}" if commit else ""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course_site.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder to write the site into (default: site/ in the course)")
    parser.add_argument("--skip-execution", action="store_true",
                        help="render the lectures as stored, without running them (no outputs or figures)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one lecture cell may run (default 600)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the course folder (default: this script's folder)")
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else args.course / "site"
    start = time.monotonic()
    try:
        pages = build(args.course, out, execute_lectures=not args.skip_execution, timeout=args.timeout,
                      log=lambda line: print(line, flush=True),
                      warn=lambda line: print(f"course_site: warning: {line}", file=sys.stderr, flush=True))
    except SiteError as exc:
        print(f"course_site: error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"course_site: error: {exc.name or exc} is not installed in {sys.executable}; "
              "run this in the course's environment (python3 course.py site)", file=sys.stderr)
        return 1
    print(f"site with {len(pages) + 1} pages in {Path(out).resolve()} ({time.monotonic() - start:.0f} s): "
          f"open {Path(out).resolve() / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
