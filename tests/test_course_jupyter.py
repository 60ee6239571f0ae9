"""course_jupyter: a rehearsal saved by JupyterLab leaves `git status` clean, a real edit stays
listed and unstaged, and `python -m course_jupyter` switches both parts on."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

import course
import course_jupyter

NOTEBOOK = course.REPO / "solutions" / "00_setup" / "setup.ipynb"


def git(repo, *args):
    result = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                             "user.email=t@example.invalid", *args], capture_output=True,
                            text=True, timeout=300, check=True)
    return result.stdout


@pytest.fixture
def clone(tmp_path):
    """A repository like the pack's: its filters switched on by `install`, one notebook."""
    repo = tmp_path / "repo"
    (repo / "solutions").mkdir(parents=True)
    git(repo, "init", "-q")
    for name in (".gitfilters", ".gitattributes", ".gitignore"):
        shutil.copy(course.REPO / name, repo / name)
    shutil.copy(NOTEBOOK, repo / "solutions" / "setup.ipynb")
    prefix = tmp_path / "env"
    lines = course_jupyter.install(repo, prefix)
    assert len(lines) == 3 and "include.path" in lines[0]
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    return repo, prefix


def rehearsed(path, edit=False):
    """The notebook with an output in every code cell and the run-time metadata a kernel adds,
    as JupyterLab saves it after a run."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="x" * 5000)]
            cell.execution_count = 1
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.2",
                                          "mimetype": "text/x-python"}
    if edit:
        notebook.cells[0].source += "\n# a real edit"
    return notebook


def test_install_is_idempotent_and_replaces_an_older_include(clone):
    repo, prefix = clone
    git(repo, "config", "--add", "include.path", "../.gitfilters")  # as installed before
    course_jupyter.install(repo, prefix)
    local = repo / ".git" / course_jupyter.LOCAL_FILTERS
    assert git(repo, "config", "--get-all", "include.path").split() == [str(local)]
    assert f"clean = {sys.executable} -m nbstripout" in local.read_text()
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "genmodels-course.json"
    assert json.loads(config.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"course_jupyter": True}}}
    overrides = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    mine = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
            "@jupyterlab/apputils-extension:notification": {"doNotDisturbMode": True}}
    overrides.write_text(json.dumps(mine))
    course_jupyter.install(repo, prefix)
    assert json.loads(overrides.read_text()) == {
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
        "@jupyterlab/apputils-extension:notification": {
            "doNotDisturbMode": True, "fetchNews": "false", "checkForUpdates": False}}


def test_the_filter_works_from_a_shell_without_the_course_environment(clone):
    """git runs the filter with the environment's Python by its path: a shell whose `python`
    is another one (here the system's, without nbstripout) still gets a clean `git diff` and
    `git status`."""
    repo, _ = clone
    path = repo / "solutions" / "setup.ipynb"
    nbformat.write(rehearsed(path), str(path))
    bare = dict(os.environ, PATH="/usr/bin:/bin")
    for args in (["diff"], ["add", "-A"], ["status", "--porcelain"]):
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                env=bare, timeout=120)
        assert result.returncode == 0 and result.stdout == "", (args, result.stderr[-2000:])


def test_discard_throws_a_rehearsal_away_and_keeps_real_edits(clone, tmp_path):
    """After the hook cleared `git status`, `git checkout` restores nothing (the index says
    the file is unchanged); `python -m course_jupyter discard` does."""
    repo, _ = clone
    path = repo / "solutions" / "setup.ipynb"
    committed = path.read_bytes()
    nbformat.write(rehearsed(path), str(path))
    course_jupyter.refresh_git_index({"type": "notebook"}, str(path))
    git(repo, "checkout", "--", "solutions/setup.ipynb")
    assert path.read_bytes() != committed, "checkout alone now restores it: update the README"
    shutil.copy(path, repo / "solutions" / "other.ipynb")  # untracked: not ours to touch
    assert course_jupyter.discard(repo=repo) == ["solutions/setup.ipynb: outputs thrown away"]
    assert path.read_bytes() == committed and git(repo, "status", "--porcelain") == \
        "?? solutions/other.ipynb\n"
    assert course_jupyter.discard(repo=repo) == []

    nbformat.write(rehearsed(path, edit=True), str(path))
    done = course_jupyter.discard([path], repo=repo)
    assert done == ["solutions/setup.ipynb: outputs thrown away; your edits are kept (git diff)"]
    kept = nbformat.read(str(path), as_version=4)
    assert kept.cells[0].source.endswith("# a real edit")
    assert not any(c.get("outputs") or c.get("execution_count") for c in kept.cells
                   if c.cell_type == "code")
    assert kept.metadata["language_info"] == {"name": "python"}
    assert '+    "# a real edit"' in git(repo, "diff")


def test_discard_from_the_command_line(clone):
    repo, _ = clone
    path = repo / "solutions" / "setup.ipynb"
    committed = path.read_bytes()
    nbformat.write(rehearsed(path), str(path))
    result = subprocess.run([sys.executable, "-m", "course_jupyter", "discard", str(path)],
                            cwd=repo, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(course.REPO)))
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == committed


def test_hook_clears_a_rehearsal_and_keeps_a_real_edit(clone):
    repo, _ = clone
    path = repo / "solutions" / "setup.ipynb"
    nbformat.write(rehearsed(path), str(path))
    assert git(repo, "status", "--short"), "without the hook git lists the rehearsed notebook"
    course_jupyter.refresh_git_index({"type": "notebook"}, str(path))
    assert git(repo, "status", "--short") == ""
    nbformat.write(rehearsed(path, edit=True), str(path))
    course_jupyter.refresh_git_index({"type": "notebook"}, str(path))
    assert git(repo, "status", "--short") == " M solutions/setup.ipynb\n", "listed, not staged"


def test_hook_does_nothing_without_the_filter(tmp_path):
    repo = tmp_path / "plain"
    repo.mkdir()
    git(repo, "init", "-q")
    path = repo / "setup.ipynb"
    shutil.copy(NOTEBOOK, path)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    nbformat.write(rehearsed(path), str(path))
    course_jupyter.refresh_git_index({"type": "notebook"}, str(path))
    assert git(repo, "status", "--short") == " M setup.ipynb\n"
    course_jupyter.refresh_git_index({"type": "notebook"}, str(tmp_path / "nowhere.ipynb"))


def test_a_jupyter_server_runs_the_hook_on_save(clone):
    """The config `install` writes is what a Jupyter server of that environment reads: a save
    through its contents API leaves `git status` clean."""
    repo, prefix = clone
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "course-jupyter-test"
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(prefix / "etc" / "jupyter"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={repo}", "--allow-root"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        path = repo / "solutions" / "setup.ipynb"
        body = json.dumps({"type": "notebook", "format": "json",
                           "content": rehearsed(path)}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents/solutions/setup.ipynb", data=body,
            method="PUT", headers={"Authorization": f"token {token}"})
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(request, timeout=30).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.3)
        saved = nbformat.read(str(path), as_version=4)
        assert all(len(c.outputs) == 1 for c in saved.cells if c.cell_type == "code"), "saved"
        status = git(repo, "status", "--short")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert status == "", output[-3000:]
