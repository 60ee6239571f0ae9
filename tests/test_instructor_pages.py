"""Issue 25: nothing a student wrote runs in the instructor's browser, and the class report
survives any one submission.

A class of 00_setup is graded with `python -m grading run`: an honest student, an attacker and
a student whose correct notebook holds `np.a.a.…` a thousand attributes deep. The attacker's
written answer holds `<img src=x onerror=…>`, a <script>, a `javascript:` link and an <svg>
with a script; one of its code cells displays text/html with a <script> and an `onerror`,
JavaScript, an SVG with a script and markdown with an `onerror`. Every payload, if it ran,
would mark the page, write a file into the course through /api/contents, open a terminal
through /api/terminals, and give the attacker full manual points and extra credit through the
formgrader's API, as the instructor's session allows.

In headless Chromium (as tests/test_browser.py): the attacker's submission in the formgrader,
its feedback page and the class report run none of it (no mark, no file, no terminal, no score
changed), and show it as text; the formgrader still works under its Content-Security-Policy
(its pages log no violation, and a score typed by the instructor is saved). With the
sanitiser switched off, the policy alone stops the same submission page; served as nbgrader
would serve it by default (no policy, terminals on), the same page runs the payloads and they
write the file, open terminals and take the points (the control: the checks are not vacuous).
Fast tests check the sanitiser, the policy and the report's integrity scan without a browser.
"""

from __future__ import annotations

import contextlib
import html.parser
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

import course

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402
import services  # noqa: E402
from services import Formgrader  # noqa: E402

from grading import course_folder, formgrader_guard, report, sanitize  # noqa: E402

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
ASSIGNMENT = "00_setup"
WRITTEN = "written_why_generation_is_hard"  # 00_setup's written question (graded by hand)
MARK = "__XSS_MARKER__"
WROTE = "XSS_WROTE_THIS.txt"

# What every payload does when it runs (WHERE names the payload).
PAYLOAD = r"""
(function () {
  window.__XSS_MARKER__ = (window.__XSS_MARKER__ || []).concat([WHERE]);
  document.title = "XSS RAN";
  var m = document.cookie.match(/_xsrf=([^;]+)/);
  var h = {"Content-Type": "application/json",
           "X-XSRFToken": m ? decodeURIComponent(m[1]) : ""};
  var root = location.pathname.split("/formgrader")[0];
  var send = function (url, method, body) {
    return fetch(root + url, {method: method, headers: h, credentials: "same-origin",
                              body: body === undefined ? undefined : JSON.stringify(body)});
  };
  send("/api/contents/XSS_WROTE_THIS.txt", "PUT",
       {type: "file", format: "text", content: "written by a submission"});
  send("/api/terminals", "POST");
  if (window.submission_id) {
    fetch(root + "/formgrader/api/grades?submission_id=" + window.submission_id,
          {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (grades) {
        grades.forEach(function (g) {
          send("/formgrader/api/grade/" + g.id, "PUT",
               {manual_score: g.max_score, extra_credit: 100});
        });
      });
  }
})();
"""


def payload(where: str) -> str:
    return PAYLOAD.replace("WHERE", repr(where))


def in_attribute(where: str) -> str:
    """The payload as an event handler's value (no quotes or line breaks in it)."""
    import base64

    return "eval(atob('" + base64.b64encode(payload(where).encode()).decode() + "'))"


def attacker_notebook():
    notebook = hostile.answered(ASSIGNMENT)
    for cell in notebook.cells:
        meta = course.nbgrader_meta(cell)
        if cell.cell_type == "markdown" and meta.get("grade_id") == WRITTEN:
            cell.source = (
                "Generation is hard because the space of images is vast.\n\n"
                f'<img src=x onerror="{in_attribute("markdown onerror")}">\n\n'
                f"<script>{payload('markdown script')}</script>\n\n"
                f"[a link](javascript:{in_attribute('markdown link')})\n\n"
                f"<svg><script>{payload('markdown svg')}</script></svg>\n")
        elif cell.cell_type == "code" and meta.get("grade_id") == "normalize_images":
            handler = in_attribute("html onerror").replace("'", "\\'")
            markdown_handler = in_attribute("markdown output").replace("'", "\\'")
            cell.source += (
                "\nfrom IPython.display import HTML, SVG, Javascript, Markdown, display\n"
                f"display(HTML('<script>' + {payload('html script')!r} + '</script>'\n"
                f"             '<img src=x onerror=\"{handler}\">'))\n"
                f"display(Javascript({payload('javascript output')!r}))\n"
                "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>' + "
                f"{payload('svg output')!r} + '</script></svg>'))\n"
                f"display(Markdown('<img src=x onerror=\"{markdown_handler}\">'))\n")
    return notebook


