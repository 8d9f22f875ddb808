"""``personae serve`` in a subprocess, and ``personae`` commands beside it: what the service's
end-to-end tests (serve, operations while serving, the soak) share.

Not a test module: the e2e tests import it (``tests/e2e`` is on ``sys.path`` under pytest's
default import mode, as ``from test_real_data import …`` relies on too).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
CDNOW = Path(
    os.environ.get(
        "PERSONAE_CDNOW_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "cdnow"
    )
)
SAMPLE = CDNOW / "cdnow_sample.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def personae(db: Path, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``personae ARGS`` on ``db`` as a user runs it (its own process, its output captured)."""
    return subprocess.run(
        [str(BIN / "personae"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PERSONAE_DB": str(db)},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


class Server:
    """``personae serve`` on a free port; ``start`` waits for ``/health`` and says how long it took."""

    def __init__(
        self,
        db: Path,
        tmp: Path,
        env: dict[str, str] | None = None,
        *,
        log: Path | None = None,
        log_level: str | None = None,
    ) -> None:
        self.db, self.tmp, self.env = db, tmp, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or tmp / f"server-{self.port}.log"
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 300) -> float:
        started = time.monotonic()
        args = [str(BIN / "personae"), "serve", "--port", str(self.port)]
        if self.log_level:
            args += ["--log-level", self.log_level]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                env={**os.environ, "PERSONAE_DB": str(self.db), **self.env},
                cwd=self.tmp,
                stdout=log,
                stderr=log,
            )
        while time.monotonic() < started + wait:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def admin(self) -> dict[str, str]:
        """The local admin token the server wrote beside its database."""
        info = json.loads(Path(f"{self.db.resolve()}.serve.json").read_text())
        return {"Authorization": f"Bearer {info['token']}"}

    def stop(self, sig: int = signal.SIGTERM, wait: float = 120) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(wait)
