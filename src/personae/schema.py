"""The canonical data model: every table personae stores, its columns and their rules.

This module is the contract between ingestion (which validates files against it), the
store (which creates tables from it) and the domain code (which reads the tables). It is
pure data: no I/O. ``docs/data-model.md`` documents the same tables for people.

Column types are a small vocabulary (``string``, ``timestamp``, ``date``, ``float``,
``int``, ``bool``, ``list``, ``json``) that the store maps to engine types and the
validator knows how to parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ColumnType = str  # one of COLUMN_TYPES

COLUMN_TYPES = ("string", "timestamp", "date", "float", "int", "bool", "list", "json")

#: Purchase channels an order line may carry.
ORDER_CHANNELS = ("web", "app", "store", "phone", "marketplace")
#: Channels a customer may contact support through.
SERVICE_CHANNELS = ("phone", "email", "chat", "letter", "social", "in_store")
#: Channels an event may carry (the union of the above and the messaging channels).
EVENT_CHANNELS = (*ORDER_CHANNELS, *SERVICE_CHANNELS, "sms", "push")
SURVEY_KINDS = ("nps", "ces", "csat", "trust", "custom")
CONSENT_PURPOSES = ("analytics", "personalization", "profiling", "email", "sms", "push")
GENDERS = ("female", "male", "non_binary", "other", "unknown")
#: Known event types. Unknown types are kept as they come, never rejected.
EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout_started",
    "email_sent",
    "email_open",
    "email_click",
    "sms_sent",
    "push_open",
    "support_contact",
    "store_visit",
    "review",
    "app_open",
    "referral",
    "delivery_failed",
    "social_post",  # properties: network, followers, text (docs/voice.md)
)
#: Identifier kinds that identity resolution links (in order of precedence). A ``handle`` is a
#: social-network user name, kept without its ``@`` and lower-cased (``identity.normalize``).
IDENTIFIER_KINDS = ("customer_id", "loyalty_id", "email", "phone", "device_id", "anonymous_id", "handle")
#: Where a text (``personae ingest texts``) came from.
TEXT_SOURCES = ("social", "review", "support", "email", "chat", "letter", "survey", "other")
#: Common names of text sources read as the canonical one (after lower-casing); any other value
#: not in :data:`TEXT_SOURCES` is rejected with the allowed values, never guessed.
TEXT_SOURCE_SYNONYMS = {
    **dict.fromkeys(
        ("twitter", "x", "facebook", "instagram", "tiktok", "reddit", "linkedin", "youtube", "threads"),
        "social",
    ),
    **dict.fromkeys(("reviews", "rating", "ratings", "trustpilot", "app_store", "google"), "review"),
    **dict.fromkeys(("ticket", "tickets", "call", "phone", "helpdesk", "service", "complaint"), "support"),
    **dict.fromkeys(("mail", "e-mail", "e_mail"), "email"),
    **dict.fromkeys(("livechat", "live_chat", "messenger", "whatsapp", "sms", "bot"), "chat"),
    **dict.fromkeys(("postal", "postal_mail"), "letter"),
    **dict.fromkeys(("nps", "csat", "ces"), "survey"),
}


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes:
        name: canonical name (the contract).
        type: one of ``COLUMN_TYPES``.
        required: a row without a value here is rejected.
        enum: allowed values (after lower-casing), or ``None`` for any.
        min_value: smallest allowed number (``None`` for no bound).
        doc: one line for ``docs/data-model.md``.
    """

    name: str
    type: ColumnType = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    min_value: float | None = None
    doc: str = ""
    #: largest allowed number (``None`` for no bound)
    max_value: float | None = None
    #: added after the first release: left out of the row's content hash while empty, so the
    #: rows stored before it existed keep their keys and a re-ingest finds them unchanged
    late: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One canonical table.

    Attributes:
        name: table name in the store (also the KIND of ``personae ingest KIND``).
        columns: canonical columns in order. Extra source columns go to ``properties``.
        key: columns forming the natural key used for idempotent ingestion; an empty
            tuple (or a file lacking the key columns) falls back to file content + line.
        identifiers: identifier columns that feed identity resolution.
        at_least_one_of: the row needs a value in at least one of these columns.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    at_least_one_of: tuple[str, ...] = ()
    doc: str = ""
    ledger: bool = False
    list_columns: tuple[str, ...] = field(default=())
    #: a required column that may instead be computed from others on each row (orders:
    #: ``amount`` = ``quantity`` × ``unit_price``): present in a file when all of those are
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column