def deep_notebook():
    """A correct notebook whose answer cell holds a statement nested 1000 attributes deep
    (ast.unparse recurses on it)."""
    notebook = hostile.answered(ASSIGNMENT)
    for cell in notebook.cells:
        if course.nbgrader_meta(cell).get("grade_id") == "class_counts":
            cell.source += "\nif False:\n    np" + ".a" * 1000 + " = 1\n"
    return notebook


class Tags(html.parser.HTMLParser):
    """The elements and attributes a browser would make of an HTML page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict, bool]] = []  # (tag, attributes, in the notebook)
        self.scripts: list[tuple[dict, str, bool]] = []  # inline: (attributes, text, ...)
        self.notebook = False
        self.script: tuple[dict, list[str], bool] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.notebook = self.notebook or attrs.get("id") == "notebook"
        self.found.append((tag, attrs, self.notebook))
        if tag == "script" and not attrs.get("src"):
            self.script = (attrs, [], self.notebook)

    def handle_data(self, data):
        if self.script is not None:
            self.script[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            attrs, text, notebook = self.script
            self.scripts.append((attrs, "".join(text), notebook))
            self.script = None

    def live(self) -> list[str]:
        """What could run script: an event handler or `javascript:` URL but nbgrader's own
        handlers; a frame, object, embed, form, base or refresh; a <script> but nbgrader's and
        nbconvert's own (the formgrader's files, the CDN's MathJax and its configuration or its
        stand-in, and the inline scripts of nbgrader's templates, before the notebook)."""
        patterns, handlers = formgrader_guard.nbgrader_scripts()
        bad = []
        for tag, attrs, notebook in self.found:
            bad += [f"<{tag} {name}={value!r}>" for name, value in attrs.items()
                    if name.startswith("on") and (notebook or value not in handlers)]
            bad += [f"<{tag} {name}={value!r}>" for name, value in attrs.items()
                    if value and "javascript:" in re.sub(r"\s", "", value.lower())]
            source = attrs.get("src") or ""
            refresh = (attrs.get("http-equiv") or "").lower() == "refresh"
            if tag in ("iframe", "frame", "object", "embed", "form", "base") or (
                    tag == "meta" and (notebook or refresh)) or (
                    tag == "script" and source and (notebook or not (
                        source.startswith("/formgrader/static/") or source.startswith(
                            "https://cdnjs.cloudflare.com/ajax/libs/mathjax/")))):
                bad.append(f"<{tag} {attrs}>")
        for attrs, text, notebook in self.scripts:
            if attrs.get("type") == "text/x-mathjax-config" and not notebook:
                continue
            if notebook or not (text == formgrader_guard.MATHJAX_STAND_IN
                                or any(p.fullmatch(text) for p in patterns)):
                bad.append(f"<script {attrs}>{text[:200]}")
        return bad


# ---- fast tests: the sanitiser, the policy, the integrity scan --------------------------------


def _exporter(template: str):
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", str(course.REPO)).load_config()
    css = Path(handlers.static_path) / "node_modules" / "bootstrap" / "dist" / "css"
    return HTMLExporter(config=config, template_name=template,  # as nbgrader sets them up
                        extra_template_basedirs=[handlers.template_path],
                        extra_template_paths=[str(css)])


