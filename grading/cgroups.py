"""A control group per sandboxed kernel: limits that hold for everything the student's code
starts, not per process.

- memory: the kernel and all its children together, including what they write to tmpfs (the
  sandbox's /tmp and /dev/shm, and the working folder when it lives on /dev/shm: tmpfs pages are
  charged to the group of the process that wrote them);
- pids: how many processes and threads it may have at once (no fork bomb);
- cpu: an equal weight per kernel, so a student's 20 busy processes share one student's part of
  the machine (a group also ends the kernel's own scheduler autogroups: `setsid` no longer buys
  a bigger share).

Both cgroup versions: v1 (one hierarchy per controller, writable as root, as on this project's
machines) and v2 (one hierarchy; the grader needs a delegated subtree with the memory, pids and cpu
controllers, e.g. `systemd-run --user --scope -p Delegate=yes python -m grading ...`). Where
neither can be had, `unavailable_reason()` says why, and grading goes on with per-process limits
only (RLIMIT_AS, the tmpfs sizes) and says what is lost."""

from __future__ import annotations

import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")
LOST = ("without control groups a kernel's memory is limited per process only (RLIMIT_AS; its "
        "children and its tmpfs files are not counted together), the number of processes it "
        "starts is not limited, and CPU is shared per scheduler group, so one student's many "
        "processes can slow a classmate graded at the same time")
ROOT = Path("/sys/fs/cgroup")


@dataclass
class Limits:
    memory_bytes: int
    pids: int = 512  # TensorFlow's threads count too
    cpu_weight: int = 100  # v2 weight; v1 shares are 1024 * weight / 100


def _own_paths() -> dict[str, str]:
    """{controller or '' (v2): this process's cgroup path} from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _v1_folders(root: Path = ROOT) -> dict[str, Path] | None:
    """{controller: the folder of this process's group} when every controller has a v1
    hierarchy, else None."""
    own = _own_paths()
    folders = {}
    for controller in CONTROLLERS:
        mount = root / controller
        if controller not in own or not (mount / "cgroup.procs").exists():
            return None
        folders[controller] = mount / own[controller].lstrip("/")
    return folders


def _v2_folder(root: Path = ROOT) -> Path | None:
    """This process's group in a v2 hierarchy that offers every controller, else None."""
    if not (root / "cgroup.controllers").exists():
        return None
    folder = root / _own_paths().get("", "/").lstrip("/")
    available = (folder / "cgroup.controllers").read_text().split() if (
        folder / "cgroup.controllers").exists() else []
    return folder if all(c in available for c in CONTROLLERS) else None


class Group:
    """One kernel's control group (a folder per v1 controller, or one v2 folder)."""

    def __init__(self, folders: dict[str, Path], version: int):
        self.folders, self.version = folders, version

    @classmethod
    def create(cls, limits: Limits, root: Path = ROOT) -> Group:
        name = f"grading-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        v1 = _v1_folders(root)
        if v1 is not None:
            group = cls({c: f / name for c, f in v1.items()}, 1)
            for folder in group.folders.values():
                folder.mkdir()
            try:
                memory = group.folders["memory"]
                _write(memory / "memory.limit_in_bytes", limits.memory_bytes)
                if (memory / "memory.memsw.limit_in_bytes").exists():  # swap counted too
                    _write(memory / "memory.memsw.limit_in_bytes", limits.memory_bytes)
                _write(group.folders["pids"] / "pids.max", limits.pids)
                _write(group.folders["cpu"] / "cpu.shares", 1024 * limits.cpu_weight // 100)
            except OSError:
                group.remove()
                raise
            return group
        parent = _v2_folder(root)
        if parent is None:
            raise OSError("no cgroup v1 hierarchy for memory, pids and cpu, and no cgroup v2 "
                          "group of this process offering them")
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        missing = [c for c in CONTROLLERS if c not in enabled]
        if missing:  # a delegated group may enable them for its children
            _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
        group = cls({"": parent / name}, 2)
        folder = group.folders[""]
        folder.mkdir()
        try:
            _write(folder / "memory.max", limits.memory_bytes)
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", 0)
            _write(folder / "pids.max", limits.pids)
            _write(folder / "cpu.weight", limits.cpu_weight)
        except OSError:
            group.remove()
            raise
        return group

    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to join this group."""
        return [str(folder / "cgroup.procs") for folder in self.folders.values()]

    def pids(self) -> set[int]:
        found = set()
        for folder in self.folders.values():
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def memory_peak(self) -> int | None:
        """The most memory the group held at once (bytes), where the kernel reports it."""
        folder = self.folders.get("memory", self.folders.get(""))
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((folder / name).read_text())
            except (OSError, ValueError):
                continue
        return None

    def remove(self) -> None:
        """Kill whatever is left in the group, then delete it."""
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)
        for folder in self.folders.values():
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes still exiting
                    time.sleep(0.05)


def sweep(pid: int, root: Path = ROOT) -> None:
    """Remove the groups grader process `pid` made and did not remove (it was killed at the
    per-student timeout), with whatever still runs in them."""
    v1 = _v1_folders(root)
    parents = v1 if v1 is not None else {"": _v2_folder(root)}
    if None in parents.values():
        return
    names = {p.name for parent in parents.values() for p in parent.glob(f"grading-{pid}-*")}
    for name in names:
        Group({c: parent / name for c, parent in parents.items()}, 1 if v1 else 2).remove()


def _write(path: Path, value) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


@functools.cache
def unavailable_reason() -> str:
    """'' when a group with every limit can be made here, else why not and what is lost."""
    try:
        group = Group.create(Limits(memory_bytes=1 << 30))
    except OSError as error:
        return f"control groups unavailable ({error}); {LOST}"
    group.remove()
    return ""


# Runs as `python -c JOIN PROCS_FILE... -- command...`: join the group, then exec the command,
# so the sandbox and everything it starts are in the group from their first instruction.
JOIN = """\
import os, sys
split = sys.argv.index("--")
for path in sys.argv[1:split]:
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
os.execvp(sys.argv[split + 1], sys.argv[split + 1:])
"""