def _coordinates(whose: str) -> tuple[Column, Column]:
    """``latitude``/``longitude`` (WGS84 degrees), added after the first release (``late``)."""
    doc = f"{whose} %s (WGS84 degrees); without it, the centroid of its postcode (postcodes table)."
    return (
        C("latitude", "float", min_value=-90, max_value=90, late=True, doc=doc % "latitude"),
        C("longitude", "float", min_value=-180, max_value=180, late=True, doc=doc % "longitude"),
    )


CUSTOMERS = TableSpec(
    "customers",
    (
        C("customer_id", required=True, doc="Your id for the customer."),
        C("created_at", "timestamp", doc="When the customer record was created (joined)."),
        C("first_name"),
        C("last_name"),
        C("email", doc="Normalised: trimmed, lower-case."),
        C("phone", doc="Normalised to E.164 where possible."),
        C("loyalty_id", doc="Loyalty card or programme number."),
        C("birth_date", "date"),
        C("age", "float", min_value=0, max_value=120, late=True, doc="Age in years (as of the export)."),
        C(
            "birth_year",
            "float",
            min_value=1800,
            late=True,
            doc="Approximate birth year: given, or the ingest year minus age when there is no "
            "birth_date. The age trait falls back on it.",
        ),
        C("gender", enum=GENDERS),
        C("occupation"),
        C("income_band"),
        C("country"),
        C("region"),
        C("city"),
        C("postcode"),
        *_coordinates("The customer's home"),
        C("home_store_id"),
        C("join_channel", enum=(*ORDER_CHANNELS, "social", "referral", "other")),
        C("interests", "list", doc="Semicolon-separated in CSV, a list in Parquet/JSONL."),
        C("preferences", "json", doc="Zero-party preferences, key/value."),
    ),
    key=("customer_id",),
    identifiers=("customer_id", "email", "phone", "loyalty_id"),
    doc="One row per customer record. A later row for the same id updates the profile.",
)

ORDERS = TableSpec(
    "orders",
    (
        C("order_id", doc="Optional: files without order ids are accepted."),
        C("customer_id", required=True),
        C("ordered_at", "timestamp", required=True),
        C("channel", enum=ORDER_CHANNELS),
        C("store_id"),
        C("product_id"),
        C("category"),
        C("quantity", "float", doc="Units; negative on a return line."),
        C(
            "amount",
            "float",
            required=True,
            doc="Line value after discount; negative on a return line. Without an amount "
            "column it is quantity × unit_price.",
        ),
        C("discount", "float", min_value=0),
        C(
            "returned",
            "bool",
            doc="The line was returned: a purchase later refunded (amount ≥ 0, counts 0 in "
            "spend), or a return line (negative quantity or amount, set by ingest).",
        ),
        C("unit_price", "float", min_value=0, late=True, doc="Price of one unit."),
        C(
            "rating",
            "float",
            min_value=0,
            late=True,
            doc="Stars the customer gave the line (0 to rating_max).",
        ),
        C(
            "rating_max",
            "float",
            min_value=1,
            late=True,
            doc="Top of the rating scale; 5 when a row has a rating and no scale.",
        ),
    ),
    key=("order_id", "product_id"),
    identifiers=("customer_id",),
    doc="One row per order line; a return is a line with a negative quantity or amount.",
    derived={"amount": ("quantity", "unit_price")},
)

