"""What a student and a lecturer see, in a real browser (issue 15): JupyterLab on a free local
port, driven by headless Chromium through Selenium.

(a) an untouched exercise, Run All: a Setup cell without red stderr boxes, and the first task's
test cell stops with NotImplementedError; (b) the latent explorer: moving a slider redraws the
decoded image; (c) the live training view: one picture, replaced in place while `fit` runs, its
last frame labelled with the last epoch.

What instructors read (issue 29), files on disk in the same 1400 x 1000 page, no JupyterLab:
(d) a student's feedback page after a formgrader session gave the written answer its points:
figures as PNG images that render, the total with the hand-graded points, nothing from the
notebook runs; (e) the class report of 03_elbo (the most task columns) fits the window. The
classes are graded with `python -m grading run` in temporary folders (tests/course.py's
grade_class; 03_elbo's class is tests/conftest.py's elbo_class, shared with test_grading.py).

JupyterLab only sees copies in a temporary folder (its autosave never writes into the
repository). Screenshots go to a temporary folder too; its path is printed. Without Chromium,
chromedriver or selenium the module is skipped, unless COURSE_REQUIRE_BROWSER=1 (CI) makes that a
failure.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import course
from services import Formgrader

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import hostile  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--force-device-scale-factor=1"]
VIEWPORT = (1400, 1000)  # the window of the issue
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in view
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'  # stderr boxes and tracebacks

MISSING = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
if webdriver is None:
    MISSING.append("the Python package selenium")
MISSING_REASON = (f"the browser test needs {', '.join(MISSING)} (apt-get install chromium "
                  "chromium-driver; pip install -r requirements.txt)")
if MISSING and os.environ.get("COURSE_REQUIRE_BROWSER") != "1":
    pytest.skip(MISSING_REASON + "; COURSE_REQUIRE_BROWSER=1 makes this a failure",
                allow_module_level=True)

# The source of the code cell that contains `text` (CodeMirror 6 keeps one element per line).
FIND_CELL = """
const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')];
const source = cell => [...cell.querySelectorAll('.cm-line')].map(l => l.textContent).join('\\n');
return cells.find(cell => source(cell).includes(arguments[0])) || null;
"""
# What test (c) polls: the output areas, images and prompt of one cell, and a hash of the src.
OUTPUT_STATE = """
const cell = arguments[0];
const images = [...cell.querySelectorAll('.jp-OutputArea img')];
let hash = 0;
for (const ch of images.length ? images[0].src : '') hash = (hash * 31 + ch.charCodeAt(0)) | 0;
return {outputs: cell.querySelectorAll('.jp-OutputArea-child').length, images: images.length,
        src: images.length ? images[0].src.length + ':' + hash : null,
        prompt: cell.querySelector('.jp-InputPrompt').textContent.trim()};
"""
DESCRIBE = """
const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
const status = document.querySelector(panel + '.jp-Notebook-ExecutionIndicator');
const prompts = [...document.querySelectorAll(panel + '.jp-CodeCell .jp-InputPrompt')];
return 'kernel ' + (status ? status.dataset.status : 'not shown') + ', prompts '
       + prompts.map(p => p.textContent.trim()).join(' ');
