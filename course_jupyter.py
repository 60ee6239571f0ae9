"""Rehearse in a clone without dirtying it, for lecturers who run the notebooks in `solutions/`.

    python -m course_jupyter          # once per clone and environment: filter and hook on
    python -m course_jupyter discard  # after a rehearsal: every notebook's outputs thrown away

1. The output filter: git strips outputs (nbstripout) from every notebook it reads, so
   `git diff` shows only real edits and a commit never carries outputs. Its settings are
   `.gitfilters`'s, written into the clone's git folder (`course-filters`, included from
   .git/config) with this environment's Python by its full path, so git finds nbstripout from
   any shell, the course environment activated or not.
2. A Jupyter server extension, enabled for this environment (`<prefix>/etc/jupyter/
   jupyter_server_config.d/genmodels-course.json`), adds `refresh_git_index` to the post-save
   hooks of every JupyterLab it starts (next to any hook of the user's own). Git lists a notebook
   whose size changed as modified until it is added again, even when only outputs changed; after
   each save the hook asks git whether the content, outputs stripped, differs from the index and,
   when it does not, re-adds the notebook: that stages nothing and clears the listing.
   Anywhere else (no git, no filter, an untracked file) the hook does nothing. JupyterLab's
   defaults for the environment (`<prefix>/share/jupyter/lab/settings/overrides.json`) also
   turn off its news pop-up and update check, which cover the notebook on a projector.
3. `discard`: the hook keeps git quiet but leaves the outputs on disk, where `git checkout`
   does not see them (the index says the file is unchanged). `discard` puts back the committed
   notebook where the rehearsal changed nothing else, and strips only the outputs where it holds
   real edits (kept, and listed).
"""

from __future__ import annotations

import argparse
import configparser
import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
CONFIG_NAME = "genmodels-course.json"
FILTERS = ".gitfilters"  # the filter's settings, committed
LOCAL_FILTERS = "course-filters"  # those settings with this environment's Python, in .git/
# JupyterLab's defaults for this environment: no news pop-up over the notebook in class.
QUIET_LAB = ("@jupyterlab/apputils-extension:notification",
             {"fetchNews": "false", "checkForUpdates": False})


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          timeout=60)


def refresh_git_index(model: dict, os_path: str, contents_manager=None, **kwargs) -> None:
    """FileContentsManager.post_save_hook: see the module's docstring."""
    path = Path(os_path)
    if model.get("type") != "notebook":
        return
    try:
        if _git(path.parent, "config", "--get", "filter.nbstripout.clean").returncode:
            return  # Not a clone with the output filter switched on.
        if _git(path.parent, "ls-files", "--error-unmatch", "--", path.name).returncode:
            return  # Untracked: nothing to compare with.
        if _git(path.parent, "diff", "--quiet", "--", path.name).returncode == 0:
            _git(path.parent, "add", "--", path.name)  # Same content: refreshes the index only.
    except (OSError, subprocess.SubprocessError) as error:  # No git, or it hung: keep saving.
        if contents_manager is not None:
            contents_manager.log.warning("course_jupyter: git index not refreshed: %s", error)


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "course_jupyter"}]


def _load_jupyter_server_extension(server_app) -> None:
    server_app.contents_manager.register_post_save_hook(refresh_git_index)


def strip_command(repo: Path = REPO, python: str = sys.executable) -> list[str]:
    """nbstripout as the filter runs it (`.gitfilters`: options and extra keys), writing the
    stripped notebook to stdout (`-t`)."""
    config = configparser.ConfigParser()
    config.read(Path(repo) / FILTERS)
    section = config['filter "nbstripout"']
    command = shlex.split(section["clean"])
    return [python, *command[1:], "--extra-keys", section["extrakeys"], "-t"]