EVENTS = TableSpec(
    "events",
    (
        C("event_id"),
        C("customer_id"),
        C("email"),
        C("phone"),
        C("anonymous_id"),
        C("device_id"),
        C("loyalty_id"),
        C("occurred_at", "timestamp", required=True),
        C("type", required=True, doc="Known types listed below; unknown types are kept."),
        C("channel", enum=EVENT_CHANNELS),
        C("product_id"),
        C("category"),
        C("properties", "json"),
    ),
    key=("event_id",),
    identifiers=("customer_id", "loyalty_id", "email", "phone", "device_id", "anonymous_id"),
    at_least_one_of=("customer_id", "email", "phone", "anonymous_id", "device_id", "loyalty_id"),
    doc="Behavioural events: browsing, cart, messaging, support contacts, visits, reviews.",
)

PRODUCTS = TableSpec(
    "products",
    (
        C("product_id", required=True),
        C("name"),
        C(
            "category",
            doc="The main category. With --list-sep, a cell naming several (a film's genres) "
            "keeps the first here and adds every one to tags.",
        ),
        C("brand"),
        C("price", "float", min_value=0),
        C("tags", "list", doc="e.g. team:Lakers; semicolon-separated in CSV (or --list-sep)."),
    ),
    key=("product_id",),
    doc="The catalogue.",
)

STORES = TableSpec(
    "stores",
    (
        C("store_id", required=True),
        C("name"),
        C("region"),
        C("city"),
        C("floor_area_sqm", "float", min_value=0),
        C("postcode", late=True, doc="With country: located through the postcodes table."),
        C("country", late=True),
        *_coordinates("The store's"),
    ),
    key=("store_id",),
    doc="Physical stores; with coordinates (or a postcode in the postcodes table) they are "
    "places: distance_km() in rules and the nearest_store traits.",
)

POSTCODES = TableSpec(
    "postcodes",
    (
        C("country", required=True, doc="As the customers' and stores' country column writes it."),
        C("postcode", required=True, doc="Matched without case and spaces (SW1A 1AA = sw1a1aa)."),
        C("latitude", "float", required=True, min_value=-90, max_value=90, doc="Centroid, WGS84 degrees."),
        C("longitude", "float", required=True, min_value=-180, max_value=180, doc="Centroid, WGS84 degrees."),
    ),
    key=("country", "postcode"),
    doc="Postcode centroids you load (no download happens): locates customers and stores that "
    "have a postcode but no coordinates. Holds no customer data.",
)

SURVEYS = TableSpec(
    "surveys",
    (
        C("response_id"),
        C("customer_id", required=True),
        C("answered_at", "timestamp", required=True),
        C("kind", required=True, enum=SURVEY_KINDS),
        C("score", "float", required=True, min_value=0),
        C(
            "scale_max",
            "float",
            min_value=1,
            doc="Top of the answer scale; defaults by kind: nps/trust 10, csat 5, ces 7.",
        ),
        C("comment"),
        C("touchpoint", doc="Where the question was asked: e.g. checkout, delivery, support."),
    ),
    key=("response_id",),
    identifiers=("customer_id",),
    doc="Survey answers: NPS, CES, CSAT, trust and custom questions.",
)

CONSENTS = TableSpec(
    "consents",
    (
        C("customer_id", required=True),
        C("purpose", required=True, enum=CONSENT_PURPOSES),
        C("granted", "bool", required=True),
        C("recorded_at", "timestamp", required=True),
        C("source"),
    ),
    key=("customer_id", "purpose", "recorded_at"),
    identifiers=("customer_id",),
    ledger=True,
    doc="Append-only consent ledger; the latest decision per customer and purpose wins.",
)