def _attacker_outputs():
    """The attacker's notebook with the outputs its payload cell displays (not run)."""
    notebook = attacker_notebook()
    for cell in notebook.cells:
        if course.nbgrader_meta(cell).get("grade_id") == "normalize_images":
            cell.outputs = [
                nbformat.v4.new_output("display_data", data={
                    "text/html": f"<script>{payload('html script')}</script>"
                                 f'<img src=x onerror="{in_attribute("html onerror")}">'
                                 "<table><tr><th>kept</th></tr></table>",
                    "text/plain": "<HTML>"}),
                nbformat.v4.new_output("display_data", data={
                    "application/javascript": payload("javascript output"),
                    "text/plain": "<JS>"}),
                nbformat.v4.new_output("display_data", data={
                    "image/svg+xml": f"<svg><script>{payload('svg')}</script></svg>",
                    "text/plain": "<SVG>"}),
                nbformat.v4.new_output("display_data", data={
                    "text/markdown": f'<img src=x onerror="{in_attribute("md output")}"> '
                                     "**kept**", "text/plain": "<MD>"}),
                nbformat.v4.new_output("display_data", data={
                    "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                    "text/plain": "widget"})]
    return notebook


@pytest.mark.parametrize("template", ["formgrade", "feedback"])
def test_sanitised_pages_show_student_markup_as_text(template):
    """nbgrader's two templates, with the course's config: every payload is inert (no element
    or attribute that runs script), and the written answer still reads as text."""
    resources = {"base_url": "", "assignment_id": ASSIGNMENT, "notebook_id": "setup",
                 "submission_id": "abc", "index": 0, "total": 1,
                 "student": '<img src=x onerror="alert(1)">', "first_name": None,
                 "last_name": None, "notebook_path": '"><script>alert(1)</script>',
                 "nbgrader": {"notebook": "setup", "score": 0, "max_score": 6,
                              "late_penalty": 0}}
    notebook = _attacker_outputs()
    for cell in notebook.cells:  # what nbgrader's GetGrades adds for the feedback template
        meta = course.nbgrader_meta(cell)
        if meta.get("grade") or meta.get("task"):
            meta.update(score=0.0, points=meta.get("points", 0.0))
    page, _ = _exporter(template).from_notebook_node(notebook, resources=resources)
    assert Tags(page).live() == []
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Generation is hard because" in text
    assert '<img src=x onerror="eval(atob(' in text  # shown to the grader, as text
    assert "kept" in text and "<th>kept</th>" in page  # safe markup stays markup
    if template == "formgrade":
        assert '&lt;img src=x onerror="alert(1)"&gt;' in page  # the student id, escaped


def test_sanitiser_allowlist_is_nbconverts_bleach():
    cleaned = sanitize.clean('<a href="javascript:alert(1)" onclick="x()">a</a>'
                             '<a href="https://example.org" title="t">b</a>'
                             "<p class=btn id=submit style='position:fixed'>p</p>"
                             "<math><mi xlink:href=javascript:alert(1)>x</mi></math>")
    assert Tags(cleaned).live() == []
    assert '<a href="https://example.org" title="t">b</a>' in cleaned
    assert "<p>p</p>" in cleaned  # no class, id or style: nothing dresses up as the formgrader


def test_policy_allows_nbgrader_scripts_only():
    """The page's own inline scripts (values that stay inside their strings) and handlers are
    allowed by hash; the same script with a value that leaves its string, or a script in the
    notebook part of the page, is not."""
    def page(value: str, extra: str = "") -> str:
        return ("<html><head><script type='text/javascript'>\nvar submission_id = \""
                + value + '";\nvar notebook_id = "setup";\nvar assignment_id = "00_setup";\n'
                'var base_url = "/formgrader";\n</script></head><body>'
                '<span onclick="toggle_name(true);"></span><div id="notebook">'
                + extra + "</div></body></html>")

    good = formgrader_guard.policy(page("abc123"), "http://127.0.0.1:8888")
    script = ('\nvar submission_id = "abc123";\nvar notebook_id = "setup";\n'
              'var assignment_id = "00_setup";\nvar base_url = "/formgrader";\n')
    assert formgrader_guard._hash(script) in good
    assert formgrader_guard._hash("toggle_name(true);") in good
    assert "script-src http://127.0.0.1:8888/formgrader/static/ 'unsafe-hashes'" in good
    assert "'unsafe-inline'" not in good.split("script-src")[1].split(";")[0]
    assert "connect-src http://127.0.0.1:8888/formgrader/api/;" in good
    evil = formgrader_guard.policy(page('x"; alert(1); "'), "http://127.0.0.1:8888")
    assert evil.count("'sha256-") == 1  # the handler only
    late = formgrader_guard.policy(page("abc", "<script>\nvar base_url = \"x\";\n</script>"),
                                   "http://h")
    assert late.count("'sha256-") == 2
    files = formgrader_guard.policy(page("abc"), "http://h", scripts=False)
    assert "script-src 'none'" in files and files.endswith("sandbox")


def test_policy_transform_on_the_formgrader_only():
    """The server's transform: a formgrader page gets its policy, no-store, and the MathJax
    stand-in for the CDN's script; a 304 keeps the policy the browser's copy came with (no
    header: Jupyter's default would replace it); other paths are left as Jupyter made them."""
    from tornado.httputil import HTTPHeaders

    policy = formgrader_guard.transform("/")

    def send(path, status=200, body=b""):
        request = SimpleNamespace(path=path, protocol="http", host="127.0.0.1:8888")
        headers = HTTPHeaders({"Content-Security-Policy": "frame-ancestors 'self'",
                               "Content-Type": "text/html; charset=UTF-8",
                               "Content-Length": str(len(body))})
        return policy(request).transform_first_chunk(status, headers, body, True)

    page = (b'<html><head><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/'
            b'latest.js?config=TeX-AMS_CHTML-full,Safe"> </script></head><body>'
            b'<div id="notebook"><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/'
            b'x.js"></script></div></body></html>')
    status, headers, body = send("/formgrader/submissions/abc/", body=page)
    stand_in = formgrader_guard.MATHJAX_STAND_IN
    assert body.decode().count(stand_in) == 1 and b"mathjax/x.js" in body  # nbgrader's only
    assert headers["Content-Length"] == str(len(body)) and headers["Cache-Control"] == "no-store"
    assert formgrader_guard._hash(stand_in) in headers["Content-Security-Policy"]
    status, headers, body = send("/formgrader/submissions/abc/", status=304)
    assert "Content-Security-Policy" not in headers
    status, headers, body = send("/lab", body=page)
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self'" and body == page


def test_integrity_scan_of_a_deep_expression(tmp_path):
    """ast.unparse recurses: a 1000-deep attribute chain is flagged, not a crash."""
    course_dir = tmp_path / "course"
    released = course.EXERCISES / ASSIGNMENT / course.solution_notebook(ASSIGNMENT).name
    (course_dir / "exercises" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(released, course_dir / "exercises" / ASSIGNMENT / released.name)
    submitted = tmp_path / released.name
    nbformat.write(deep_notebook(), str(submitted))
    flags = report.integrity_flags(submitted, ASSIGNMENT, course_dir)
    assert flags == ["class_counts: reassigns np.… (1000 levels deep)"], flags
    notebook = deep_notebook()
    for cell in notebook.cells:  # deeper than Python's parser goes
        if course.nbgrader_meta(cell).get("grade_id") == "class_counts":
            cell.source += "\nx = " + "-" * 100_000 + "1\n"
    nbformat.write(notebook, str(submitted))
    flags = report.integrity_flags(submitted, ASSIGNMENT, course_dir)
    assert flags == ["class_counts: could not be scanned (MemoryError: nested too deep?)"]


# ---- the graded class, the formgrader and the browser -----------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded by one `python -m grading run` (which also writes feedback and the
    report)."""
    root = tmp_path_factory.mktemp("instructor_pages")
    folder, course_dir = root / "submissions", root / "course"
    folder.mkdir()
    nbformat.write(hostile.answered(ASSIGNMENT), str(folder / "honest.ipynb"))
    nbformat.write(attacker_notebook(), str(folder / "attacker.ipynb"))
    nbformat.write(deep_notebook(), str(folder / "deep_attribute.ipynb"))
    result = subprocess.run(
        [sys.executable, "-m", "grading", "run", ASSIGNMENT, str(folder), "--course",
         str(course_dir), "--jobs", "2", "--timeout", "60"],
        capture_output=True, text=True, timeout=1200, cwd=course.REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return course_dir


def _grades(course_dir: Path) -> dict[str, list]:
    """Every manual score, extra credit and comment in the gradebook, by (student, cell)."""
    owner = ("JOIN submitted_notebook n ON x.notebook_id = n.id JOIN submitted_assignment s "
             "ON n.assignment_id = s.id JOIN base_cell c ON x.cell_id = c.id")
    with sqlite3.connect(f"file:{course_dir / 'gradebook.db'}?mode=ro", uri=True) as db:
        found = {f"{student}:{cell}": [score, extra] for student, cell, score, extra in db.execute(
            f"SELECT s.student_id, c.name, x.manual_score, x.extra_credit FROM grade x {owner}")}
        found.update({f"{student}:{cell}:comment": [text] for student, cell, text in db.execute(
            f"SELECT s.student_id, c.name, x.manual_comment FROM comment x {owner}")})
        found.update({f"{student}:flagged": [flag] for student, flag in db.execute(
            "SELECT s.student_id, n.flagged FROM submitted_notebook n JOIN "
            "submitted_assignment s ON n.assignment_id = s.id")})
    return found


def _submission_ids(course_dir: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{course_dir / 'gradebook.db'}?mode=ro", uri=True) as db:
        return dict(db.execute(
            "SELECT s.student_id, n.id FROM submitted_notebook n JOIN submitted_assignment s "
            "ON n.assignment_id = s.id").fetchall())


def _files(course_dir: Path) -> set[str]:
    """The course's files, but what the gradebook and the seal keep changing."""
    return {str(p.relative_to(course_dir)) for p in course_dir.rglob("*") if p.is_file()
            and not p.name.startswith("gradebook.db") and ".grading" not in p.parts
            and ".ipynb_checkpoints" not in p.parts}


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail("the instructor-page tests need chromium and chromedriver")
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    driver.set_window_size(1400, 1000)
    yield driver
    driver.quit()


def _visit(driver, url: str, settle: float = 3.0) -> list[str]:
    """Open `url`, give any payload time to run and its requests time to land; the page's
    console messages (Content-Security-Policy violations among them)."""
    driver.get_log("browser")  # forget earlier pages' messages
    driver.get(url)
    time.sleep(settle)
    return [entry["message"] for entry in driver.get_log("browser")]


def _ran(driver) -> list:
    return driver.execute_script(
        f"return [window.{MARK} || null, document.title === 'XSS RAN']")


def _violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


def _wait(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, message
        time.sleep(0.25)
    return found


def _untouched(course_dir: Path, grades_before: dict, files_before: set, formgrader,
               expected: dict | None = None) -> None:
    """No file written into the course, no terminal, no score or comment changed (but those
    in `expected`)."""
    assert not list(course_dir.rglob(WROTE)), "a payload wrote into the course"
    assert _files(course_dir) - files_before == set()
    assert formgrader.call("/api/terminals")[0] == 404  # terminals are off
    after = _grades(course_dir)
    assert after == {**grades_before, **(expected or {})}, (
        {k: (grades_before.get(k), v) for k, v in after.items() if grades_before.get(k) != v})


def test_formgrader_runs_nothing_a_student_wrote(graded, browser, tmp_path):
    """The attacker's submission page, opened by the instructor: no payload runs (no mark, no
    file, no terminal, no score), the payloads show as text, the page logs no policy violation
    (nbgrader's own scripts all run: the grader types a score and it is saved)."""
    from selenium.webdriver.common.by import By

    grades_before, files_before = _grades(graded), _files(graded)
    ids = _submission_ids(graded)
    formgrader = Formgrader(graded, tmp_path / "formgrader.log")
    try:
        status, headers, page = formgrader.call(f"/formgrader/submissions/{ids['attacker']}/")
        assert status == 200
        policy = headers["Content-Security-Policy"]
        assert "script-src " in policy and "'unsafe-inline'" not in policy.split(
            "script-src")[1].split(";")[0] and "'unsafe-eval'" not in policy
        assert Tags(page).live() == [], "the sanitiser left markup that runs"
        browser.get(f"{formgrader.url}/formgrader?token={formgrader.token}")  # log in
        for student in ("attacker", "honest", "deep_attribute"):
            messages = _visit(browser, f"{formgrader.url}/formgrader/submissions/{ids[student]}/")
            assert _ran(browser) == [None, False], f"a payload ran on {student}'s page"
            _wait(lambda: browser.execute_script(
                "return window.formgrader && formgrader.loaded && formgrader.grades.loaded "
                "&& formgrader.grade_uis.length > 0"), 30,
                f"nbgrader's formgrader did not start on {student}'s page")
            assert _violations(messages) == [], messages
        # The attacker's page shows its payloads as text.
        browser.get(f"{formgrader.url}/formgrader/submissions/{ids['attacker']}/")
        shown = browser.find_element(By.ID, "notebook-container").text
        assert '<img src=x onerror="eval(atob(' in shown and "<script>" in shown
        # Other formgrader pages work under the policy too.
        for page in ("manage_assignments", "manage_students", f"manage_submissions/{ASSIGNMENT}",
                     f"manage_students/attacker/{ASSIGNMENT}", f"gradebook/{ASSIGNMENT}"):
            messages = _visit(browser, f"{formgrader.url}/formgrader/{page}", settle=2)
            assert _violations(messages) == [], (page, messages)
        messages = _visit(browser, f"{formgrader.url}/formgrader/gradebook/{ASSIGNMENT}/setup")
        _wait(lambda: "Submission #" in browser.find_element(By.ID, "main-table").text, 30,
              "the gradebook page did not list the submissions")
        assert _violations(messages) == [], messages
        # The instructor grades the honest student's written answer by hand.
        browser.get(f"{formgrader.url}/formgrader/submissions/{ids['honest']}/")
        _wait(lambda: browser.execute_script(
            "return window.formgrader && formgrader.grades.loaded"), 30, "grades not loaded")
        box = browser.find_element(By.ID, WRITTEN)
        box.clear()
        box.send_keys("1.5")
        browser.find_element(By.TAG_NAME, "body").click()  # the change event saves it
        _wait(lambda: _grades(graded)[f"honest:{WRITTEN}"][0] == 1.5, 30,
              "the score the instructor typed was not saved")
        time.sleep(2)
        _untouched(graded, grades_before, files_before, formgrader,
                   {f"honest:{WRITTEN}": [1.5, grades_before[f"honest:{WRITTEN}"][1]]})
    finally:
        output = formgrader.stop()
    assert formgrader.process.returncode == 0, output[-3000:]
    assert course_folder.verify(graded) == [], "the session was not sealed"


def test_policy_alone_stops_an_unsanitised_submission(graded, browser, tmp_path):
    """Defence in depth: the formgrader of a copy of the course with the sanitiser switched
    off serves the attacker's markup as it is; its Content-Security-Policy alone stops every
    payload (Chromium reports the refusals), and a file next to the notebook runs in a
    sandbox. The same course served without the policy and with terminals (nbgrader's default)
    is the control: there the payloads run and do all they try."""
    copy = tmp_path / "course"
    shutil.copytree(graded, copy, symlinks=True)
    course_folder.prepare_course(copy, ASSIGNMENT)
    with open(copy / "nbgrader_config.py", "a") as config:
        config.write("\nc.HTMLExporter.sanitize_html = False\n"
                     "c.HTMLExporter.preprocessors = []\nc.HTMLExporter.filters = {}\n")
    course_folder.accept(copy)
    grades_before, files_before = _grades(copy), _files(copy)
    attacker = _submission_ids(copy)["attacker"]
    (copy / "autograded" / "attacker" / ASSIGNMENT / "extra.html").write_text(
        f"<html><head><script>{payload('file script')}</script></head><body>"
        f'<img src=x onerror="{in_attribute("file onerror")}"></body></html>')
    files_before = _files(copy)
    formgrader = Formgrader(copy, tmp_path / "formgrader.log")
    try:
        status, headers, page = formgrader.call(f"/formgrader/submissions/{attacker}/")
        assert status == 200 and Tags(page).live(), "the sanitiser was not off"
        browser.get(f"{formgrader.url}/formgrader?token={formgrader.token}")
        messages = _visit(browser, f"{formgrader.url}/formgrader/submissions/{attacker}/")
        assert _ran(browser) == [None, False], "a payload ran despite the policy"
        assert browser.execute_script(
            "return document.querySelectorAll('#notebook-container img[onerror]').length") > 0
        assert _violations(messages), messages
        _wait(lambda: browser.execute_script("return window.formgrader && formgrader.loaded"),
              30, "nbgrader's formgrader did not start")
        messages = _visit(browser, f"{formgrader.url}/formgrader/submissions/{attacker}/"
                                   "extra.html")  # a file next to the notebook: sandboxed
        assert _ran(browser) == [None, False]
        assert [m for m in messages if "sandboxed" in m or "Content Security Policy" in m]
        _untouched(copy, grades_before, files_before, formgrader)
    finally:
        formgrader.stop()
    # The control: the same course in JupyterLab as nbgrader's formgrader runs by default (no
    # policy, terminals on). The payloads run, write the file, open terminals and take the
    # points: what the checks above would have seen.
    port, token = services.free_port(), "control-token"
    command = [arg for arg in course_folder.formgrader_command(copy, port, token)
               if "formgrader_guard" not in arg and "terminals_enabled" not in arg]
    with open(tmp_path / "unguarded.log", "w") as log:
        server = subprocess.Popen(command, cwd=copy, env=course_folder.nbgrader_env(),
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    unguarded = SimpleNamespace(url=f"http://127.0.0.1:{port}", token=token)
    try:
        _wait(lambda: _answers(unguarded, "/formgrader/manage_assignments"), 120,
              "the unguarded JupyterLab did not start")
        browser.get(f"{unguarded.url}/formgrader?token={token}")
        _visit(browser, f"{unguarded.url}/formgrader/submissions/{attacker}/", settle=5)
        marks = _ran(browser)[0] or []
        assert {"markdown onerror", "markdown script", "html script", "html onerror"} <= set(
            marks), marks
        assert list(copy.rglob(WROTE)), "the payload did not write its file"
        assert json.loads(Formgrader.call(unguarded, "/api/terminals")[2]), "no terminal"
        assert _grades(copy)[f"attacker:{WRITTEN}"] == [2.0, 100.0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_a_session_without_its_defences_stops(graded, tmp_path):
    """Fail closed: should the policy's server extension not load (or terminals be on), the
    formgrader session stops at once with the reason, before anyone opens a page."""
    copy = tmp_path / "course"
    shutil.copytree(graded, copy, symlinks=True)
    course_folder.prepare_course(copy, ASSIGNMENT)
    course_folder.accept(copy)
    for dropped, reason in (("formgrader_guard", "no Content-Security-Policy"),
                            ("terminals_enabled", "terminals on")):
        script = ("import sys\nfrom pathlib import Path\nfrom grading import course_folder\n"
                  "made = course_folder.formgrader_command\n"
                  "course_folder.formgrader_command = lambda *a: [x for x in made(*a) "
                  f"if {dropped!r} not in x]\n"
                  f"course_folder.formgrader(Path({str(copy)!r}), {services.free_port()})\n")
        result = subprocess.run([sys.executable, "-c", script], cwd=course.REPO, timeout=300,
                                capture_output=True, text=True)
        assert result.returncode != 0 and reason in result.stderr, result.stderr[-3000:]


def _answers(server, path: str) -> bool:
    with contextlib.suppress(OSError):
        return Formgrader.call(server, path)[0] == 200
    return False


def test_feedback_and_report_run_nothing(graded, browser):
    """The attacker's feedback page and the class report, opened from disk (no server, no
    policy header): no payload runs, and the report's histogram still shows."""
    from selenium.webdriver.common.by import By

    feedback = graded / "feedback" / "attacker" / ASSIGNMENT / "setup.html"
    assert Tags(feedback.read_text()).live() == []
    _visit(browser, feedback.as_uri())
    assert _ran(browser) == [None, False]
    assert '<img src=x onerror="eval(atob(' in browser.find_element(By.TAG_NAME, "body").text
    page = graded / "reports" / ASSIGNMENT / "report.html"
    assert Tags(page.read_text()).live() == []
    messages = _visit(browser, page.as_uri(), settle=1)
    assert _ran(browser) == [None, False]
    assert browser.execute_script("return document.images[0].naturalWidth") > 0, messages
    assert "attacker" in browser.find_element(By.TAG_NAME, "body").text


def test_report_survives_a_deep_or_failing_scan(graded, tmp_path, monkeypatch):
    """The deep notebook was graded and the run wrote its report (the scan flags it); a scan
    that raises costs that student only, as a note to look at it by hand."""
    markdown = (graded / "reports" / ASSIGNMENT / "report.md").read_text()
    assert "`deep_attribute`: class_counts: reassigns np.… (1000 levels deep)" in markdown
    assert "| deep_attribute | 2 | 2 | 4 |" in markdown
    copy = tmp_path / "course"
    shutil.copytree(graded, copy, symlinks=True)
    scan = report.integrity_flags

    def failing(submitted, assignment, course_dir):
        if "deep_attribute" in submitted.parts:
            raise RecursionError("maximum recursion depth exceeded")
        return scan(submitted, assignment, course_dir)

    monkeypatch.setattr(report, "integrity_flags", failing)
    out = report.class_report(copy, ASSIGNMENT)
    markdown = (out / "report.md").read_text()
    assert ("`deep_attribute`: the integrity scan failed (RecursionError: maximum recursion "
            "depth exceeded); look at the submission by hand") in markdown
    assert "3 submission(s) graded of 3 collected" in markdown
    rows = json.dumps([line for line in markdown.splitlines() if line.startswith("| ")])
    assert "| honest | 2 | 2 | 4 |" in rows and "| attacker | 2 | 2 | 4 |" in rows
