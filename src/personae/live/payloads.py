"""The Segment HTTP tracking API's messages, as Pydantic models (request validation + OpenAPI).

These follow the Segment spec (https://segment.com/docs/connections/spec/) closely enough that
the unmodified Segment and RudderStack client libraries are accepted: ids may be strings or
numbers (stringified), timestamps are ISO 8601 (a time without an offset is the shop's local
time, the ``timezone`` setting; see :mod:`personae.clock`), unknown top-level fields are allowed
(libraries add their own) and kept with the event's properties. What is
checked is what personae relies on: the type, at least one of ``userId``/``anonymousId`` where
the spec requires it, the event name, the shapes of ``properties``/``traits``/``context``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    TypeAdapter,
    ValidationError,
    model_validator,
)

MAX_ID_LENGTH = 255


def _as_id(value: Any) -> Any:
    """Segment ids may be numbers; personae keeps every identifier as text."""
    if isinstance(value, bool):
        raise ValueError("an id must be a string or a number, not true/false")
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


Id = Annotated[str, BeforeValidator(_as_id), Field(min_length=1, max_length=MAX_ID_LENGTH)]
Text = Annotated[str, Field(max_length=1_000)]
Object = dict[str, Any]


def _plausible(value: datetime | None, name: str) -> None:
    """Client clocks can be wrong, but not by centuries: such a time cannot be stored (the
    engine's timestamps span 1677-2262), so it is refused with a 400 rather than failing later."""
    if value is not None and not 1900 <= value.year <= 2200:
        raise ValueError(f"{name} {value.isoformat()} is not a plausible time (years 1900-2200)")


def _no_lone_surrogates(value: Any, depth: int = 0) -> Any:
    """Refuse text that is not valid Unicode (a lone UTF-16 surrogate such as ``"\\ud94e"``):
    JSON allows the escape, but it cannot be stored, so it is a 400, not a 500 later."""
    if depth > 64:
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (it holds a lone surrogate escape)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_lone_surrogates(k, depth + 1)
            _no_lone_surrogates(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _no_lone_surrogates(v, depth + 1)
    return value


class Message(BaseModel):
    """Fields every message may carry."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _valid_text(cls, data: Any) -> Any:
        return _no_lone_surrogates(data)

    userId: Id | None = Field(None, description="Your id of the user (becomes personae's customer id).")
    anonymousId: Id | None = Field(None, description="Device/browser id before the user is known.")
    messageId: Id | None = Field(
        None, description="Unique id; a repeated messageId is acknowledged and ignored (idempotency)."
    )
    timestamp: datetime | None = Field(None, description="When it happened (client clock).")
    originalTimestamp: datetime | None = Field(None, description="Client time before skew correction.")
    sentAt: datetime | None = Field(None, description="When the client sent it (client clock).")
    receivedAt: datetime | None = Field(None, description="Ignored: the server sets it.")
    context: Object = Field(default_factory=dict, description="Library, page, app, device, ip …")
    integrations: Object = Field(default_factory=dict, description="Accepted and ignored.")

    @model_validator(mode="after")
    def _plausible_times(self) -> Message:
        for name in ("timestamp", "originalTimestamp", "sentAt"):
            _plausible(getattr(self, name), name)
        return self

    @model_validator(mode="after")
    def _someone(self) -> Message:
        if self.userId is None and self.anonymousId is None and self._needs_identity():
            raise ValueError("either userId or anonymousId is required")
        return self

    def _needs_identity(self) -> bool:
        return True


class Identify(Message):
    type: Literal["identify"] = "identify"
    traits: Object = Field(default_factory=dict, description="email, phone, firstName, address …")


class Track(Message):
    type: Literal["track"] = "track"
    event: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="Event name, e.g. 'Product Added'."
    )
    properties: Object = Field(default_factory=dict)


class Page(Message):
    type: Literal["page"] = "page"
    name: Text | None = None
    category: Text | None = None
    properties: Object = Field(default_factory=dict)


class Screen(Message):
    type: Literal["screen"] = "screen"
    name: Text | None = None
    category: Text | None = None
    properties: Object = Field(default_factory=dict)


class Group(Message):
    type: Literal["group"] = "group"
    groupId: Id = Field(description="The account/company/household id.")
    traits: Object = Field(default_factory=dict)


class Alias(Message):
    type: Literal["alias"] = "alias"
    previousId: Id = Field(description="The id the user had before (anonymous or an older user id).")
    userId: Id = Field(description="The id the user has now.")

    def _needs_identity(self) -> bool:
        return False


AnyMessage = Annotated[Identify | Track | Page | Screen | Group | Alias, Field(discriminator="type")]


class Batch(BaseModel):
    """``POST /v1/batch``: what every client library sends.

    Only the envelope is checked here (a body that is not a batch is a 400); each message is
    checked on its own by :func:`split_batch`, so one bad message (a device with a broken clock,
    a missing id) is listed in ``rejected`` while the good ones of the batch are stored — the
    Segment libraries drop a whole batch answered with a 4xx. The OpenAPI schema still describes
    the messages (``SkipValidation`` keeps the schema and skips the check).
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _valid_text(cls, data: Any) -> Any:
        if isinstance(data, dict):  # the messages are checked one by one (split_batch)
            _no_lone_surrogates({k: v for k, v in data.items() if k != "batch"})
        return data

    @model_validator(mode="after")
    def _plausible_time(self) -> Batch:
        _plausible(self.sentAt, "sentAt")
        return self

    batch: list[SkipValidation[AnyMessage]] = Field(min_length=1, description="The messages, in order.")
    sentAt: datetime | None = Field(None, description="When the batch was sent (client clock).")
    context: Object = Field(default_factory=dict, description="Merged into each message's context.")
    integrations: Object = Field(default_factory=dict)
    writeKey: str | None = Field(
        None, description="Accepted (libraries send it) but the auth header decides."
    )


_MESSAGE: TypeAdapter[Any] = TypeAdapter(AnyMessage)


@dataclass(frozen=True)
class Invalid:
    """A message of a batch refused by the message schema: where it was, its id, why, as sent."""

    index: int
    message_id: str | None
    reason: str
    raw: str


@dataclass
class Split:
    """A batch's messages: the valid ones with their positions in the batch, and the refused."""

    messages: list[Any] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)


def split_batch(items: Sequence[Any]) -> Split:
    """Check each message of a batch on its own: the valid ones, and the others with a reason.

    Example:
        >>> out = split_batch([
        ...     {"type": "track", "userId": "u1", "event": "Product Viewed", "messageId": "m1"},
        ...     {"type": "track", "event": "Product Viewed", "messageId": "m2"},
        ...     7,
        ... ])
        >>> out.positions
        [0]
        >>> [(i.index, i.message_id, i.reason) for i in out.invalid]  # doctest: +NORMALIZE_WHITESPACE
        [(1, 'm2', 'either userId or anonymousId is required'),
         (2, None, 'not a message (a JSON object)')]
    """
    out = Split()
    for index, item in enumerate(items):
        if isinstance(item, BaseModel):  # already a message (callers in process)
            out.messages.append(item)
            out.positions.append(index)
            continue
        try:
            message = _MESSAGE.validate_python(item)
        except ValidationError as exc:
            out.invalid.append(Invalid(index, _message_id(item), _why(item, exc), _raw(item)))
            continue
        out.messages.append(message)
        out.positions.append(index)
    return out


def _why(item: Any, exc: ValidationError) -> str:
    """The first problem, in one line: ``field: message`` (pydantic's "Value error, " dropped)."""
    if not isinstance(item, dict):
        return "not a message (a JSON object)"
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] == item.get("type"):  # the union's tag, not a field
        loc = loc[1:]
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    text = f"{'.'.join(loc)}: {msg}" if loc else msg
    return _printable(text)[:500]


