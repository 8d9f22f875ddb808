"""The consent ledger, and the windows in which each person may be messaged.

Consent is append-only: a sign-up records a decision for every purpose, and later rows
change one purpose (an unsubscribe link, the preference centre, a store). The latest row
per customer and purpose wins. The same decisions bound the messaging the behaviour module
generates, so e-mails are only sent while e-mail consent is granted: a consent gate tested
on this data sees consistent history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate.columns import SECONDS_PER_DAY
from personae.devtools.generate.groups import GROUPS
from personae.devtools.generate.identities import Identities
from personae.devtools.generate.population import JOIN_CHANNELS, Population
from personae.devtools.generate.seasonality import Timeline

NEVER = np.int64(2**62)
SOURCES = ("signup", "preference_center", "unsubscribe_link", "store")
SIGNUP, PREFERENCE_CENTER, UNSUBSCRIBE, STORE = range(len(SOURCES))
PURPOSE = {p: i for i, p in enumerate(schema.CONSENT_PURPOSES)}
#: chance each purpose is granted at sign-up (e-mail varies by group, see below)
_SIGNUP_GRANT = {"analytics": 0.9, "personalization": 0.76, "profiling": 0.6, "sms": 0.33, "push": 0.55}
_EMAIL_GRANT = np.array([0.92, 0.96, 0.8, 0.85, 0.9, 0.78])


@dataclass(frozen=True)
class Consents:
    """The ledger rows of a chunk and each person's messaging windows (epoch seconds).

    A person may get e-mail in ``[email_from, email_until)``; ``NEVER`` marks no bound.
    """

    table: pa.Table
    email_from: np.ndarray
    email_until: np.ndarray
    sms_from: np.ndarray
    sms_until: np.ndarray
    push_from: np.ndarray
    push_until: np.ndarray


class _Ledger:
    """Collects ledger rows as parallel arrays."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        people: np.ndarray,
        dup: bool,
        purpose: str,
        granted: np.ndarray,
        at: np.ndarray,
        source: np.ndarray | int,
    ) -> None:
        k = len(people)
        self.blocks.append(
            (
                people,
                np.full(k, dup),
                np.full(k, PURPOSE[purpose]),
                np.asarray(granted, dtype=bool),
                np.asarray(at, dtype=np.int64),
                np.broadcast_to(np.asarray(source), (k,)).astype(np.int64),
            )
        )

    def table(self, ids: Identities) -> pa.Table:
        people, dup, purpose, granted, at, source = (
            np.concatenate(c) for c in zip(*self.blocks, strict=True)
        )
        order = np.lexsort((purpose, at, dup, people))
        people, dup, purpose = people[order], dup[order], purpose[order]
        granted, at, source = granted[order], at[order], source[order]
        index = pa.array(people)
        customer = pc.if_else(dup, ids.dup_customer_id.take(index), ids.customer_id.take(index))
        return pa.table(
            {
                "customer_id": customer,
                "purpose": col.lookup(schema.CONSENT_PURPOSES, purpose),
                "granted": pa.array(granted),
                "recorded_at": col.timestamps(at),
                "source": col.lookup(SOURCES, source),
            }
        )


