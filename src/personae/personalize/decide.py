"""The next best action for one customer: which playbooks apply, which wins, and why not the others.

Pure: the caller gives the customer's traits, the playbooks whose audience rule they match,
and the messages they recently received. Playbooks are tried by priority; for each, in order:

1. the audience rule must match (else *not eligible*);
2. a higher-priority playbook already took the slot (*outranked*: one action per customer);
3. no quiet period today, and the playbook's cooldown since it was last sent has passed;
4. a channel, in the playbook's order of preference, with consent (via
   :func:`personae.privacy.consent.check`: the channel's purpose, plus personalization for personal
   content) and under its frequency cap;
5. the holdout: a customer in the playbook's control group is *held out* — they take the slot
   (nothing else is sent instead, so the control group measures "this action vs nothing").

A hold counts toward cooldowns and caps exactly like a send (a :class:`Sent` with
``held_out=True``): after being held out, a customer waits out the cooldown and uses up the
channel's cap just as a treated one does, so both groups are equally available to other
playbooks in between. Were holds not counted, the control group would be held out again at
every run and keep its slot, while the treated group in cooldown fell through to other
playbooks: "treatment" would be this playbook plus whatever follows, "control" nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from personae.personalize.holdout import in_holdout
from personae.personalize.playbooks import Playbook, PlaybookBook, QuietPeriod
from personae.privacy import consent


@dataclass(frozen=True)
class Sent:
    """A message the customer received: by which playbook (or ``None``), on which channel, when
    — or, with ``held_out``, the one they would have received had they not been in the
    playbook's control group (it counts toward cooldowns and caps all the same)."""

    channel: str | None
    day: date
    playbook: str | None = None
    held_out: bool = False


@dataclass(frozen=True)
class Step:
    playbook: str
    status: str  # chosen, held_out, suppressed, not_eligible, outranked
    reason: str
    channel: str | None = None
    #: the reason without the customer's particulars (dates, counts), so audiences can be
    #: summarised by it: "in a quiet period", "in the playbook's cooldown", …
    cause: str = ""


@dataclass(frozen=True)
class Decision:
    customer_id: str
    day: date
    steps: list[Step] = field(default_factory=list)

    @property
    def chosen(self) -> Step | None:
        return next((s for s in self.steps if s.status in ("chosen", "held_out")), None)

    def as_dict(self) -> dict[str, Any]:
        c = self.chosen
        return {
            "customer_id": self.customer_id,
            "as_of": self.day.isoformat(),
            "action": None if c is None or c.status != "chosen" else c.playbook,
            "channel": None if c is None or c.status != "chosen" else c.channel,
            "held_out_of": c.playbook if c is not None and c.status == "held_out" else None,
            "playbooks": [asdict(s) for s in self.steps],
        }


def quiet_period(day: date, periods: Sequence[QuietPeriod]) -> QuietPeriod | None:
    """The quiet period ``day`` falls in (periods may wrap the year end), if any."""
    md = day.strftime("%m-%d")
    for p in periods:
        inside = p.start <= md <= p.end if p.start <= p.end else (md >= p.start or md <= p.end)
        if inside:
            return p
    return None


def decide(
    book: PlaybookBook,
    customer_id: str,
    traits: Mapping[str, Any],
    eligible: Collection[str],
    sent: Sequence[Sent],
    day: date,
    *,
    salt: str = "personae",
) -> Decision:
    """Decide the next best action of one customer on ``day`` (see the module docstring)."""
    steps: list[Step] = []
    taken: str | None = None
    quiet = quiet_period(day, book.rules.quiet_periods)
    for pb in book.playbooks:
        if pb.name not in eligible:
            steps.append(Step(pb.name, "not_eligible", f"not in the audience ({pb.audience})"))
            continue
        if taken is not None:
            steps.append(Step(pb.name, "outranked", f"{taken} comes first (priority)"))
            continue
        if quiet is not None:
            steps.append(
                Step(
                    pb.name,
                    "suppressed",
                    f"quiet period {quiet.name} ({quiet.start} to {quiet.end})",
                    cause="in a quiet period",
                )
            )
            continue
        previous = [s for s in sent if s.playbook == pb.name]
        last_sent = max(previous, key=lambda s: s.day, default=None)
        if last_sent is not None and pb.cooldown_days and (day - last_sent.day).days < pb.cooldown_days:
            what = "held out" if last_sent.held_out else "sent"
            steps.append(
                Step(
                    pb.name,
                    "suppressed",
                    f"{what} {last_sent.day.isoformat()}; cooldown of {pb.cooldown_days} days",
                    cause="in the playbook's cooldown",
                )
            )
            continue
        channel, why, cause = _channel(book, pb, traits, sent, day)
        if channel is None:
            steps.append(Step(pb.name, "suppressed", why, cause=cause))
            continue
        taken = pb.name
        if in_holdout(customer_id, pb.name, pb.holdout, salt):
            steps.append(
                Step(pb.name, "held_out", f"in the control group ({pb.holdout:.0%} holdout)", channel)
            )
        else:
            steps.append(Step(pb.name, "chosen", f"{pb.action} by {channel}", channel))
    return Decision(customer_id, day, steps)


def _channel(
    book: PlaybookBook, pb: Playbook, traits: Mapping[str, Any], sent: Sequence[Sent], day: date
) -> tuple[str | None, str, str]:
    """The first channel with consent and under its cap, or ``None``, why not and the cause
    (the contact cap when a consented channel was capped, else consent)."""
    reasons = []
    capped = False
    for channel in pb.channels:
        verdict = consent.check(traits, consent.purposes_for(channel, personal=pb.personal))
        if not verdict.allowed:
            reasons.append(f"{channel}: {verdict.reason}")
            continue
        cap = book.rules.caps.get(channel)
        if cap is not None:
            since = day - timedelta(days=cap.days - 1)
            n = sum(1 for s in sent if s.channel == channel and since <= s.day <= day)
            if n >= cap.max:
                reasons.append(f"{channel}: cap of {cap.max} per {cap.days} days reached ({n} sent)")
                capped = True
                continue
        return channel, "", ""
    cause = "at a channel's contact cap" if capped else f"without consent to {' or '.join(pb.channels)}"
    return None, "; ".join(reasons), cause
