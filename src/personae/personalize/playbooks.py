"""Playbooks: which segment gets which action, on which channel, with what content.

A playbook is configuration (YAML, see ``playbooks.yaml`` shipped next to this module and
docs/personalization.md): an audience rule in the segment language, channels in order of
preference, the content (per-channel Jinja templates, the items to show, an incentive), a
priority, a holdout share and a cooldown. The ``rules:`` section holds what applies across
playbooks: frequency caps per channel and quiet periods.
"""

from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from personae.errors import InputError, NotFoundError
from personae.privacy.consent import CHANNEL_PURPOSE
from personae.segments.check import suggest


class Incentive(BaseModel):
    """What the customer is offered."""

    kind: Literal["none", "percent_off", "amount_off", "free_shipping"] = "none"
    value: float = Field(0.0, ge=0)
    valid_days: int = Field(14, ge=1, description="The offer expires this many days after sending.")

    def describe(self) -> str:
        if self.kind == "percent_off":
            return f"{self.value:g}% off"
        if self.kind == "amount_off":
            return f"{self.value:g} off"
        if self.kind == "free_shipping":
            return "free shipping"
        return ""


class Template(BaseModel):
    """A message for one channel (Jinja; ``subject`` only where the channel has one)."""

    subject: str = ""
    body: str


class Playbook(BaseModel):
    """One next best action."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = ""
    audience: str = Field(description='Segment-language rule, e.g. cart_abandoned or in_segment("X").')
    action: str
    channels: list[str] = Field(min_length=1, description="In order of preference.")
    personal: bool = Field(
        True, description="The content uses the customer's data (needs personalization consent)."
    )
    priority: int = Field(100, description="Lower goes first.")
    holdout: float = Field(0.1, ge=0, lt=1, description="Share of the audience kept as a control group.")
    cooldown_days: int = Field(30, ge=0, description="Not the same playbook again to a customer within this.")
    items: Literal["none", "cart", "recommendations", "browsed_category"] = "none"
    n_items: int = Field(3, ge=0, le=20)
    incentive: Incentive = Field(default_factory=Incentive)
    templates: dict[str, Template]

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, v: list[str]) -> list[str]:
        for c in v:
            if c not in CHANNEL_PURPOSE:
                raise ValueError(f"unknown channel {c!r}: use {', '.join(CHANNEL_PURPOSE)}")
        return v

    def model_post_init(self, _: object) -> None:
        missing = [c for c in self.channels if c not in self.templates]
        if missing:
            raise ValueError(f"playbook {self.name}: no template for channel(s) {', '.join(missing)}")


class Cap(BaseModel):
    """At most ``max`` messages on a channel per customer within ``days``."""

    max: int = Field(ge=0)
    days: int = Field(ge=1)


class QuietPeriod(BaseModel):
    """A yearly period (``MM-DD``, inclusive) without any message."""

    name: str
    start: str = Field(pattern=r"^\d\d-\d\d$")
    end: str = Field(pattern=r"^\d\d-\d\d$")


class Rules(BaseModel):
    caps: dict[str, Cap] = Field(default_factory=dict)
    quiet_periods: list[QuietPeriod] = Field(default_factory=list)


class PlaybookBook(BaseModel):
    """Every playbook, by priority, and the rules they share."""

    playbooks: list[Playbook]
    rules: Rules = Field(default_factory=Rules)

    def model_post_init(self, _: object) -> None:
        names = [p.name for p in self.playbooks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"playbook names must be unique: {', '.join(dupes)}")
        self.playbooks.sort(key=lambda p: (p.priority, p.name))

    def get(self, name: str) -> Playbook:
        for p in self.playbooks:
            if p.name == name:
                return p
        close = suggest(name, [p.name for p in self.playbooks])
        raise NotFoundError(
            f"no playbook named {name!r}",
            hint=f"did you mean {close[0]!r}?" if close else "see `personae actions playbooks`",
        )


def parse_playbooks(text: str, source: str) -> PlaybookBook:
    """Parse and validate a playbooks YAML text (``InputError`` naming the problem)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "playbooks" not in data:
        raise InputError(f"{source}: expected a mapping with a `playbooks:` list")
    try:
        return PlaybookBook.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{source}: {where}: {first['msg']}", hint="see docs/personalization.md") from None
