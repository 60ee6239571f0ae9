"""The sandbox every autograded kernel runs in: bubblewrap (`bwrap`), started by the grader.

Inside, the student's code runs as an unprivileged user (uid 65534, "nobody", changed inside the
sandbox so the Python installation may live anywhere the grader can read), with
- a read-only view of the operating system's /usr, a few files of /etc, the Python
  installation and environment, and the pack's `common/` and `data/` (nothing else of the
  repository: no solutions/, no grading/, no tests/);
- a private writable working folder, HOME and /tmp, all thrown away with the kernel;
- no network, and its own PID, IPC, UTS and cgroup namespaces: nothing it starts outlives the
  kernel, and it can neither see nor signal the grader;
- no view of the course folder, the gradebook, the release folder, other students' files or the
  instructor's HOME.
The kernel talks to the grader over Jupyter's `ipc` transport (Unix sockets in the working
folder), so no network is needed."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SANDBOX_UID = 65534  # "nobody"
TMP_BYTES = 1 << 30  # size of the sandbox's /tmp (a tmpfs, so it costs memory when filled)
SHM_BYTES = 256 << 20  # size of its /dev/shm (bwrap's /dev would give it the host's)
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
             "localtime", "hosts", "mime.types", "fonts")
HOW_TO_GET_ONE = (
    "Grading runs every student's code in a bubblewrap sandbox. Install it with "
    "`apt-get install bubblewrap` (Debian, Ubuntu) or `dnf install bubblewrap` (Fedora); "
    "without root, it also needs unprivileged user namespaces "
    "(`sysctl kernel.unprivileged_userns_clone=1` on older Debian kernels). No sandbox can be "
    "made on macOS or Windows: grade on a Linux machine or VM. Only for code you trust "
    "(never a real class), pass --unsandboxed.")


class SandboxUnavailable(RuntimeError):
    """No bubblewrap sandbox can be made on this machine."""


REPO = Path(__file__).resolve().parent.parent


def pack_folders() -> list[Path]:
    """The pack's `common/` package and bundled `data/`, which notebooks need: this grader's
    own repository's (whatever an editable install elsewhere points to), else the installed."""
    if (REPO / "common" / "__init__.py").is_file():
        common = REPO / "common"
    else:
        spec = importlib.util.find_spec("common")
        if spec is None or not spec.submodule_search_locations:
            raise SandboxUnavailable("the course package `common` is not installed: "
                                     "pip install -e .")
        common = Path(list(spec.submodule_search_locations)[0]).resolve()
    data = Path(os.environ.get("COURSE_DATA_DIR", common.parent / "data")).resolve()
    return [common, data]


def python_folders() -> list[Path]:
    """The Python installation and environment the kernel runs from."""
    folders = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders.add(Path(sys.executable).resolve().parent.parent)
    return sorted(f for f in folders if not any(f != o and o in f.parents for o in folders))


def command(workdir: Path, inner: list[str], env: dict[str, str]) -> list[str]:
    """The bwrap command that runs `inner` in a sandbox whose only writable folder is
    `workdir` (seen at the same path inside, so Unix sockets and files there are shared with
    the grader), with exactly the environment `env`."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed. " + HOW_TO_GET_ONE)
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for folder in [*python_folders(), *pack_folders()]:
        if folder.exists() and not str(folder).startswith("/usr/"):
            args += ["--ro-bind", str(folder), str(folder)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir / "cwd"),
             "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--", *inner]


def base_env(workdir: Path) -> dict[str, str]:
    """The environment inside the sandbox, before the grading variables."""
    return {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            # first on sys.path: the kernel imports exactly the `common/` mounted here
            "PYTHONPATH": str(pack_folders()[0].parent),
            "HOME": str(workdir / "home"), "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1", "MPLCONFIGDIR": str(workdir / "home" / ".matplotlib")}


SHARED_MEMORY = Path("/dev/shm")


def make_workdir(on_tmpfs: bool = False) -> Path:
    """A fresh private working folder (0700) for one sandboxed kernel: cwd/, home/, probes/,
    with matplotlib's font list already in its MPLCONFIGDIR. `on_tmpfs` (for a kernel in a
    control group): on /dev/shm, where what the kernel writes is charged to its group's memory
    limit instead of filling the course's disk."""
    where = SHARED_MEMORY if on_tmpfs and os.access(SHARED_MEMORY, os.W_OK) else None
    workdir = Path(tempfile.mkdtemp(prefix=f"grading-sandbox-{os.getpid()}-", dir=where))
    for sub in ("cwd", "home", "probes"):
        (workdir / sub).mkdir()
    fonts = font_list()
    if fonts is not None:
        config = Path(base_env(workdir)["MPLCONFIGDIR"])
        config.mkdir()
        shutil.copyfile(fonts, config / fonts.name)
    return workdir


def sweep(pid: int) -> None:
    """Remove the working folders grader process `pid` made and did not remove (it was killed
    at the per-student timeout): on /dev/shm they would hold memory."""
    for root in (SHARED_MEMORY, Path(tempfile.gettempdir())):
        for folder in root.glob(f"grading-sandbox-{pid}-*"):
            shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def font_list() -> Path | None:
    """matplotlib's font list (fontlist-v*.json), built once per grader process by the
    kernels' Python with an empty HOME (so it names only the system's and matplotlib's own
    fonts); each kernel would otherwise spend about a second building it. None without
    matplotlib."""
    folder = Path(tempfile.mkdtemp(prefix="grading-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    env = {**base_env(folder), "HOME": str(folder), "MPLCONFIGDIR": str(folder)}
    try:
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                       capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = sorted(folder.glob("fontlist-*.json"))
    return found[-1] if found else None


@functools.cache
def unavailable_reason() -> str:
    """'' when a sandbox can be made here, else why not and how to get one."""
    if not sys.platform.startswith("linux"):
        return f"this is {sys.platform}, not Linux. " + HOW_TO_GET_ONE
    workdir = make_workdir()
    try:
        probe = command(workdir, [sys.executable, "-c", "import os; print(os.getuid())"],
                        base_env(workdir))
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (SandboxUnavailable, OSError, subprocess.TimeoutExpired) as error:
        return str(error) if isinstance(error, SandboxUnavailable) else (
            f"bwrap could not start ({error}). " + HOW_TO_GET_ONE)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.returncode != 0 or result.stdout.strip() != str(SANDBOX_UID):
        return (f"bwrap is installed but could not make a sandbox here (exit "
                f"{result.returncode}: {result.stderr.strip()[:300]}). " + HOW_TO_GET_ONE)
    return ""
