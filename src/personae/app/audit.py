"""The audit log: who read or changed personal data, when, through what, and what.

Append-only: this module only adds entries and reads them. The one rewrite is erasure, which
replaces an erased person's id in past entries by their anonymous token (see
:mod:`personae.app.privacy`), so the log keeps proving what was done without saying to whom.
"""

from __future__ import annotations

import getpass
from datetime import datetime

import ibis
import pandas as pd
import pyarrow as pa

from personae.store import Store


def cli_actor() -> str:
    """Who is running the CLI: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (some containers)
        return "cli:unknown"


def record(
    store: Store,
    *,
    actor: str,
    action: str,
    channel: str = "cli",
    customer_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one entry. ``action`` is a verb phrase such as ``read profile`` or ``erase``."""
    store.append(
        "audit_log",
        pa.table(
            {
                "logged_at": pa.array([datetime.now()], pa.timestamp("us")),
                "actor": pa.array([actor], pa.string()),
                "channel": pa.array([channel], pa.string()),
                "action": pa.array([action], pa.string()),
                "customer_id": pa.array([customer_id], pa.string()),
                "detail": pa.array([detail], pa.string()),
            }
        ),
    )


def entries(store: Store, *, customer_id: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Entries, newest first; only those about ``customer_id`` when given."""
    t = store.table("audit_log")
    if customer_id is not None:
        t = t.filter(t.customer_id == customer_id)
    t = t.order_by([ibis.desc("logged_at")])
    if limit:
        t = t.limit(limit)
    return store.execute(t)
