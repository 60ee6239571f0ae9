"""Rehearse in a clone without dirtying it: one command switches on the repository's output
filter and a JupyterLab hook, for lecturers who run the notebooks in `solutions/`.

    python -m course_jupyter          # once per clone and environment

1. `git config include.path ../.gitfilters`: git strips outputs (nbstripout) from every notebook
   it reads, so `git diff` shows only real edits and a commit never carries outputs.
2. A Jupyter server extension, enabled for this environment (`<prefix>/etc/jupyter/
   jupyter_server_config.d/genmodels-course.json`), adds `refresh_git_index` to the post-save
   hooks of every JupyterLab it starts (next to any hook of the user's own). Git lists a notebook
   whose size changed as modified until it is added again, even when only outputs changed; after
   each save the hook asks git whether the content, outputs stripped, differs from the index and,
   when it does not, re-adds the notebook: that stages nothing and clears the listing.
   Anywhere else (no git, no filter, an untracked file) the hook does nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
CONFIG_NAME = "genmodels-course.json"


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


def install(repo: Path = REPO, prefix: Path = Path(sys.prefix)) -> list[str]:
    """Switch on the output filter for `repo` and the hook for the environment at `prefix`;
    return what was done, one line each. Running it again changes nothing."""
    done = []
    result = _git(repo, "config", "include.path", "../.gitfilters")
    if result.returncode:
        raise SystemExit(f"git config failed in {repo}: {result.stderr.strip()}")
    done.append(f"git output filter on for {repo} (git config include.path ../.gitfilters)")
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG_NAME
    config.parent.mkdir(parents=True, exist_ok=True)
    enable = {"ServerApp": {"jpserver_extensions": {"course_jupyter": True}}}
    config.write_text(json.dumps(enable, indent=2) + "\n")
    done.append(f"JupyterLab post-save hook on for this environment ({config}); restart "
                "running JupyterLab servers")
    return done


if __name__ == "__main__":
    print("\n".join(install()))