def _message_id(item: Any) -> str | None:
    """The ``messageId`` a refused message carries, if it is a usable id (so the client can match it)."""
    if not isinstance(item, dict):
        return None
    try:
        value = _as_id(item.get("messageId"))
    except ValueError:
        return None
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        return None
    return _printable(value)


def _printable(text: str) -> str:
    """Text that can be sent and stored (a lone surrogate escaped, not a crash)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _raw(item: Any) -> str:
    """The message as sent, kept with the reject (``personae rejects``), as a file ingest keeps the line."""
    return json.dumps(item, default=str, ensure_ascii=True)


class Accepted(BaseModel):
    """The answer to a tracking call: only sent once everything accepted is committed."""

    success: bool = Field(True, description="Always true for a 200 (what the Segment libraries read).")
    accepted: int = Field(description="Messages stored now.")
    duplicates: int = Field(description="Messages whose messageId was seen before (nothing stored).")
    rejected: list[dict[str, Any]] = Field(
        default_factory=list, description="Messages refused by validation: index, messageId, reason."
    )
    suppressed: int = Field(
        0,
        description="Messages about an erased person (an erasure tombstone matched one of their "
        "identifiers): acknowledged so the client does not retry them, and not stored.",
    )


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer (``code``/``message`` are what the Segment libraries log)."""

    code: str
    message: str
    hint: str | None = None
    errors: list[dict[str, Any]] | None = None