def install(repo: Path = REPO, prefix: Path = Path(sys.prefix)) -> list[str]:
    """Switch on the output filter for `repo` and the hook for the environment at `prefix`;
    return what was done, one line each. Running it again changes nothing."""
    done = []
    found = _git(repo, "rev-parse", "--absolute-git-dir")
    if found.returncode:
        raise SystemExit(f"{repo} is not a git clone: {found.stderr.strip()}")
    local = Path(found.stdout.strip()) / LOCAL_FILTERS
    python = shlex.quote(sys.executable)
    local.write_text(f"# Written by `python -m course_jupyter` from {FILTERS}: its filter with "
                     f"this environment's Python.\n"
                     + (Path(repo) / FILTERS).read_text().replace("= python -m", f"= {python} -m"))
    # One include, replacing an older one of ../.gitfilters (which needed `python` on PATH).
    result = _git(repo, "config", "--replace-all", "include.path", str(local),
                  rf"(^\.\./{FILTERS}$|/{LOCAL_FILTERS}$)")
    if result.returncode:
        raise SystemExit(f"git config failed in {repo}: {result.stderr.strip()}")
    done.append(f"git output filter on for {repo} (git config include.path {local}), with "
                f"{sys.executable}")
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG_NAME
    config.parent.mkdir(parents=True, exist_ok=True)
    enable = {"ServerApp": {"jpserver_extensions": {"course_jupyter": True}}}
    config.write_text(json.dumps(enable, indent=2) + "\n")
    done.append(f"JupyterLab post-save hook on for this environment ({config}); restart "
                "running JupyterLab servers")
    overrides = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(overrides.read_text()) if overrides.exists() else {}
    settings.setdefault(QUIET_LAB[0], {}).update(QUIET_LAB[1])  # the rest stays as it was
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps(settings, indent=2) + "\n")
    done.append(f"JupyterLab asks for no news and checks for no update ({overrides})")
    return done


def discard(paths: list[Path] | None = None, repo: Path = REPO) -> list[str]:
    """Throw a rehearsal's outputs away from `paths` (default: every tracked notebook): a
    notebook whose content, stripped, is the committed one is put back byte for byte; one with
    real edits keeps them, stripped of its outputs. Returns one line per notebook changed."""
    repo = Path(repo).resolve()
    listed = _git(repo, "ls-files", "-z", "--", *(map(str, paths) if paths else ["*.ipynb"]))
    if listed.returncode:
        raise SystemExit(f"git ls-files failed in {repo}: {listed.stderr.strip()}")
    done = []
    for name in filter(None, listed.stdout.split("\0")):
        path = repo / name
        committed = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{name}"],
                                   capture_output=True, timeout=60).stdout
        current = path.read_bytes()
        if current == committed:
            continue
        stripped = subprocess.run(strip_command(repo), input=current, capture_output=True,
                                  timeout=120)
        if stripped.returncode:
            done.append(f"{name}: left as it is, nbstripout failed: "
                        f"{stripped.stderr.decode(errors='replace').strip()[-300:]}")
            continue
        same = committed and json.loads(stripped.stdout) == json.loads(committed)
        path.write_bytes(committed if same else stripped.stdout)
        if same and _git(repo, "diff", "--cached", "--quiet", "--", name).returncode == 0:
            # Git still holds the rehearsal's size for the file and would list it as changed;
            # adding the committed content again stages nothing and clears that.
            _git(repo, "add", "--", name)
        done.append(f"{name}: " + ("outputs thrown away" if same else
                                   "outputs thrown away; your edits are kept (git diff)"))
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_jupyter", description=__doc__.split(
        "\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    throw = commands.add_parser("discard", help="throw a rehearsal's outputs away")
    throw.add_argument("notebooks", nargs="*", type=Path,
                       help="notebooks (default: every notebook git tracks)")
    args = parser.parse_args(argv)
    if args.command == "discard":
        top = _git(Path.cwd(), "rev-parse", "--show-toplevel")  # the clone we are in
        done = discard([p.resolve() for p in args.notebooks] or None,
                       Path(top.stdout.strip()) if top.returncode == 0 else REPO)
        print("\n".join(done) or "no notebook holds outputs of a rehearsal")
    else:
        print("\n".join(install()))


if __name__ == "__main__":
    main()
