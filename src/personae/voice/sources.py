"""Where customers' words are: ingested texts, survey comments and events that carry a text.

* ``texts`` — whatever ``personae ingest texts`` loaded (social posts, reviews, support
  transcripts, emails, chats, letters): its ``source`` is the source (and the channel of an
  email, chat or letter), and the touchpoint is ``product`` for reviews, ``support`` for
  support, else the source;
* ``surveys.comment`` — the comment left with an NPS/CSAT/CES/trust answer, at its touchpoint;
* ``events`` of type ``review`` (touchpoint ``product``), ``support_contact`` (``support``),
  ``social_post`` (``social``; the network in ``properties.network``/``platform`` becomes the
  channel, and ``followers``/``reach`` the reach) and any other event type whose properties hold
  a text (its type becomes the source and touchpoint) — except messages the shop sent
  (:data:`OUTBOUND_TYPES`).

The text of an event is the first of the property keys :data:`TEXT_KEYS` present, in
``properties`` or, for files whose text was a column of its own, ``properties_extra`` (where
ingestion keeps non-canonical columns). A ``touchpoint`` property overrides the default.

Every text carries ``score`` and ``scale_max`` where its author gave a score with it (nullable
floats): the stars of a text or of a review event (``properties.rating``, on
``properties.rating_max``/``scale_max`` or 5), the answer a survey comment came with for the
kinds whose higher answer is the happier one (:data:`SCORED_SURVEY_KINDS`; CES scales run
either way between vendors, custom questions are unknown). They are labels for free: a
sentiment model can learn from them. ``subject`` (a product, store or brand) and a ``language``
the file gave come from ingested texts only.

Every function builds an Ibis expression; nothing is executed here.
"""

from __future__ import annotations

from datetime import date

import ibis

from personae.schema import DEFAULT_RATING_MAX, DEFAULT_SCALE_MAX
from personae.traits.inputs import end_of

#: Property keys that hold a customer's own words, in order of preference. (Not "message":
#: shops use it for what *they* sent, e.g. a push notification's name.)
TEXT_KEYS = ("text", "comment", "body", "review", "content")
#: Event types that are the shop talking, never the customer, whatever their properties hold.
OUTBOUND_TYPES = ("email_sent", "email_open", "email_click", "sms_sent", "push_open")
#: Property keys that hold the size of a social audience.
REACH_KEYS = ("followers", "reach", "audience")
#: Property keys naming a social network.
NETWORK_KEYS = ("network", "platform", "source")
#: Event type → source name and default touchpoint.
EVENT_SOURCES = {
    "review": ("review", "product"),
    "support_contact": ("support", "support"),
    "social_post": ("social", "social"),
    "social_mention": ("social", "social"),
}
#: The columns of the texts table, in order.
COLUMNS = (
    "source",
    "text_id",
    "customer_id",
    "at",
    "touchpoint",
    "channel",
    "product_id",
    "category",
    "reach",
    "text",
    "score",
    "scale_max",
    "subject",
    "language",
)
#: Survey kinds whose answer says how happy the customer is (higher = happier), with the comment.
SCORED_SURVEY_KINDS = ("nps", "csat", "trust")
#: A text's source → its touchpoint (any other source is its own touchpoint).
TEXT_TOUCHPOINTS = {"review": "product", "support": "support"}
#: Text sources that are also the channel the text came through.
TEXT_CHANNELS = ("email", "chat", "letter")
_KEY_PATTERN = '"(' + "|".join(TEXT_KEYS) + ')"\\s*:'


def _first_string(columns: list[ibis.Value], keys: tuple[str, ...]) -> ibis.Value:
    values = [c[k].str for c in columns for k in keys]
    return ibis.coalesce(*values) if len(values) > 1 else values[0]


def _nonblank(v: ibis.Value) -> ibis.Value:
    v = v.strip()
    return ibis.cases((v == "", ibis.null("string")), else_=v)


def survey_texts(surveys: ibis.Table) -> ibis.Table:
    """Survey comments (blank ones left out)."""
    s = surveys.filter(surveys.comment.notnull())
    s = s.mutate(_text=_nonblank(s.comment))
    s = s.filter(s._text.notnull())
    scored = s.kind.isin(SCORED_SURVEY_KINDS) & s.score.notnull()
    # ingest fills scale_max by kind; a row stored without one gets the kind's default here
    default = ibis.cases(
        *[(s.kind == k, ibis.literal(float(v))) for k, v in DEFAULT_SCALE_MAX.items()],
        else_=ibis.null("float64"),
    )
    scale = ibis.coalesce(s.scale_max.cast("float64"), default)
    return s.select(
        source=ibis.literal("survey"),
        text_id=ibis.coalesce(s.response_id, s._row_key),
        customer_id=s.customer_id,
        at=s.answered_at,
        touchpoint=s.touchpoint.fill_null("survey"),
        channel=s.kind,
        product_id=ibis.null("string"),
        category=ibis.null("string"),
        reach=ibis.null("int64"),
        text=s._text,
        score=ibis.cases((scored, s.score.cast("float64")), else_=ibis.null("float64")),
        scale_max=ibis.cases((scored, scale), else_=ibis.null("float64")),
        subject=ibis.null("string"),
        language=ibis.null("string"),
    )


