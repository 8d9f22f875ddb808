"""The writer's garbage-collector housekeeping: collect, then freeze what survives."""

from __future__ import annotations

import gc
import weakref

from personae.live.runtime import _collect_and_freeze


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_cyclic_garbage_is_collected_before_the_freeze_and_live_objects_are_frozen() -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = [[i] for i in range(1000)]
    before = gc.get_freeze_count()
    _collect_and_freeze()
    try:
        assert gone() is None  # not frozen forever
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()
