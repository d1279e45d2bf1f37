"""A real ``routeplan serve`` process on 127.0.0.1 for tests that need one (not a TestClient):
concurrency against the real database, the README's curl walk."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RealServer:
    """One ``routeplan serve`` process; ``env`` adds settings (``ROUTEPLAN_...``)."""

    def __init__(self, database_url: str, log: Path, env: Mapping[str, str] | None = None) -> None:
        self.database_url = database_url
        self.log = log
        self.env = dict(env or {})
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until ``/v1/health`` answers."""
        env = {**os.environ, "ROUTEPLAN_DATABASE_URL": self.database_url, **self.env}
        command = [
            str(Path(sys.executable).parent / "routeplan"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send ``sig`` and wait for the process to end."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def kill_all(self) -> None:
        """Teardown: the server and anything left in its process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