TEXTS = TableSpec(
    "texts",
    (
        C(
            "text_id",
            doc="Optional: without it a text is keyed by its content and occurrence in the file, "
            "so re-ingesting the same file adds nothing.",
        ),
        C("text", required=True, doc="What the customer wrote or said, as they wrote it."),
        C("created_at", "timestamp", required=True, doc="When it was written or said."),
        C(
            "source",
            enum=TEXT_SOURCES,
            doc="Where it came from; empty is other; common names (twitter, ticket, nps…) are "
            "read as theirs, any other value is rejected.",
        ),
        C("customer_id"),
        C("email"),
        C("phone"),
        C("handle", doc="Social user name, ``@`` and case ignored: links posts to the person."),
        C("score", "float", min_value=0, doc="Stars, NPS or CSAT given with the text (0 to scale_max)."),
        C("scale_max", "float", min_value=1, doc="Top of the score's scale; needed with a score."),
        C("subject", doc="What the text is about: a product, store or brand id or name."),
        C("language", doc="ISO 639-1 code (en, fr…); given, the text skips language detection."),
    ),
    key=("text_id",),
    identifiers=("customer_id", "email", "phone", "handle"),
    doc="Free text a customer wrote or said: social posts, reviews, support transcripts, emails, "
    "chats, letters, survey comments. Texts without any identifier are kept (anonymous).",
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (CUSTOMERS, ORDERS, EVENTS, PRODUCTS, STORES, SURVEYS, CONSENTS, TEXTS, POSTCODES)
}

#: The sentiment classes of ``personae voice labels`` and of every sentiment label.
SENTIMENTS = ("negative", "neutral", "positive")
#: ``voice_labels``: an analyst's labelled sample (``personae voice labels FILE``), one row per
#: text id (a re-load replaces by id). It holds ids and labels, not text nor customer ids.
VOICE_LABELS_COLUMNS = (
    ("text_id", "string"),
    ("sentiment", "string"),
    ("theme", "string"),
    ("labelled_at", "timestamp"),
    ("source_file", "string"),
    ("source_line", "int"),
)
#: ``voice_sentiment_runs``: per ``voice build``, what teaching the sentiment model found.
VOICE_SENTIMENT_RUNS_COLUMNS = (
    ("built_at", "timestamp"),
    ("labels", "int"),
    ("analyst_labels", "int"),
    ("score_labels", "int"),
    ("used", "bool"),
    ("cv_accuracy", "float"),
    ("cv_macro_f1", "float"),
    ("zero_shot_accuracy", "float"),
    ("zero_shot_macro_f1", "float"),
    ("note", "string"),
)

#: Top of the stars scale of an order line's rating when the row does not say.
DEFAULT_RATING_MAX = 5.0

#: Default top of the answer scale per survey kind.
DEFAULT_SCALE_MAX = {"nps": 10.0, "trust": 10.0, "csat": 5.0, "ces": 7.0, "custom": 10.0}

#: Columns every stored canonical table carries besides its canonical columns.
BOOKKEEPING_COLUMNS = (
    ("_row_key", "string"),  # natural key or file-hash:line; makes ingestion idempotent
    ("_source_file", "string"),
    ("_source_line", "int"),
    ("_ingested_at", "timestamp"),
    ("properties_extra", "json"),  # source columns that are not canonical, kept as JSON
)


def line_is_return(amount: float | None, quantity: float | None) -> bool:
    """One order line is a return (negative quantity or amount); see ``tables.is_return_line``.

    >>> line_is_return(-12.6, -6), line_is_return(5.0, None), line_is_return(0.0, -1)
    (True, False, True)
    """
    return (amount is not None and amount < 0) or (quantity is not None and quantity < 0)


def line_net(amount: float | None, quantity: float | None, returned: bool | None) -> float:
    """One order line's value net of returns; see ``tables.net_amount``.

    >>> line_net(20.0, 1, True), line_net(-8.0, -1, True), line_net(20.0, 1, None)
    (0.0, -8.0, 20.0)
    """
    if returned is True and not line_is_return(amount, quantity):
        return 0.0
    return float(amount or 0.0)
