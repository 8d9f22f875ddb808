"""Every trait personae computes: name, type and meaning.

The registry is the single list the docs (docs/traits.md), ``personae traits show`` and the
segment language ("did you mean …?") draw from. Names here must match the columns of the
``traits`` table; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from personae.schema import CONSENT_PURPOSES, ORDER_CHANNELS


@dataclass(frozen=True)
class Trait:
    name: str
    type: str  # number, integer, string, boolean, date, timestamp, list
    group: str
    doc: str


_T = Trait

TRAITS: tuple[Trait, ...] = (
    # value
    _T("recency_days", "integer", "value", "Days from the last order to the as-of date."),
    _T(
        "frequency",
        "integer",
        "value",
        "Number of orders (order ids; purchase days where files have no ids).",
    ),
    _T("monetary", "number", "value", "Spend net of returns."),
    _T("gross_revenue", "number", "value", "Spend before returns."),
    _T("aov", "number", "value", "Average order value: monetary / frequency."),
    _T("first_order_at", "timestamp", "value", "First order."),
    _T("last_order_at", "timestamp", "value", "Latest order."),
    _T("days_since_first_order", "integer", "value", "Days from the first order to the as-of date."),
    _T(
        "tenure_days",
        "integer",
        "value",
        "Days since the customer record was created (first order if unknown).",
    ),
    _T(
        "avg_days_between_orders",
        "number",
        "value",
        "The customer's own rhythm: (last − first order) / (orders − 1), in days.",
    ),
    _T("returns_ratio", "number", "behaviour", "Share of order lines returned."),
    _T("discount_share", "number", "behaviour", "Discount as a share of list value."),
    # channels
    *(_T(f"orders_{c}", "integer", "channels", f"Orders placed through {c}.") for c in ORDER_CHANNELS),
    *(_T(f"spend_{c}", "number", "channels", f"Net spend through {c}.") for c in ORDER_CHANNELS),
    _T("channels", "list", "channels", "Purchase channels used."),
    _T("n_channels", "integer", "channels", "Number of purchase channels used."),
    _T("single_channel", "boolean", "channels", "Bought through exactly one channel."),
    _T("preferred_channel", "string", "channels", "Channel with most orders (ties: most spend)."),
    _T("preferred_service_channel", "string", "channels", "Support channel used most."),
    # journey
    _T(
        "interactions_before_first_purchase",
        "integer",
        "journey",
        "Events before the first order (all events for prospects).",
    ),
    _T("journey_stage", "string", "journey", "awareness, consideration, purchase, retention or advocacy."),
    # affinities
    _T("top_category", "string", "affinities", "Strongest category affinity."),
    _T("top_category_strength", "number", "affinities", "Its strength (0–1)."),
    _T("top_brand", "string", "affinities", "Strongest brand affinity."),
    _T("top_brand_strength", "number", "affinities", "Its strength (0–1)."),
    _T("top_tag", "string", "affinities", "Strongest tag affinity (e.g. team:Lakers)."),
    _T("top_tag_strength", "number", "affinities", "Its strength (0–1)."),
    _T(
        "top_price_band",
        "string",
        "affinities",
        "Habitual price band in its categories: budget, mid, premium.",
    ),
    _T("top_price_band_strength", "number", "affinities", "Its strength (0–1)."),
    _T("top_channel", "string", "affinities", "Habitual purchase channel, ranked by affinity strength."),
    _T("top_channel_strength", "number", "affinities", "Its strength (0–1)."),
    _T("top_daypart", "string", "affinities", "Habitual time of day of orders: morning … night."),
    _T("top_daypart_strength", "number", "affinities", "Its strength (0–1)."),
    # occasions
    _T("age", "integer", "occasions", "Completed years at the as-of date."),
    _T("days_until_birthday", "integer", "occasions", "0 on the birthday."),
    _T("days_until_join_anniversary", "integer", "occasions", "0 on the anniversary of joining."),
    _T("holiday_spend_share", "number", "occasions", "Share of net spend in the holiday periods."),
    # behaviour
    _T(
        "cart_abandoned",
        "boolean",
        "behaviour",
        "Added to cart in the last 7 days and has not ordered since.",
    ),
    _T(
        "browse_abandoned", "boolean", "behaviour", "Viewed a category in the last 14 days without buying it."
    ),
    _T("browse_abandoned_category", "string", "behaviour", "That category (most viewed)."),
    _T("support_contacts_90d", "integer", "behaviour", "Support contacts in the last 90 days."),
    _T("emails_sent_90d", "integer", "behaviour", "Emails sent in the last 90 days."),
    _T("email_opens_90d", "integer", "behaviour", "Email opens in the last 90 days."),
    _T("email_clicks_90d", "integer", "behaviour", "Email clicks in the last 90 days."),
    _T("email_open_rate_90d", "number", "behaviour", "Opens / sent over the last 90 days."),
    _T("product_views_90d", "integer", "behaviour", "Product views in the last 90 days."),
    _T("app_opens_90d", "integer", "behaviour", "App opens in the last 90 days."),
    _T("store_visits_90d", "integer", "behaviour", "Store visits in the last 90 days."),
    _T("events_90d", "integer", "behaviour", "All events in the last 90 days."),
    _T("last_event_at", "timestamp", "behaviour", "Latest event."),
    _T("reviews", "integer", "behaviour", "Reviews written."),
    _T("referrals", "integer", "behaviour", "Referrals made."),
    _T("failed_deliveries", "integer", "behaviour", "Failed deliveries experienced."),
    # experience
    _T("latest_nps", "number", "experience", "Latest NPS answer (0–10)."),
    _T("latest_ces", "number", "experience", "Latest CES answer (1–7)."),
    _T("latest_csat", "number", "experience", "Latest CSAT answer (1–5)."),
    _T("latest_trust", "number", "experience", "Latest trust answer (0–10)."),
    _T("nps_category", "string", "experience", "promoter (9–10), passive (7–8), detractor (0–6)."),
    _T("survey_answers", "integer", "experience", "Survey answers given."),
    _T("last_survey_at", "timestamp", "experience", "Latest survey answer."),
    _T(
        "detractor_risk",
        "number",
        "experience",
        "Predicted probability (0–1) of being a detractor, from behaviour (docs/experience.md).",
    ),
    _T(
        "predicted_nps_category",
        "string",
        "experience",
        "Most likely NPS category from behaviour: promoter, passive or detractor.",
    ),
    # voice of the customer (docs/voice.md)
    _T("voice_texts", "integer", "voice", "Texts written: comments, reviews, support contacts, posts."),
    _T("latest_sentiment", "number", "voice", "Sentiment (−1…1) of the latest text (default language)."),
    _T("avg_sentiment", "number", "voice", "Mean sentiment (−1…1) of all the customer's texts."),
    _T("sentiment_90d", "number", "voice", "Mean sentiment (−1…1) of texts in the last 90 days."),
    _T("negative_texts_90d", "integer", "voice", "Negative texts in the last 90 days."),
    _T("top_complaint_theme", "string", "voice", "Theme of most negative texts in the last year."),
    _T("mentions_competitor", "boolean", "voice", "Some text names a competitor (voice.competitors)."),
    _T("social_reach", "integer", "voice", "Largest audience (followers) given with a social post."),
    # consent
    *(
        _T(f"consent_{p}", "boolean", "consent", f"Latest decision for {p} (no record = no).")
        for p in CONSENT_PURPOSES
    ),
    # loyalty, RFM and lifecycle
    _T("r_score", "integer", "rfm", "Recency quintile score, 5 = most recent."),
    _T("f_score", "integer", "rfm", "Frequency quintile score."),
    _T("m_score", "integer", "rfm", "Monetary quintile score."),
    _T("fm_score", "integer", "rfm", "round((F + M) / 2)."),
    _T("rfm_score", "string", "rfm", "R, F and M digits, e.g. 545."),
    _T("rfm_segment", "string", "rfm", "Named RFM segment (Champions … Lost)."),
    _T("lifecycle_stage", "string", "lifecycle", "prospect, new, active, at_risk or lapsed."),
    # lifetime value
    _T("clv_frequency", "number", "clv", "BTYD repeat transactions (days with purchases − 1)."),
    _T("clv_recency", "number", "clv", "BTYD recency in days (first to last purchase day)."),
    _T("clv_T", "number", "clv", "BTYD age in days (first purchase to as-of)."),
    _T("p_alive", "number", "clv", "Probability the customer is still active (BG/NBD)."),
    _T("expected_transactions_12m", "number", "clv", "Expected transactions over the CLV horizon."),
    _T("expected_spend", "number", "clv", "Expected value per transaction (Gamma-Gamma)."),
    _T("clv_12m", "number", "clv", "Discounted expected spend over the horizon."),
    _T(
        "clv_12m_low",
        "number",
        "clv",
        "Lower end of the interval for the expected CLV: uncertainty of the fitted parameters "
        "only (how sure the model is of the average), not of what this customer will spend.",
    ),
    _T(
        "clv_12m_high",
        "number",
        "clv",
        "Upper end of the interval for the expected CLV (parameter uncertainty only).",
    ),
    _T(
        "clv_12m_predictive_low",
        "number",
        "clv",
        "Lower end of what this customer may actually spend over the horizon (their own "
        "purchase process: still active, how often, how much; often 0).",
    ),
    _T(
        "clv_12m_predictive_high",
        "number",
        "clv",
        "Upper end of what this customer may actually spend over the horizon.",
    ),
    _T("value_tier", "string", "clv", "top1, top10, top25 or rest by CLV."),
    # place (docs/traits.md, "Place"): coordinates, else the postcode's centroid
    _T(
        "location_latitude",
        "number",
        "place",
        "Where the customer is: their own latitude, else their postcode's centroid (postcodes table).",
    ),
    _T("location_longitude", "number", "place", "The longitude of the same place."),
    _T("location_source", "string", "place", "coordinates or postcode; unknown when neither locates them."),
    _T("nearest_store_id", "string", "place", "The located store closest to them (ties: smallest id)."),
    _T("nearest_store_km", "number", "place", "Great-circle distance to it, in km."),
    # clusters (personae clusters build; assigned at every build)
    _T("cluster", "integer", "clusters", "Cluster number in the active cluster model (0 = largest)."),
    _T("cluster_name", "string", "clusters", "Name of that cluster (generated or renamed)."),
)

PROFILE_ATTRIBUTES: tuple[Trait, ...] = (
    _T("first_name", "string", "profile", ""),
    _T("last_name", "string", "profile", ""),
    _T("email", "string", "profile", ""),
    _T("phone", "string", "profile", ""),
    _T("created_at", "timestamp", "profile", "When the customer joined."),
    _T("birth_date", "date", "profile", ""),
    _T("gender", "string", "profile", ""),
    _T("occupation", "string", "profile", ""),
    _T("income_band", "string", "profile", ""),
    _T("country", "string", "profile", ""),
    _T("region", "string", "profile", ""),
    _T("city", "string", "profile", ""),
    _T("postcode", "string", "profile", ""),
    _T("home_store_id", "string", "profile", ""),
    _T("join_channel", "string", "profile", ""),
    _T("interests", "list", "profile", "Psychographic interests."),
    _T("preferences", "string", "profile", "Zero-party preferences (JSON)."),
)

ALL: dict[str, Trait] = {t.name: t for t in (*TRAITS, *PROFILE_ATTRIBUTES)}
