"""The consent gate: the one place that decides whether personae may use a customer's data
for a purpose or contact them on a channel.

Every activation path goes through here — recommendations (``personalization``), next best
actions and their messages (the channel's purpose plus ``personalization`` when the content
is personal), exports of audiences and webhooks that carry customer data. Nothing else reads
``consent_*`` columns to make a decision, so a change of policy (a new purpose, a stricter
rule) is made once, here.

The answer comes from the consent traits (``consent_<purpose>`` in ``traits``: the latest
decision in the consent ledger, **no record = no**). Two forms of one rule:

* :func:`check` for one customer (a mapping of their traits) → :class:`ConsentDecision`,
  and :func:`require` which raises :class:`~personae.errors.ConsentError`;
* :func:`allowed` for a batch (an Ibis boolean over the ``traits`` table), tested to agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis

from personae.errors import ConsentError, InputError
from personae.schema import CONSENT_PURPOSES

#: the consent purpose a message on each channel needs
CHANNEL_PURPOSE: dict[str, str] = {"email": "email", "sms": "sms", "push": "push"}


def channel_purpose(channel: str) -> str:
    """The purpose contacting someone on ``channel`` needs (``InputError`` if unknown)."""
    try:
        return CHANNEL_PURPOSE[channel]
    except KeyError:
        raise InputError(
            f"unknown channel {channel!r}", hint=f"use one of {', '.join(CHANNEL_PURPOSE)}"
        ) from None


def purposes_for(channel: str | None = None, *, personal: bool = False) -> tuple[str, ...]:
    """Every purpose an activation needs: its channel's, plus personalization for personal content."""
    out: list[str] = []
    if channel is not None:
        out.append(channel_purpose(channel))
    if personal:
        out.append("personalization")
    return tuple(out)


def _validate(purposes: Iterable[str]) -> tuple[str, ...]:
    ps = tuple(purposes)
    for p in ps:
        if p not in CONSENT_PURPOSES:
            raise InputError(
                f"unknown consent purpose {p!r}", hint=f"use one of {', '.join(CONSENT_PURPOSES)}"
            )
    return ps


@dataclass(frozen=True)
class ConsentDecision:
    """Whether every purpose is consented to, and which are not."""

    allowed: bool
    missing: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "consent given" if self.allowed else "no consent for " + ", ".join(self.missing)


def check(traits: Mapping[str, Any], purposes: Iterable[str]) -> ConsentDecision:
    """Decide for one customer from their traits; only an explicit ``True`` counts as consent."""
    missing = tuple(p for p in _validate(purposes) if traits.get(f"consent_{p}") is not True)
    return ConsentDecision(not missing, missing)


def require(traits: Mapping[str, Any], purposes: Iterable[str], *, what: str) -> None:
    """Raise :class:`ConsentError` unless every purpose is consented to."""
    d = check(traits, purposes)
    if not d.allowed:
        who = traits.get("customer_id", "the customer")
        raise ConsentError(
            f"{what} for {who} needs consent for {', '.join(d.missing)}",
            hint="consents come from the consents file: `personae ingest consents`",
        )


def allowed(
    traits: ibis.Table, purposes: Iterable[str], *, unknown: Mapping[str, bool] | None = None
) -> ibis.BooleanValue:
    """The batch form of :func:`check`: true where every purpose is consented (null = no).

    ``unknown``: what a null flag means instead, per flag column — for a step that joins the
    flags onto people with no profile yet (they follow the general policy,
    :func:`personae.traits.consent.default_flags`), never to overrule a recorded decision.
    """
    cond: ibis.BooleanValue = ibis.literal(True)
    for p in _validate(purposes):
        col = f"consent_{p}"
        if_null = bool((unknown or {}).get(col, False))
        cond = cond & (traits[col].fill_null(if_null) if col in traits.columns else ibis.literal(if_null))
    return cond


def consented(traits: ibis.Table, purposes: Iterable[str]) -> ibis.Table:
    """The rows of ``traits`` whose customers consented to every purpose (batch, lazy)."""
    return traits.filter(allowed(traits, purposes))


def mask(frame: Any, purposes: Iterable[str], *, unknown: Mapping[str, bool] | None = None) -> Any:
    """The pandas form of :func:`check`: a boolean NumPy array, true where every purpose is
    consented to (a missing column or value counts as no; ``unknown`` as in :func:`allowed`)."""
    import numpy as np

    ok = np.ones(len(frame), dtype=bool)
    for p in _validate(purposes):
        col = f"consent_{p}"
        if_null = bool((unknown or {}).get(col, False))
        if col not in frame.columns:
            ok &= if_null
            continue
        flag = frame[col].astype(object)
        ok &= flag.where(flag.notna(), if_null).eq(True).to_numpy(dtype=bool)
    return ok


def required_columns(purposes: Iterable[str]) -> list[str]:
    """The trait columns a batch form needs to read (select them with the rest)."""
    return [f"consent_{p}" for p in _validate(purposes)]
