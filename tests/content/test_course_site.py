"""course_site.py: the course as a static site, checked in a real headless browser (Chromium).

The site is built once with the lectures executed, then every page is opened in Chromium through the
DevTools protocol: each page loads, each link between pages reaches an existing page (and anchor), and each
figure is an image the browser decoded and drew. Browser tests skip where Chromium is absent
(Debian/Ubuntu: apt-get install chromium).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow
BUILDER = REPO / "course_site.py"
CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


def build_site(out, *options, course=None, timeout=1800):
    args = [sys.executable, str(BUILDER), "--out", str(out), *options]
    if course is not None:
        args += ["--course", str(course)]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def course_copy(tmp_path, glossary=None):
    """A course folder with the lectures, released assignments and README (never solutions)."""
    course = tmp_path / "course"
    for folder in ("lectures", "assignments"):
        shutil.copytree(REPO / folder, course / folder)
    shutil.copy2(REPO / "README.md", course / "README.md")
    if glossary is not None:
        (course / "docs").mkdir()
        (course / "docs" / "glossary.md").write_text(glossary)
    return course


def course_sources():
    """The lectures and released assignment notebooks of the repository, and whether it has a glossary."""
    lectures = sorted((REPO / "lectures").glob("*.ipynb"))
    assignments = [p for p in sorted((REPO / "assignments").glob("*/*.ipynb")) if p.stem == p.parent.name]
    return lectures, assignments, (REPO / "docs" / "glossary.md").exists()


@pytest.fixture(scope="module")
def executed_site(tmp_path_factory):
    """(site folder, the builder's output, the sources as they were when the build started)."""
    out = tmp_path_factory.mktemp("executed") / "site"
    sources = course_sources()
    result = build_site(out)
    assert result.returncode == 0, result.stderr
    return out, result.stdout, sources


# ---------------------------------------------------------------- a browser on the DevTools protocol

class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (its file descriptors 3 and 4)."""

    def __init__(self):
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()
        self._profile = tempfile.TemporaryDirectory()

        def pipes_on_3_and_4():
            # dup first: a pipe may already sit on fd 3 or 4 and must not be overwritten before it is copied
            read_end, write_end = os.dup(to_child), os.dup(from_child)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             f"--user-data-dir={self._profile.name}", "--window-size=1280,900", "about:blank"],
            pass_fds=(3, 4), preexec_fn=pipes_on_3_and_4, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._last_id, self._events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", on_page=True)

    def _message(self, deadline):
        while b"\0" not in self._buffer:  # messages end with a NUL byte
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, on_page=False, timeout=60, **params):
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if on_page:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def open(self, url, timeout=60):
        """Navigate and wait for the load event (every image of the page fetched and decoded or failed)."""
        self._events.clear()
        self.call("Page.navigate", on_page=True, url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._message(deadline))

    def evaluate(self, expression):
        reply = self.call("Runtime.evaluate", on_page=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"])
        return reply["result"]["value"]

    def screenshot(self):
        import base64
        return base64.b64decode(self.call("Page.captureScreenshot", on_page=True, format="png")["data"])

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
            self.process.wait(10)
        except Exception:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()


# What a page reports about itself once loaded: its links, its element ids (anchors), its images.
PAGE_FACTS = """JSON.stringify({
  title: document.title,
  links: [...document.links].map(a => a.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  images: [...document.images].map(img => ({src: img.src.slice(0, 40), complete: img.complete,
    naturalWidth: img.naturalWidth, shownWidth: img.getBoundingClientRect().width}))
})"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    chromium = Browser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def crawled(executed_site, browser):
    """{page path: facts} for every page reached from index.html by following links in the browser."""
    out, _, _ = executed_site
    facts, queue = {}, [out / "index.html"]
    while queue:
        page = queue.pop()
        if page in facts:
            continue
        browser.open(page.as_uri())
        facts[page] = json.loads(browser.evaluate(PAGE_FACTS))
        for link in facts[page]["links"]:
            target = local_target(link)
            if target is not None and target.suffix == ".html" and target.exists() and out in target.parents:
                queue.append(target)
    return facts


def local_target(url):
    parsed = urllib.parse.urlparse(url)
    return Path(urllib.parse.unquote(parsed.path)) if parsed.scheme == "file" else None


# ---------------------------------------------------------------- the executed site

def test_a_progress_line_per_page_and_every_lecture_executed(executed_site):
    out, stdout, (lectures, assignments, glossary) = executed_site
    pages = len(lectures) + len(assignments) + glossary + 1
    progress = [line for line in stdout.splitlines() if line.startswith("[")]
    assert len(progress) == pages and progress[-1] == f"[{pages}/{pages}] index.html", stdout
    for lecture in lectures:
        assert f"lectures/{lecture.stem}.html  (executed," in stdout
        assert (out / "lectures" / f"{lecture.stem}.html").is_file()
    for notebook in assignments:
        assert f"assignments/{notebook.stem}.html  (as stored," in stdout  # instructions, never run


@needs_chromium
def test_every_page_loads_in_the_browser_and_every_link_resolves(executed_site, crawled, browser):
    out, _, _ = executed_site
    assert set(crawled) == set(out.rglob("*.html"))  # every page is reachable from the index, and loads
    anchors = {}  # page -> fragments that links expect it to have
    for page, facts in crawled.items():
        assert facts["title"], page
        for link in facts["links"]:
            target = local_target(link)
            if target is None:
                continue  # a web link
            assert target.exists(), f"{page.relative_to(out)} links to a missing {link}"
            fragment = urllib.parse.urlparse(link).fragment
            if fragment:
                anchors.setdefault(target, set()).add(fragment)
    # Chromium itself finds each anchor: after location.hash is set, :target is the element it scrolled to.
    for page, fragments in anchors.items():
        browser.open(page.as_uri())
        missing = [f for f in sorted(fragments)
                   if not browser.evaluate(f"location.hash = {json.dumps(f)}; document.querySelector(':target') !== null")]
        assert not missing, f"{page.relative_to(out)} has no element for #{missing[0]}"


@needs_chromium
def test_every_lecture_shows_its_figures_as_images_the_browser_drew(executed_site, crawled):
    out, _, (lectures, _, _) = executed_site
    pages = [page for page in crawled if page.parent == out / "lectures"]
    assert sorted(p.stem for p in pages) == [p.stem for p in lectures]
    for page in pages:
        images = crawled[page]["images"]
        assert images, f"{page.name} shows no figure"
        broken = [img for img in images if not (img["complete"] and img["naturalWidth"] > 0 and img["shownWidth"] > 0)]
        assert not broken, f"{page.name}: images the browser could not draw: {broken}"


@needs_chromium
def test_a_screenshot_of_a_figure_is_not_blank(executed_site, browser):
    """Secondary check, by pixels: scroll the first figure of lecture 1 into view and photograph it."""
    import io

    import matplotlib.image
    out, _, _ = executed_site
    browser.open((out / "lectures" / "01_sigmoid_neurons_and_activations.html").as_uri())
    box = browser.evaluate("(() => { const img = document.images[0]; img.scrollIntoView(); "
                           "const r = img.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
    pixels = matplotlib.image.imread(io.BytesIO(browser.screenshot()), format="png")
    left, top, width, height = (int(v) for v in box)
    figure = pixels[max(top, 0):top + height, max(left, 0):left + width, :3]
    assert figure.size and figure.std() > 0.05, "the figure's area of the screenshot is nearly one colour"


def page_text(path):
    """The text a reader sees in an HTML page: tags dropped, entities decoded, scripts and styles left out.

    Rendered code is split into highlighting spans, so a solution line is only found in this text, not in
    the raw HTML."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.hidden:
                self.parts.append(data)

    parser = Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts)


def solution_lines_in(site):
    """'page: line' for every line of a solution region found in the site, as text or in the raw files."""
    from autograder.student_repo import leaks, secret_lines
    secrets = secret_lines(REPO / "solutions")
    assert secrets  # the search has something to look for
    found = leaks(site, secrets)
    for page in site.rglob("*.html"):
        text = page_text(page)
        found += [f"{page.relative_to(site)}: {line}" for line in secrets if line in text]
    return found


def test_no_solution_line_reaches_the_site(executed_site):
    out, _, _ = executed_site
    assert solution_lines_in(out) == []


@needs_chromium
def test_no_solution_line_in_what_the_browser_shows(executed_site, crawled, browser):
    """The same search in the text Chromium shows on each page (innerText)."""
    from autograder.student_repo import secret_lines
    secrets = secret_lines(REPO / "solutions")
    for page in crawled:
        browser.open(page.as_uri())
        text = browser.evaluate("document.body.innerText")
        assert [line for line in secrets if line in text] == [], page


# ---------------------------------------------------------------- as stored, glossary, errors

GLOSSARY = """# Glossary

| term | meaning |
|---|---|
| **epoch** | one pass over the training data; see [lecture 2](../lectures/02_backpropagation_and_minibatches.ipynb#2.-Mini-batches) |

The sigmoid is $\\sigma(z) = 1 / (1 + e^{-z})$. See also [the notes](notes.md), which are not on the site.
"""


def test_as_stored_with_a_glossary(tmp_path):
    course = course_copy(tmp_path, glossary=GLOSSARY)
    out = tmp_path / "site"
    result = build_site(out, "--skip-execution", course=course)
    assert result.returncode == 0, result.stderr
    assert "glossary.html  (markdown," in result.stdout and "(executed," not in result.stdout
    assert "course_site: warning: glossary.html: the link to notes.md leads to no page of the site" in result.stderr
    glossary = (out / "glossary.html").read_text()
    assert "<table>" in glossary and "<strong>epoch</strong>" in glossary
    # The link to the lecture's notebook now leads to its page on the site.
    assert 'href="lectures/02_backpropagation_and_minibatches.html#2.-Mini-batches"' in glossary
    assert '<a href="glossary.html">Glossary</a>' in (out / "index.html").read_text()
    for page in (out / "lectures").glob("*.html"):
        assert "<img" not in page.read_text(), f"{page.name}: a lecture as stored has no output"


def test_a_solution_copied_into_assignments_would_be_caught(tmp_path):
    """The leak check can fail: instructions into which the reference network.py was pasted leak it."""
    import nbformat
    course = course_copy(tmp_path)
    notebook = course / "assignments" / "hw2_backprop" / "hw2_backprop.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell((REPO / "solutions" / "hw2_backprop" / "network.py").read_text()))
    nbformat.write(nb, notebook)
    out = tmp_path / "site"
    assert build_site(out, "--skip-execution", course=course).returncode == 0
    found = solution_lines_in(out)
    assert found and all(f.startswith("assignments/hw2_backprop.html: ") for f in found), found


def one_line_error(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("course_site: error: "), result.stderr
    return lines[0]


def test_a_link_into_solutions_is_refused(tmp_path):
    course = course_copy(tmp_path)
    shutil.rmtree(course / "assignments" / "hw2_backprop")
    (course / "solutions").mkdir()
    shutil.copytree(REPO / "solutions" / "hw2_backprop", course / "solutions" / "hw2_backprop")
    (course / "assignments" / "hw2_backprop").symlink_to(course / "solutions" / "hw2_backprop")
    error = one_line_error(build_site(tmp_path / "site", "--skip-execution", course=course))
    assert "assignments/hw2_backprop/hw2_backprop.ipynb leads into solutions/" in error


def test_a_failing_lecture_names_its_cell_in_one_line(tmp_path):
    import nbformat
    course = course_copy(tmp_path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 · Broken"),
                                         nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(nb, course / "lectures" / "00_broken.ipynb")
    error = one_line_error(build_site(tmp_path / "site", course=course, timeout=300))
    assert "lectures/00_broken.ipynb: cell 3 raised ZeroDivisionError: division by zero" in error
    assert "--skip-execution" in error


def test_an_out_folder_it_did_not_make_is_left_alone(tmp_path):
    course = course_copy(tmp_path)
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    error = one_line_error(build_site(precious, "--skip-execution", course=course))
    assert "holds files this builder did not make" in error
    assert (precious / "notes.txt").read_text() == "keep me"
    error = one_line_error(build_site(precious / "notes.txt", "--skip-execution", course=course))
    assert "is a file, not a folder" in error


def test_a_rebuild_replaces_the_previous_site(tmp_path):
    course = course_copy(tmp_path)
    out = tmp_path / "site"
    assert build_site(out, "--skip-execution", course=course).returncode == 0
    (out / "stale.html").write_text("from an older build")
    result = build_site(out, "--skip-execution", course=course)
    assert result.returncode == 0, result.stderr
    assert not (out / "stale.html").exists() and (out / "index.html").exists()