"""
SIZE = """
const box = arguments[0].getBoundingClientRect();
return {width: Math.round(box.width), height: Math.round(box.height),
        natural: arguments[0].naturalWidth ? [arguments[0].naturalWidth, arguments[0].naturalHeight]
                                           : null};
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(request, line: str) -> None:
    """Print past pytest's output capture, so the screenshot folder and timings always show."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n[browser] {line}", flush=True)


class Lab:
    """One JupyterLab server and one headless Chromium page, with the few actions the tests need."""

    def __init__(self, url: str, token: str, folder: Path, shots: Path, log: Path):
        self.url, self.token, self.folder, self.shots, self.log = url, token, folder, shots, log
        self.driver, self.timeouts = None, 0
        self.sizes: dict[str, dict] = {}

    # --- Server
    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    # --- Page
    def wait(self, condition, timeout: float, message: str, poll: float = 0.25):
        """Wait until `condition()` is truthy; after `timeout` seconds fail with `message` and a
        screenshot of the window."""
        try:
            # An output re-rendered between finding an element and reading it: just poll again.
            return WebDriverWait(self.driver, timeout, poll_frequency=poll,
                                 ignored_exceptions=[StaleElementReferenceException]).until(
                lambda _: condition())
        except TimeoutException:
            self.timeouts += 1
            shot = self.shoot(f"timeout_{self.timeouts}")
            raise AssertionError(f"{message} (within {timeout} s); {self.describe()}; "
                                 f"screenshot {shot}") from None

    def describe(self) -> str:
        """The kernel's status and the prompts of the open notebook's code cells."""
        with contextlib.suppress(Exception):
            return self.driver.execute_script(DESCRIBE)
        return "page state unknown"

    def open(self, name: str) -> None:
        """Open notebook `name` (relative to the temporary folder) in a fresh workspace, so no
        earlier tab comes back, and wait for its kernel to be idle."""
        self.shut_down_kernels()
        workspace = re.sub(r"\W", "-", name)
        self.driver.get(f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={self.token}")
        self.wait(lambda: self.driver.find_elements(
            By.CSS_SELECTOR, f"{NOTEBOOK} .jp-CodeCell"),
            60, f"JupyterLab did not show {name}")

        def kernel_ready():
            # "Select Kernel" shows when JupyterLab's kernel list comes late: take the preferred
            # (preselected) kernel, as a user would.
            for button in self.driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
                button.click()
                return False
            kernels = self.api("GET", "/api/kernels")
            return (len(kernels) == 1 and kernels[0]["connections"] > 0
                    and kernels[0]["execution_state"] == "idle"
                    and self.driver.find_elements(By.CSS_SELECTOR, f"{NOTEBOOK} "
                                                  '.jp-Notebook-ExecutionIndicator[data-status="idle"]'))

        self.wait(kernel_ready, 60,
                  f"the kernel of {name} did not become idle; server log:\n{self.server_log()}")

    def check(self, tracebacks: bool = True) -> None:
        """Fail at once on a dialog (e.g. a dead kernel) or, with `tracebacks`, on an error shown
        in the notebook."""
        dialogs = [element.text for element in self.driver.find_elements(By.CSS_SELECTOR,
                                                                          ".jp-Dialog")]
        assert not dialogs, f"JupyterLab shows a dialog: {dialogs}"
        error = self.first_traceback() if tracebacks else None
        assert error is None, f"a cell failed:\n{error}"

    def menu(self, label: str, command: str) -> None:
        """Click menu `label`, then its enabled item that runs JupyterLab command `command`."""
        bar = self.wait(lambda: [element for element in self.driver.find_elements(
            By.CSS_SELECTOR, ".lm-MenuBar-item") if element.text.strip() == label],
            10, f"no menu {label!r}")
        bar[0].click()
        item = f'.lm-Menu-item[data-command="{command}"]:not(.lm-mod-disabled)'
        self.wait(lambda: [element for element in self.driver.find_elements(By.CSS_SELECTOR, item)
                           if element.is_displayed()], 5,
                  f"menu {label!r} has no enabled item for {command}")[0].click()

    def cell(self, text: str):
        """The code cell whose source contains `text`."""
        return self.wait(lambda: self.driver.execute_script(FIND_CELL, text), 10,
                         f"no code cell containing {text!r}")

    def select(self, cell) -> None:
        """Make `cell` the active cell in command mode (click its input prompt)."""
        cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
        self.wait(lambda: "jp-mod-active" in cell.get_attribute("class"), 5,
                  "the cell did not become active")

    @staticmethod
    def outputs(cell, selector: str = ".jp-OutputArea-output"):
        return cell.find_elements(By.CSS_SELECTOR, selector)

    def first_traceback(self) -> str | None:
        """The first traceback shown in the open notebook, if any (to fail fast with it)."""
        for element in self.driver.find_elements(
                By.CSS_SELECTOR, f"{NOTEBOOK} .jp-OutputArea-output{STDERR}"):
            text = element.text
            if "Traceback" in text or re.search(r"^\w+(Error|Exception)\b", text, re.M):
                return text[-2000:]
        return None

    def shoot(self, name: str, element=None) -> Path:
        """Save a screenshot of `element` (or the window) and remember its size in pixels."""
        path = self.shots / f"{name}.png"
        if element is None:
            self.driver.save_screenshot(str(path))
        else:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.screenshot(str(path))
            self.sizes[name] = self.driver.execute_script(SIZE, element)
        return path


def start_chromium():
    """A headless Chromium page whose viewport is VIEWPORT (1400 x 1000 pixels)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    # Size the window so that the page itself (the viewport) is 1400 x 1000.
    driver.set_window_size(*VIEWPORT)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * VIEWPORT[0] - inner[0], 2 * VIEWPORT[1] - inner[1])
    return driver