def _later(
    rng: np.random.Generator, people: np.ndarray, start: np.ndarray, end_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """For ``people``, a uniform moment between a day after their ``start`` (indexed by
    person) and the end of the window.

    People whose decision is too recent for a change before the end are dropped, so a
    customer never has two rows for one purpose at the same instant (the ledger key).
    """
    lo = start[people] + SECONDS_PER_DAY
    room = lo < end_s
    people, lo = people[room], lo[room]
    return people, lo + (rng.random(len(lo)) * (end_s - lo)).astype(np.int64)


def draw_consents(rng: np.random.Generator, pop: Population, ids: Identities, timeline: Timeline) -> Consents:
    """Sign-up decisions for all purposes, then opt-outs and late opt-ins."""
    n = len(pop)
    end_s = timeline.end_s
    everyone = np.arange(n)
    ledger = _Ledger()
    signup_at = pop.join_s + rng.integers(0, 5, n)
    source = np.where(pop.join_channel == JOIN_CHANNELS.index("store"), STORE, SIGNUP)
    for purpose in ("analytics", "personalization", "profiling"):
        granted = rng.random(n) < _SIGNUP_GRANT[purpose]
        ledger.add(everyone, False, purpose, granted, signup_at, source)
        if purpose == "personalization":  # a few switch personalisation off later
            off, off_at = _later(rng, np.flatnonzero(granted & (rng.random(n) < 0.04)), signup_at, end_s)
            ledger.add(off, False, purpose, np.zeros(len(off)), off_at, PREFERENCE_CENTER)
    # e-mail: most grant at sign-up; some unsubscribe later, a few opt in later
    e = np.flatnonzero(ids.has_email)
    granted = rng.random(len(e)) < _EMAIL_GRANT[pop.group[e]]
    ledger.add(e, False, "email", granted, signup_at[e], source[e])
    email_from = np.full(n, NEVER)
    email_until = np.full(n, NEVER)
    email_from[e[granted]] = signup_at[e[granted]]
    late, late_at = _later(rng, e[~granted & (rng.random(len(e)) < 0.2)], signup_at, end_s)
    ledger.add(late, False, "email", np.ones(len(late)), late_at, PREFERENCE_CENTER)
    email_from[late] = late_at
    opt_out_rate = np.array([g.email_opt_out for g in GROUPS])[pop.group]
    subscribed = np.flatnonzero(email_from < NEVER)
    leave, leave_at = _later(
        rng, subscribed[rng.random(len(subscribed)) < opt_out_rate[subscribed]], email_from, end_s
    )
    ledger.add(leave, False, "email", np.zeros(len(leave)), leave_at, UNSUBSCRIBE)
    email_until[leave] = leave_at
    blocked = ids.blocked & ids.has_email  # nobody sends to a placeholder address
    email_from[blocked] = NEVER
    # sms: lower opt-in, some opt out by replying STOP
    p = np.flatnonzero(ids.has_phone)
    granted = rng.random(len(p)) < _SIGNUP_GRANT["sms"]
    ledger.add(p, False, "sms", granted, signup_at[p], source[p])
    sms_from = np.full(n, NEVER)
    sms_until = np.full(n, NEVER)
    sms_from[p[granted]] = signup_at[p[granted]]
    late, late_at = _later(rng, p[~granted & (rng.random(len(p)) < 0.08)], signup_at, end_s)
    ledger.add(late, False, "sms", np.ones(len(late)), late_at, PREFERENCE_CENTER)
    sms_from[late] = late_at
    on = np.flatnonzero(sms_from < NEVER)
    stop, stop_at = _later(rng, on[rng.random(len(on)) < 0.15], sms_from, end_s)
    ledger.add(stop, False, "sms", np.zeros(len(stop)), stop_at, UNSUBSCRIBE)
    sms_until[stop] = stop_at
    # push: asked when the app is first opened
    a = np.flatnonzero(pop.app_user)
    first_open = np.minimum(
        pop.join_s[a] + (rng.exponential(10.0, len(a)) * SECONDS_PER_DAY).astype(np.int64), end_s
    )
    granted = rng.random(len(a)) < _SIGNUP_GRANT["push"]
    ledger.add(a, False, "push", granted, first_open, SIGNUP)
    push_from = np.full(n, NEVER)
    push_until = np.full(n, NEVER)
    push_from[a[granted]] = first_open[granted]
    on = a[granted]
    off, off_at = _later(rng, on[rng.random(len(on)) < 0.2], push_from, end_s)
    ledger.add(off, False, "push", np.zeros(len(off)), off_at, PREFERENCE_CENTER)
    push_until[off] = off_at
    # duplicate profiles: a till sign-up records analytics and, with an address, e-mail
    d = np.flatnonzero(ids.has_dup)
    dup_at = ids.dup_created_s[d]
    ledger.add(d, True, "analytics", rng.random(len(d)) < 0.9, dup_at, STORE)
    with_email = d[~np.asarray(ids.dup_email.is_null().to_numpy(zero_copy_only=False))[d]]
    ledger.add(
        with_email, True, "email", rng.random(len(with_email)) < 0.7, ids.dup_created_s[with_email], STORE
    )
    return Consents(ledger.table(ids), email_from, email_until, sms_from, sms_until, push_from, push_until)