def event_texts(events: ibis.Table) -> ibis.Table:
    """Events whose properties hold a text (reviews, support contacts, social posts, …)."""
    has_props = "properties_extra" in events.columns
    cond = events.properties.re_search(_KEY_PATTERN)
    if has_props:
        cond = cond | events.properties_extra.re_search(_KEY_PATTERN)
    e = events.filter(cond.fill_null(False) & ~events.type.isin(OUTBOUND_TYPES))
    sources = [e.properties.cast("json")]
    if has_props:
        sources.append(e.properties_extra.cast("json"))
    text = _nonblank(_first_string(sources, TEXT_KEYS))
    reach = ibis.coalesce(*[c[k].int for c in sources for k in REACH_KEYS])
    network = _first_string(sources, NETWORK_KEYS).lower()
    source = ibis.cases(*[(e.type == t, s) for t, (s, _) in EVENT_SOURCES.items()], else_=e.type)
    default_tp = ibis.cases(*[(e.type == t, tp) for t, (_, tp) in EVENT_SOURCES.items()], else_=e.type)
    e = e.mutate(
        _text=text,
        _source=source,
        _touchpoint=ibis.coalesce(_first_string(sources, ("touchpoint",)), default_tp),
        _channel=ibis.cases((source == "social", ibis.coalesce(network, e.channel)), else_=e.channel),
        _reach=reach,
    )
    e = e.filter(e._text.notnull())
    rating = ibis.coalesce(*[c[k].float for c in sources for k in ("rating", "stars")])
    top = ibis.coalesce(*[c[k].float for c in sources for k in ("rating_max", "scale_max")])
    rated = (e._source == "review") & rating.notnull()
    return e.select(
        source=e._source,
        text_id=ibis.coalesce(e.event_id, e._row_key),
        customer_id=e.customer_id,
        at=e.occurred_at,
        touchpoint=e._touchpoint,
        channel=e._channel,
        product_id=e.product_id,
        category=e.category,
        reach=e._reach,
        text=e._text,
        score=ibis.cases((rated, rating), else_=ibis.null("float64")),
        scale_max=ibis.cases((rated, ibis.coalesce(top, DEFAULT_RATING_MAX)), else_=ibis.null("float64")),
        subject=ibis.null("string"),
        language=ibis.null("string"),
    )


def ingested_texts(texts: ibis.Table) -> ibis.Table:
    """Texts loaded by ``personae ingest texts`` (blank ones left out; ingest rejects them).

    ``text_id`` is the file's id, or the row key made from the text's content and occurrence
    when the file had none (stable: re-ingesting the file gives the same ids).
    """
    t = texts.mutate(_text=_nonblank(texts.text))
    t = t.filter(t._text.notnull())
    touchpoint = ibis.cases(*[(t.source == s, tp) for s, tp in TEXT_TOUCHPOINTS.items()], else_=t.source)
    return t.select(
        source=t.source.fill_null("other"),
        text_id=ibis.coalesce(t.text_id, t._row_key),
        customer_id=t.customer_id,
        at=t.created_at,
        touchpoint=touchpoint.fill_null("other"),
        # an email, chat or letter is its own channel; where a review or post was written the
        # file does not say
        channel=ibis.cases((t.source.isin(TEXT_CHANNELS), t.source), else_=ibis.null("string")),
        product_id=ibis.null("string"),
        category=ibis.null("string"),
        reach=ibis.null("int64"),
        text=t._text,
        score=t.score.cast("float64"),
        scale_max=t.scale_max.cast("float64"),
        subject=t.subject,
        # "EN", "en-US", "en_GB" are all English to the detector's codes
        language=_nonblank(t.language.lower().re_replace(r"[-_].*$", "")),
    )


def all_texts(
    surveys: ibis.Table, events: ibis.Table, as_of: date | None = None, texts: ibis.Table | None = None
) -> ibis.Table:
    """Every text up to the end of ``as_of`` (all of them when ``None``), in :data:`COLUMNS`;
    ``texts`` is the ingested texts table (left out when ``None``: a store without it)."""
    t = survey_texts(surveys).union(event_texts(events))
    if texts is not None:
        t = t.union(ingested_texts(texts))
    if as_of is not None:
        t = t.filter(t.at < ibis.timestamp(end_of(as_of).isoformat(sep=" ")))
    return t.select(*COLUMNS)