@pytest.fixture(scope="module")
def shots(request, tmp_path_factory) -> Path:
    """The module's screenshot folder (its path is printed)."""
    if MISSING:
        pytest.fail(MISSING_REASON + " (COURSE_REQUIRE_BROWSER=1)", pytrace=False)
    folder = tmp_path_factory.mktemp("browser_screenshots")
    say(request, f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory, shots):
    """JupyterLab on copies of the notebooks in a temporary folder, and a headless Chromium page
    of 1400 x 1000 pixels on it; both stopped at the end, also when a test fails."""
    started = time.perf_counter()
    base = tmp_path_factory.mktemp("browser")
    folder, settings = base / "notebooks", base / "lab-settings"
    for source in ("exercises/00_setup", "solutions/02_vae"):
        shutil.copytree(ROOT / source, folder / Path(source).name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    # Every cell stays in the page (no windowing), the notebook's kernel starts without asking,
    # and no news or update pop-ups.
    for plugin, values in {"notebook-extension/tracker": {"windowingMode": "none",
                                                          "autoStartDefaultKernel": True},
                           "apputils-extension/notification": {"fetchNews": "false",
                                                               "checkForUpdates": False}}.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # Kernels behave as for a real user: not under pytest (ipykernel then hides what C++ writes
    # to stderr), the inline plotting backend, TensorFlow's default log level.
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTEST_CURRENT_TEST", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    env.update(COURSE_MODE="test", COURSE_OFFLINE="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"))
    port, token = free_port(), secrets.token_hex(16)
    lab = Lab(f"http://127.0.0.1:{port}", token, folder, shots, base / "jupyterlab.log")
    say(request, f"JupyterLab log {lab.log}")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(lab.log, "wb"))
        server = subprocess.Popen(command, cwd=folder, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)

        @stack.callback
        def stop_server():
            with contextlib.suppress(Exception):
                lab.shut_down_kernels()
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            say(request, f"module took {time.perf_counter() - started:.0f} s; "
                         f"screenshots in {shots}")

        deadline = time.monotonic() + 60
        while True:  # The server answers within seconds; fail with its log if it does not.
            with contextlib.suppress(OSError):
                lab.api("GET", "/api/status")
                break
            assert server.poll() is None and time.monotonic() < deadline, (
                f"JupyterLab did not start:\n{lab.server_log()}")
            time.sleep(0.25)

        lab.driver = start_chromium()
        stack.callback(lab.driver.quit)
        yield lab
        say(request, "sizes in pixels (rendered width x height; natural size of images): "
            + "; ".join(f"{name} {size['width']} x {size['height']}"
                        + (f" (natural {size['natural'][0]} x {size['natural'][1]})"
                           if size["natural"] else "")
                        for name, size in lab.sizes.items()))


