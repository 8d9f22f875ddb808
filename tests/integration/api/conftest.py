"""Shared by the service's integration tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class Settled:
    """The service's read connection, after the store holds every acknowledged group.

    The service acknowledges a group once it is in its journal and applies it to DuckDB right
    after (:mod:`personae.live.commit_log`): the API's reads wait for that, and a test that
    reads the database itself must too.
    """

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def execute(self, *args: Any) -> Any:
        self.runtime.log.visible()
        return self.runtime.reader.raw.execute(*args)


@pytest.fixture()
def settled() -> Callable[[Any], Settled]:
    return Settled
