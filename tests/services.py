"""Real services for the large-class tests: a throw-away PostgreSQL server in a temporary folder
(Debian's `postgresql` package; .ci/run installs it) and a Dask scheduler with workers, each a
separate process on 127.0.0.1. Missing PostgreSQL skips those tests, unless
COURSE_REQUIRE_POSTGRES=1 (CI) makes it a failure."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def need_postgres() -> Path:
    folder = postgres_bin()
    if folder is None:
        message = "PostgreSQL's server is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("COURSE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return folder


class Postgres:
    """A PostgreSQL server of its own, reachable only on 127.0.0.1 with a password; as root, it
    runs as the `postgres` user (initdb refuses root)."""

    def __init__(self):
        self.bin = need_postgres()
        self.port = free_port()
        self.user, self.password = "grader", secrets.token_hex(12)
        self.folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
        self.data = self.folder / "data"
        self._as = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")
        (self.folder / "password").write_text(self.password + "\n")
        if self._as:
            shutil.chown(self.folder / "password", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--pwfile",
                  str(self.folder / "password"), "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-o", options, "-l",
                  str(self.folder / "server.log"), "start")

    def _run(self, program: str, *args: str) -> str:
        result = subprocess.run([*self._as, str(self.bin / program), *args],
                                capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def database(self, name: str | None = None) -> str:
        """A new, empty database: its URL."""
        name = name or f"gradebook_{secrets.token_hex(4)}"
        self._run("createdb", "-h", str(self.folder), "-p", str(self.port), "-U", self.user,
                  name)
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class DaskCluster:
    """`dask scheduler` and `workers` × `dask worker` (one thread each), separate processes on
    127.0.0.1, in a folder of their own (no shared filesystem with the grader but what a worker
    machine would have: the installed pack)."""

    def __init__(self, workers: int = 2):
        self.folder = Path(tempfile.mkdtemp(prefix="course-dask-"))
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port",
                                     str(self.port), "--dashboard-address", ":0")
        self._wait_for(0)
        self.workers = [self.add_worker(i) for i in range(workers)]
        self._wait_for(workers)

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + (
            "scheduler" if name == "scheduler" else "worker"), *args], stdout=log,
            stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True)
        self.processes.append(process)
        return process

    def add_worker(self, index: int) -> subprocess.Popen:
        return self._start(f"worker-{index}", self.address, "--nthreads", "1", "--nworkers",
                           "1", "--no-nanny", "--name", f"worker-{index}",
                           "--local-directory", str(self.folder / f"worker-{index}"))

    def _wait_for(self, workers: int, timeout: float = 120) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout
        while True:
            try:
                with Client(self.address, timeout=10) as client:
                    if workers:
                        client.wait_for_workers(workers,
                                                timeout=max(1, deadline - time.monotonic()))
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class Formgrader:
    """`python -m grading formgrader` on a course (its output in a log file, which no full
    pipe can stop): its URL, token and an API caller."""

    def __init__(self, course_dir: Path, log: Path):
        self.course, self.port, self.log = course_dir, free_port(), log
        with open(log, "w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grading", "formgrader", "--course", str(course_dir),
                 "--port", str(self.port)], cwd=REPO, stdout=handle,
                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while "token=" not in log.read_text():
            assert self.process.poll() is None and time.monotonic() < deadline, (
                "the formgrader did not start: " + self.stop()[-3000:])
            time.sleep(0.2)
        self.token = log.read_text().split("token=")[1].split()[0]
        while True:
            with contextlib.suppress(OSError):
                self.call("/formgrader/manage_assignments")
                break
            assert self.process.poll() is None and time.monotonic() < deadline, (
                "the formgrader did not start: " + self.stop()[-3000:])
            time.sleep(0.5)

    def call(self, path: str, method: str = "GET",
             data: dict | None = None) -> tuple[int, dict, str]:
        """(status, headers, body) of an API call with the session's token (JSON `data`)."""
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(self.url + path, method=method, data=body,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def stop(self) -> str:
        """End the session as Ctrl-C does (it seals, then the last session to end remakes
        grades, feedback and reports); the session's output."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return self.log.read_text(errors="replace")