def test_exercise_setup_cell_is_clean_and_task_1_raises_not_implemented(lab):
    """(a) Run All on the untouched 00_setup exercise."""
    lab.open("00_setup/setup.ipynb")
    lab.menu("Run", "runmenu:run-all")
    task = lab.cell('"""Task 1')

    def stopped_at_task_1():
        lab.check(tracebacks=False)
        return "NotImplementedError" in " ".join(output.text for output in lab.outputs(task))

    lab.wait(stopped_at_task_1, 90, "the first task's test cell did not show NotImplementedError")
    setup = lab.cell("common.setup(")
    lab.shoot("a_task_1_test_cell", task)
    lab.shoot("a_setup_cell", setup)
    lab.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", setup)
    lab.shoot("a_window")
    lab.shoot("a_setup_output", setup.find_element(By.CSS_SELECTOR, ".jp-OutputArea"))
    report = " ".join(output.text for output in lab.outputs(setup))
    assert "Mode: test" in report, f"the Setup cell should show the pack's report; got {report!r}"
    red = [output.text for output in lab.outputs(setup, f".jp-OutputArea-output{STDERR}")]
    assert not red, f"the Setup cell shows {len(red)} stderr box(es): {red}"


HINTS = """
const ladder = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
    + '.jp-MarkdownCell .jp-RenderedMarkdown > details')][0];
if (!ladder) return null;
const levels = [ladder, ...ladder.querySelectorAll('details')];
return levels.map(level => {
  const summary = level.querySelector(':scope > summary');
  // a closed <details> hides its content without taking it out of layout: ask the browser
  return {summary: summary.textContent.trim(), open: level.open,
          visible: summary.checkVisibility()};
});
"""


