"""Shared by the end-to-end tests."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from personae.cli import main

RunMain = Callable[..., tuple[int, str, str]]


@pytest.fixture
def main_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunMain:
    """Call the console script's ``main()`` in-process: ``(exit code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["personae", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