def test_hints_open_one_level_at_a_time(lab):
    """(a') Issue 27: the first task's hint ladder in the 00_setup exercise is rendered closed;
    each level's summary shows only once the level before it is opened."""
    lab.open("00_setup/setup.ipynb")
    levels = lab.wait(lambda: lab.driver.execute_script(HINTS), 30, "no hint ladder rendered")
    assert [level["summary"] for level in levels] == [
        "Hint 1 · the idea", "Hint 2 · the tool", "Hint 3 · the shape of the code"], levels
    assert [(level["open"], level["visible"]) for level in levels] == [
        (False, True), (False, False), (False, False)], f"the ladder starts open: {levels}"
    for opened in range(3):
        summary = lab.driver.execute_script(
            "return arguments[0].querySelectorAll('summary')[arguments[1]]",
            lab.driver.execute_script(
                "return document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                ".jp-MarkdownCell .jp-RenderedMarkdown > details')"), opened)
        lab.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
        summary.click()
        levels = lab.driver.execute_script(HINTS)
        assert [level["open"] for level in levels] == [i <= opened for i in range(3)], levels
        assert [level["visible"] for level in levels] == [
            i <= opened + 1 for i in range(3)], f"after opening level {opened + 1}: {levels}"
    lab.shoot("a_hint_ladder_open", lab.driver.execute_script(
        "return document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-MarkdownCell .jp-RenderedMarkdown > details')"))


def test_latent_explorer_slider_redraws_the_image(lab):
    """(b) 02_vae's solution in test mode, run up to its latent explorer; move a slider."""
    lab.open("02_vae/vae.ipynb")
    explorer = lab.cell("common.plotting.latent_explorer(")
    lab.select(explorer)
    lab.menu("Run", "notebook:run-all-above")
    lab.menu("Run", "notebook:run-cell")

    def explorer_shown():
        lab.check()
        handles = lab.outputs(explorer, ".widget-slider .noUi-handle")
        images = lab.outputs(explorer, "img")
        return handles and images and images[0].get_attribute("naturalWidth") != "0"

    lab.wait(explorer_shown, 150, "the latent explorer did not show a slider and an image")
    image = lab.outputs(explorer, "img")[0]
    lab.shoot("b_explorer_before", lab.outputs(explorer, ".jp-OutputArea")[0])
    src, pixels = image.get_attribute("src"), image.screenshot_as_png
    handle = lab.outputs(explorer, ".widget-slider .noUi-handle")[0]
    lab.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
    handle.click()  # A click on the handle focuses it without moving it.
    handle.send_keys(Keys.END)  # noUiSlider: the slider's maximum.

    def redrawn():
        now = lab.outputs(explorer, "img")[0]
        return (now.get_attribute("src") != src and now.get_attribute("naturalWidth") != "0"
                and now.screenshot_as_png != pixels)

    lab.wait(redrawn, 20, "moving the slider did not change the decoded image")
    lab.shoot("b_explorer_image", lab.outputs(explorer, "img")[0])
    lab.shoot("b_explorer_after", lab.outputs(explorer, ".jp-OutputArea")[0])


LIVE_SETUP = '''\
import common  # first, as in the pack's notebooks: TensorFlow then starts quietly

import time

import keras
import numpy as np


class SlowEpochs(keras.callbacks.Callback):
    """Long enough epochs to see each frame."""

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.8)


env = common.setup(seed=0)
rng = np.random.default_rng(0)
x_train = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(784, activation="sigmoid"),
                            keras.layers.Reshape((28, 28, 1))])
autoencoder = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                keras.layers.Dense(2), decoder])
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
codes = rng.normal(size=(16, 2)).astype("float32")'''
LIVE_FIT = '''\
live = common.plotting.LiveTraining(sampler=decoder, inputs=codes, min_seconds=0.3)
live.draw_share = 0.5  # a 5-second fit: draw every epoch (the default keeps drawing under 3.5%)
history = autoencoder.fit(x_train, x_train, epochs=5, batch_size=16, verbose=0,
                          callbacks=[SlowEpochs(), live])'''


def test_live_training_view_is_one_image_updated_in_place(lab):
    """(c) a tiny 5-epoch fit with LiveTraining: one image, replaced as epochs pass."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(LIVE_SETUP), nbformat.v4.new_code_cell(LIVE_FIT)]
    path = lab.folder / "live_training.ipynb"
    nbformat.write(notebook, path)
    lab.open(path.name)
    fit = lab.cell("common.plotting.LiveTraining(")
    lab.menu("Run", "runmenu:run-all")
    states, shots = [], []

    def finished():
        lab.check()
        state = lab.driver.execute_script(OUTPUT_STATE, fit)
        state["time"] = time.perf_counter()
        states.append(state)
        done = re.fullmatch(r"\[\d+\]:", state["prompt"])
        if not done and len({s["src"] for s in states if s["src"]}) >= 2 and not shots:
            shots.append(lab.shoot("c_live_view_mid_training", lab.outputs(fit, "img")[0]))
        return done

    lab.wait(finished, 90, "the training cell did not finish", poll=0.1)
    lab.shoot("c_live_view_final", lab.outputs(fit, "img")[0])
    lab.shoot("c_window")
    shown = [state for state in states if state["outputs"] or state["images"]]
    assert shown, "the training cell never showed an output"
    wrong = [state for state in shown if state["outputs"] != 1 or state["images"] != 1]
    assert not wrong, (f"{len(wrong)} of {len(shown)} polls saw other than one output area with "
                       f"one image, e.g. {wrong[0]}")
    frames = [state["src"] for state in shown]
    changes = sum(before != after for before, after in zip(frames, frames[1:]))
    assert changes >= 2, (f"the image changed {changes} time(s) in {len(shown)} polls over "
                          f"{shown[-1]['time'] - shown[0]['time']:.1f} s; expected at least 2")

    lab.menu("File", "docmanager:save")

    def saved_outputs():
        cell = nbformat.read(path, as_version=4).cells[1]
        return cell.outputs if cell.get("execution_count") else None

    outputs = lab.wait(saved_outputs, 20, "the notebook with its outputs was not saved")
    assert len(outputs) == 1, f"expected one output, got {[o.output_type for o in outputs]}"
    label = outputs[0].get("data", {}).get("text/plain", "")
    assert "image/png" in outputs[0].get("data", {}) and "epoch 5/5" in label, (
        f"the final frame should be a PNG labelled with epoch 5/5; its label is {label!r}")


# ---- what instructors read: feedback pages and the class report (issue 29) -------------------


@pytest.fixture(scope="module")
def page(shots):
    """A headless Chromium page of 1400 x 1000 pixels for files on disk (no JupyterLab)."""
    driver = start_chromium()
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


SCRIPTED = ("\n\n<script>document.title = 'script ran'</script>"
            "<img src=x onerror=\"document.title = 'handler ran'\">")
FEEDBACK_STATE = """
const notebook = document.querySelector('#notebook');
const images = [...document.querySelectorAll('#notebook img')];
const handlers = [...notebook.querySelectorAll('*')].flatMap(
    element => [...element.attributes].filter(a => a.name.startsWith('on')).map(
        a => element.tagName + ' ' + a.name));
return {
  heading: document.querySelector('.panel-heading h4').textContent.trim(),
  scores: Object.fromEntries([...document.querySelectorAll('#toc li')].map(
      li => [li.querySelector('a').getAttribute('href').slice(1), li.textContent.trim()])),
  pngs: images.filter(i => i.src.startsWith('data:image/png;base64,')).map(
      i => ({natural: [i.naturalWidth, i.naturalHeight],
             shown: [Math.round(i.getBoundingClientRect().width),
                     Math.round(i.getBoundingClientRect().height)]})),
  text: notebook.innerText,
  scripts: notebook.querySelectorAll('script').length,
  handlers: handlers,
};
"""


def test_feedback_after_hand_grading_shows_figures_and_the_manual_points(
        page, shots, tmp_path, request):
    """(d) Issue 29: 00_setup (figures and a written answer, and the cheapest to grade) graded
    for one student; a `python -m grading formgrader` session gives the written answer its
    points through the formgrader's API and ends; the feedback page the session's end remade,
    opened in Chromium, shows the figures as PNG images that render (no `<Figure size ...>`
    text), the new total with the hand-graded points, and runs nothing from the notebook."""
    from nbgrader.api import Gradebook

    from grading import course_folder

    started = time.perf_counter()
    answered = hostile.answered("00_setup")
    for cell in answered.cells:  # markup in the written answer: shown as text, never run
        if cell.cell_type == "markdown" and course.nbgrader_meta(cell).get("grade"):
            cell.source += SCRIPTED
    course_dir = course.grade_class(tmp_path, "00_setup", {"solution": answered})
    graded_at = time.perf_counter()
    with Gradebook(course_folder.db_url(course_dir)) as gradebook:
        notebook = gradebook.find_submission_notebook("setup", "00_setup", "solution")
        (written,) = [g for g in notebook.grades if g.cell_type == "markdown"]
        grade_id, cell, top = written.id, written.name, written.max_score
        before = gradebook.find_submission("00_setup", "solution").score
    formgrader = Formgrader(course_dir, tmp_path / "formgrader.log")
    try:
        status, _, body = formgrader.call(f"/formgrader/api/grade/{grade_id}", "PUT",
                                          {"manual_score": top})
        assert status == 200, body[-2000:]
    finally:
        output = formgrader.stop()  # the session's end remakes grades.csv, feedback, reports
    assert formgrader.process.returncode == 0, output[-3000:]
    with Gradebook(course_folder.db_url(course_dir)) as gradebook:
        score = gradebook.find_submission("00_setup", "solution").score
        maximum = gradebook.find_assignment("00_setup").max_score
    assert score == before + top, (before, top, score)

    feedback = course_dir / "feedback" / "solution" / "00_setup" / "setup.html"
    page.get(feedback.as_uri())
    state = page.execute_script(FEEDBACK_STATE)
    page.save_screenshot(str(shots / "d_feedback_top.png"))
    say(request, f"(d) graded in {graded_at - started:.0f} s, formgrader session "
                 f"{time.perf_counter() - graded_at:.0f} s; {state['heading']}; figures "
                 + ", ".join(f"{p['natural'][0]} x {p['natural'][1]}" for p in state["pngs"]))
    # (a) figures: images that decode, and no matplotlib placeholder text.
    assert state["pngs"], "the feedback page shows no PNG figure"
    broken = [p for p in state["pngs"] if p["natural"][0] == 0 or p["shown"][0] == 0]
    assert not broken, f"figures that do not render: {broken}"
    assert "<Figure size" not in state["text"], "a figure is shown as text"
    figure = page.find_elements(By.CSS_SELECTOR, "#notebook img[src^='data:image/png']")[0]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    figure.screenshot(str(shots / "d_feedback_figure.png"))
    # (b) the total and the written answer's line show the points given by hand.
    total = f"(Score: {score:.1f} / {maximum:.1f})"
    assert total in state["heading"], (
        f"the page's heading {state['heading']!r} should show the gradebook's total {total}")
    assert state["scores"][cell].endswith(f"(Score: {top:.1f} / {top:.1f})"), state["scores"]
    answer = page.find_element(By.CSS_SELECTOR, f"a[name='{cell}']").find_element(
        By.XPATH, "..")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", answer)
    answer.screenshot(str(shots / "d_feedback_written_answer.png"))
    # (c) nothing in the notebook's part of the page runs: the written answer's <script> and
    # event handler are text.
    assert state["scripts"] == 0 and state["handlers"] == [], (state["scripts"],
                                                               state["handlers"])
    assert page.title not in ("script ran", "handler ran"), page.title
    assert "<script>document.title" in state["text"], "the answer's markup is not shown as text"


STUDENTS_TABLE = """
const heading = [...document.querySelectorAll('h2')].find(h => h.textContent === 'Students');
let table = heading;
while (table && table.tagName !== 'TABLE') table = table.nextElementSibling;
const box = table.getBoundingClientRect();
const header = [...table.querySelectorAll('tr:first-child th')];
const byHand = [...document.querySelectorAll('h2')].find(
    h => h.textContent === 'Look at these by hand').nextElementSibling;
return {prose: heading.nextElementSibling.textContent + ' ' + byHand.textContent,
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth, inner: window.innerWidth,
        left: box.left, right: box.right, columns: header.map(th => th.textContent),
        score: header.find(th => th.textContent === 'score').getBoundingClientRect().right};
"""


def test_class_report_of_the_widest_assignment_fits_1400_pixels(page, shots, elbo_class,
                                                                 request):
    """(e) Issue 29: the class report of 03_elbo (the most task columns), graded for a few
    students (tests/conftest.py's elbo_class), in a 1400 x 1000 window: nothing scrolls
    sideways and the Students table, totals included, is on screen."""
    report_page = elbo_class / "reports" / "03_elbo" / "report.html"
    page.get(report_page.as_uri())
    state = page.execute_script(STUDENTS_TABLE)
    tasks = len(course.graded_test_cells(course.read(course.solution_notebook("03_elbo"))))
    say(request, f"(e) report: {tasks} task columns; page {state['scroll']} px wide in a "
                 f"{state['client']} px viewport; Students table {state['left']:.0f} to "
                 f"{state['right']:.0f} px")
    table = page.find_element(By.XPATH, "//h2[text()='Students']/following-sibling::table[1]")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", table)
    page.save_screenshot(str(shots / "e_report_students.png"))
    assert state["inner"] == VIEWPORT[0], state
    assert len(state["columns"]) == tasks + 6, state["columns"]  # student, tasks, 5 more
    assert state["scroll"] <= state["client"] <= VIEWPORT[0], (
        f"the report scrolls sideways: {state['scroll']} px wide in {state['client']} px")
    assert state["left"] >= 0 and state["right"] <= state["client"], (
        f"the Students table spans {state['left']:.0f} to {state['right']:.0f} px")
    assert state["score"] <= state["client"], "the score column is off screen"
    # The report's own prose is HTML: no markdown asterisks or backticks shown as text.
    assert "*" not in state["prose"] and "`" not in state["prose"], state["prose"]
