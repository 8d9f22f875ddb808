"""The traits step written by hand in DuckDB SQL: the yardstick of ``bench_traits.py``.

What a competent engineer would write against the canonical tables without personae: the
long ``affinities`` table (six kinds, with each value's distinct orders and distinct months)
and one row of traits per customer (value, channels, occasions, behaviour, journey,
experience, consent, the top affinities, RFM scores and segment, lifecycle stage), in four
statements. It reads the same tables and follows the same definitions (docs/traits.md), so
``bench_traits.py --check`` can compare its values with the traits step's, column by
column; a yardstick that computed less would flatter personae's ratio.

Only what the benchmark needs: the shop's clock is UTC (the bench's data), and the settings
are read from a ``TraitSettings`` (so the numbers are the product's defaults). Not part of it:
the model-based columns the traits step does not compute either (CLV, detractor risk, voice,
clusters).

Distinct orders and months are counted by grouping three times (value × order, value × month,
value) rather than with ``COUNT(DISTINCT …)``: at 1M lines that took 4.1 CPU seconds against
4.7 (the best of the two is the yardstick).
"""

from __future__ import annotations

from datetime import date, timedelta

from personae.config.traits import BUILT_IN_CONSENT_DEFAULTS, TraitSettings
from personae.schema import CONSENT_PURPOSES, IDENTIFIER_KINDS, ORDER_CHANNELS

PROFILE = (
    "first_name, last_name, email, phone, created_at, birth_date, gender, occupation, income_band, "
    "country, region, city, postcode, home_store_id, join_channel, interests, preferences"
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _opt_out(s: TraitSettings, purpose: str) -> bool:
    """Whether no recorded decision counts as consent (the '*' policy, else the built-in one)."""
    return s.consent_defaults.get("*", {}).get(purpose, BUILT_IN_CONSENT_DEFAULTS[purpose]) == "opt-out"


#: What a postcode is matched without (personae.traits.places): spaces and hyphens.
_PC = r"[\s\-]+"


def _ts(d: date) -> str:
    return f"TIMESTAMP '{d.isoformat()} 00:00:00'"


def _md(s: str) -> int:
    m, d = (int(p) for p in s.split("-"))
    return m * 100 + d


def _days_until(col: str, as_of: date) -> str:
    """Days from as_of to the next recurrence of date ``col`` (29 Feb → 28 Feb off leap years)."""

    def on(y: int) -> str:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        day = (
            f"day({col})"
            if leap
            else f"CASE WHEN month({col}) = 2 AND day({col}) = 29 THEN 28 ELSE day({col}) END"
        )
        return f"make_date({y}, month({col}), {day})"

    a = f"DATE '{as_of.isoformat()}'"
    this, nxt = on(as_of.year), on(as_of.year + 1)
    return (
        f"CASE WHEN {col} IS NULL THEN NULL WHEN {this} >= {a} THEN date_diff('day', {a}, {this}) "
        f"ELSE date_diff('day', {a}, {nxt}) END"
    )


def yardstick_sql(as_of: date, s: TraitSettings | None = None) -> list[str]:
    """The statements, in order: staged lines and orders (temporary tables, as personae stages
    them), then the tables ``y_affinities`` and ``y_traits`` (stored, as personae's are)."""
    s = s or TraitSettings()
    kinds = ("category", "brand", "tag", "price_band", "channel", "daypart")
    end = _ts(as_of + timedelta(days=1))
    a = f"DATE '{as_of.isoformat()}'"

    def since(days: int) -> str:
        return _ts(as_of - timedelta(days=days - 1))

    mb = as_of.year * 12 + as_of.month - 1 - (s.affinity_recent_months - 1)
    recent_from = f"TIMESTAMP '{mb // 12:04d}-{mb % 12 + 1:02d}-01 00:00:00'"
    strong = s.affinity_strong_months
    md = "(month(ordered_at) * 100 + day(ordered_at))"
    holiday = " OR ".join(
        f"({md} BETWEEN {_md(h.start)} AND {_md(h.end)})"
        if _md(h.start) <= _md(h.end)
        else f"({md} >= {_md(h.start)} OR {md} <= {_md(h.end)})"
        for h in s.holidays
    )
    prospects = " AND ".join(
        f"NOT starts_with(customer_id, '{p}')"
        for p in (*(f"{k}:" for k in IDENTIFIER_KINDS if k != "customer_id"), "erased:")
    )
    resolved = "coalesce(m.customer_id, t.customer_id, t._identity)"
    ch_aggs = ",\n".join(
        f"count(*) FILTER (channel = '{c}' AND NOT is_return) AS orders_{c}, "
        f"sum(net_amount) FILTER (channel = '{c}') AS spend_{c}"
        for c in ORDER_CHANNELS
    )
    ch_fill = ", ".join(
        f"coalesce(orders_{c}, 0) AS orders_{c}, coalesce(spend_{c}, 0.0) AS spend_{c}"
        for c in ORDER_CHANNELS
    )
    used = ", ".join(f"CASE WHEN coalesce(orders_{c}, 0) > 0 THEN '{c}' END" for c in ORDER_CHANNELS)
    n_ch = " + ".join(f"(coalesce(orders_{c}, 0) > 0)::INT" for c in ORDER_CHANNELS)
    # preferred channel: most orders, then most spend, then the ORDER_CHANNELS order
    pref = "NULL"
    for c in reversed(ORDER_CHANNELS):
        others = [o for o in ORDER_CHANNELS if o != c]
        k = ORDER_CHANNELS.index(c)
        beats = " AND ".join(
            f"(coalesce(orders_{c}, 0) > coalesce(orders_{o}, 0) "
            f"OR (coalesce(orders_{c}, 0) = coalesce(orders_{o}, 0) AND (coalesce(spend_{c}, 0.0) "
            f"{'>=' if ORDER_CHANNELS.index(o) > k else '>'} coalesce(spend_{o}, 0.0))))"
            for o in others
        )
        pref = f"CASE WHEN coalesce(orders_{c},0) > 0 AND {beats} THEN '{c}' ELSE {pref} END"
    consent_flags = ", ".join(
        f"coalesce(consent_{p}, {str(_opt_out(s, p)).lower()}) AS consent_{p}" for p in CONSENT_PURPOSES
    )
    consent_aggs = ", ".join(
        f"arg_max(granted, recorded_at) FILTER (purpose = '{p}') AS consent_{p}" for p in CONSENT_PURPOSES
    )
    scales = {"nps": (0.0, 10.0), "trust": (0.0, 10.0), "ces": (1.0, 7.0), "csat": (1.0, 5.0)}
    std = "score"
    for scale, (lo, hi) in scales.items():
        std = (
            f"CASE WHEN kind = '{scale}' AND scale_max != {hi} "
            f"THEN {lo} + (score - {lo}) * {hi - lo} / (scale_max - {lo}) ELSE {std} END"
        )
    survey_aggs = ", ".join(f"arg_max(std, answered_at) FILTER (kind = '{k}') AS latest_{k}" for k in scales)
    rules = " ".join(
        f"WHEN r_score BETWEEN {r.r[0]} AND {r.r[1]} AND fm_score BETWEEN {r.fm[0]} AND {r.fm[1]} "
        f"THEN {_quote(r.name)}"
        for r in s.rfm_rules
    )
    lc = s.lifecycle
    top = ",\n".join(
        f"arg_min(value, (-strength, -spend, value)) FILTER (kind = '{k}') AS top_{k}, "
        f"max(strength) FILTER (kind = '{k}') AS top_{k}_strength"
        for k in kinds
    )
    ev = s.engagement_window_days

    def n_ev(kind: str, days: int = ev) -> str:
        return f"count(*) FILTER (type = '{kind}' AND occurred_at >= {since(days)})"

    lines = f"""CREATE OR REPLACE TEMP TABLE y_lines AS
SELECT {resolved} AS customer_id,
       coalesce(t.order_id, 'day:' || CAST(CAST(t.ordered_at AS DATE) AS VARCHAR)) AS order_key,
       t.ordered_at, t.channel, coalesce(t.category, p.category) AS category, p.brand, p.tags,
       t.amount < 0 OR coalesce(t.quantity, 0) < 0 AS is_return,
       CASE WHEN coalesce(t.returned, false) AND NOT (t.amount < 0 OR coalesce(t.quantity, 0) < 0)
            THEN 0.0 ELSE CAST(t.amount AS DOUBLE) END AS net_amount,
       t.amount AS gross_amount, coalesce(t.returned, false) AS returned,
       coalesce(t.discount, 0.0) AS discount,
       CAST(t.amount AS DOUBLE) / greatest(coalesce(t.quantity, 1), 1) AS unit_price
FROM orders t LEFT JOIN identity_map m ON t._identity = m.identifier
LEFT JOIN products p ON t.product_id = p.product_id
WHERE t.ordered_at < {end}"""

    orders = """CREATE OR REPLACE TEMP TABLE y_orders AS
SELECT customer_id, order_key, is_return, min(ordered_at) AS ordered_at, min(channel) AS channel,
       CASE WHEN is_return THEN 0 ELSE count(*) END AS lines,
       CASE WHEN is_return THEN count(*) ELSE count(*) FILTER (returned) END AS returned_lines,
       CASE WHEN is_return THEN 0.0 ELSE sum(gross_amount) END AS gross_amount,
       sum(net_amount) AS net_amount, CASE WHEN is_return THEN 0.0 ELSE sum(discount) END AS discount
FROM y_lines GROUP BY customer_id, order_key, is_return"""

    # one statement per kind: all six in one statement ran out of memory at 10M lines under the
    # 3 GB cap that personae builds with (every kind's hash tables at once)
    base = "customer_id, order_key, ordered_at, net_amount"
    band = (
        "CASE WHEN unit_price < lo THEN 'budget' "
        "WHEN unit_price > hi OR (unit_price >= hi AND hi > lo) THEN 'premium' ELSE 'mid' END"
    )
    per_line = {
        "category": f"SELECT {base}, category AS value FROM bought WHERE category IS NOT NULL",
        "brand": f"SELECT {base}, brand AS value FROM bought WHERE brand IS NOT NULL",
        "tag": f"SELECT {base}, unnest(tags) AS value FROM bought WHERE tags IS NOT NULL",
        "price_band": f"""SELECT {base}, {band} AS value FROM bought JOIN (
  SELECT category, approx_quantile(unit_price, {1 / 3}) AS lo, approx_quantile(unit_price, {2 / 3}) AS hi
  FROM bought WHERE category IS NOT NULL AND unit_price IS NOT NULL
  GROUP BY category HAVING max(unit_price) > min(unit_price)) USING (category)
  WHERE unit_price IS NOT NULL""",
    }
    order_value = {
        "channel": ("channel", "channel IS NOT NULL"),
        "daypart": (
            "CASE WHEN hour(ordered_at) BETWEEN 5 AND 11 THEN 'morning' "
            "WHEN hour(ordered_at) BETWEEN 12 AND 16 THEN 'afternoon' "
            "WHEN hour(ordered_at) BETWEEN 17 AND 21 THEN 'evening' ELSE 'night' END",
            "ordered_at != date_trunc('day', ordered_at)",
        ),
    }

    def per_order(kind: str) -> str:
        if kind in per_line:
            return f"""WITH bought AS (SELECT * FROM y_lines WHERE NOT is_return),
per_line AS ({per_line[kind]}),
per_order AS (
  SELECT customer_id, value, order_key, date_trunc('month', min(ordered_at)) AS month,
         sum(net_amount) AS spend, max(ordered_at) AS last_at
  FROM per_line WHERE value IS NOT NULL GROUP BY ALL),"""
        value, where = order_value[kind]
        return f"""WITH per_order AS (
  SELECT customer_id, {value} AS value, order_key, date_trunc('month', ordered_at) AS month,
         net_amount AS spend, ordered_at AS last_at
  FROM y_orders WHERE NOT is_return AND {where}),"""

    def affinity(kind: str) -> str:
        return f"""{per_order(kind)}
per_month AS (
  SELECT customer_id, value, month, count(*) AS orders, sum(spend) AS spend, max(last_at) AS last_at
  FROM per_order GROUP BY ALL),
per AS (
  SELECT customer_id, value, CAST(sum(orders) AS BIGINT) AS orders, sum(spend) AS spend,
         count(*) FILTER (month >= {recent_from}) AS months_recent,
         count(*) AS months_total, max(last_at) AS last_at
  FROM per_month GROUP BY ALL),
totals AS (SELECT customer_id, count(*) AS total_orders FROM y_orders WHERE NOT is_return GROUP BY ALL)
SELECT customer_id, '{kind}' AS kind, value, orders, spend, months_recent, months_total, last_at,
       orders / total_orders AS share,
       round(greatest(least(months_recent, {strong}) / {float(strong)}, least(months_total, 6) / 12.0)
             * (0.5 + 0.5 * orders / total_orders), 4) AS strength,
       CASE WHEN months_recent >= {strong} THEN 'strong' WHEN months_total >= 2 THEN 'medium'
           ELSE 'weak' END AS signal
FROM per JOIN totals USING (customer_id)"""

    affinities = [
        f"CREATE OR REPLACE TABLE y_affinities AS {affinity(kinds[0])}",
        *(f"INSERT INTO y_affinities {affinity(k)}" for k in kinds[1:]),
    ]

    traits = f"""CREATE OR REPLACE TABLE y_traits AS
WITH per_orders AS (
  SELECT customer_id, count(*) FILTER (NOT is_return) AS frequency, sum(lines) AS order_lines,
         sum(gross_amount) AS gross_revenue, sum(net_amount) AS monetary,
             sum(returned_lines) AS returned_lines,
         sum(discount) AS discount_total,
         min(ordered_at) FILTER (NOT is_return) AS first_order_at, max(ordered_at)
             FILTER (NOT is_return) AS last_order_at,
         {ch_aggs},
         sum(net_amount) FILTER ({holiday}) AS holiday_spend
  FROM y_orders GROUP BY ALL),
ev AS (
  SELECT {resolved} AS customer_id, t.occurred_at, t.type, t.channel, t.category
  FROM events t LEFT JOIN identity_map m ON t._identity = m.identifier WHERE t.occurred_at < {end}),
per_events AS (
  SELECT e.customer_id,
         max(occurred_at) FILTER (type = 'add_to_cart'
             AND occurred_at >= {since(s.cart_abandonment_days)}) AS last_add_to_cart_at,
         {n_ev("support_contact", s.support_window_days)} AS support_contacts_90d,
         {n_ev("email_sent")} AS emails_sent_90d, {n_ev("email_open")} AS email_opens_90d,
         {n_ev("email_click")} AS email_clicks_90d, {n_ev("product_view")} AS product_views_90d,
         {n_ev("app_open")} AS app_opens_90d, {n_ev("store_visit")} AS store_visits_90d,
         count(*) FILTER (occurred_at >= {since(ev)}) AS events_90d, max(occurred_at) AS last_event_at,
         count(*) FILTER (type = 'review') AS reviews, count(*) FILTER (type = 'referral') AS referrals,
         count(*) FILTER (type = 'delivery_failed') AS failed_deliveries,
         count(*) FILTER (o.first_order_at IS NULL
             OR occurred_at < o.first_order_at) AS interactions_before_first_purchase,
         count(*) FILTER (type IN ('product_view', 'search', 'add_to_cart', 'checkout_started')
                          AND occurred_at >= {since(s.consideration_window_days)}) AS consideration_signals
  FROM ev e LEFT JOIN per_orders o USING (customer_id) GROUP BY e.customer_id),
service AS (
  SELECT customer_id, arg_min(channel, (-n, -epoch_us(last), channel)) AS preferred_service_channel
  FROM (SELECT customer_id, channel, count(*) AS n, max(occurred_at) AS last FROM ev
        WHERE type = 'support_contact' AND channel IS NOT NULL GROUP BY ALL) GROUP BY ALL),
browse AS (
  SELECT customer_id, arg_min(category, (-n, -epoch_us(last), category)) AS browse_abandoned_category
  FROM (SELECT customer_id, category, count(*) AS n, max(occurred_at) AS last FROM ev
        WHERE type = 'product_view' AND category IS NOT NULL
            AND occurred_at >= {since(s.browse_abandonment_days)}
        GROUP BY ALL) v
  WHERE NOT EXISTS (SELECT 1 FROM y_lines l WHERE NOT l.is_return AND l.customer_id = v.customer_id
                    AND l.category = v.category AND l.ordered_at >= {since(s.browse_abandonment_days)})
  GROUP BY ALL),
sv AS (
  SELECT customer_id, answered_at, kind, {std} AS std
  FROM (SELECT {resolved} AS customer_id, t.answered_at, t.kind, t.score, t.scale_max
        FROM surveys t LEFT JOIN identity_map m ON t._identity = m.identifier WHERE t.answered_at < {end})),
per_surveys AS (SELECT customer_id, {survey_aggs}, count(*) AS survey_answers,
    max(answered_at) AS last_survey_at FROM sv GROUP BY ALL),
consents AS (
  SELECT {resolved} AS customer_id, {consent_aggs}
  FROM consents t LEFT JOIN identity_map m ON t._identity = m.identifier
      WHERE t.recorded_at < {end} GROUP BY ALL),
profile AS (
  SELECT {resolved} AS customer_id, {", ".join("t." + c.strip() for c in PROFILE.split(","))}, t.birth_year
  FROM customers t LEFT JOIN identity_map m ON t._identity = m.identifier
  WHERE t.created_at IS NULL OR t.created_at < {end}
  QUALIFY row_number() OVER (PARTITION BY {resolved} ORDER BY ({resolved} != t.customer_id)::INT,
      t._ingested_at DESC) = 1),
tops AS (SELECT customer_id, {top} FROM y_affinities GROUP BY ALL),
geo AS (
  SELECT {resolved} AS customer_id, t.latitude, t.longitude, t.country,
    upper(trim(t.country)) AS _c, upper(regexp_replace(t.postcode, '{_PC}', '', 'g')) AS _p
  FROM customers t LEFT JOIN identity_map m ON t._identity = m.identifier
  WHERE t.created_at IS NULL OR t.created_at < {end}
  QUALIFY row_number() OVER (PARTITION BY {resolved} ORDER BY ({resolved} != t.customer_id)::INT,
      t._ingested_at DESC) = 1),
pc AS (
  SELECT upper(trim(country)) AS _c, upper(regexp_replace(postcode, '{_PC}', '', 'g')) AS _p,
    avg(latitude) AS lat, avg(longitude) AS lon
  FROM postcodes WHERE country IS NOT NULL AND postcode IS NOT NULL AND latitude IS NOT NULL
    AND longitude IS NOT NULL GROUP BY ALL HAVING _p != ''),
pc1 AS (SELECT _p, avg(lat) AS lat, avg(lon) AS lon FROM pc GROUP BY _p HAVING count(*) = 1),
loc AS (
  SELECT g.customer_id,
    CASE WHEN g.latitude IS NOT NULL AND g.longitude IS NOT NULL THEN g.latitude
         ELSE coalesce(a.lat, CASE WHEN g._c IS NULL THEN b.lat END) END AS location_latitude,
    CASE WHEN g.latitude IS NOT NULL AND g.longitude IS NOT NULL THEN g.longitude
         ELSE coalesce(a.lon, CASE WHEN g._c IS NULL THEN b.lon END) END AS location_longitude,
    CASE WHEN g.latitude IS NOT NULL AND g.longitude IS NOT NULL THEN 'coordinates'
         WHEN coalesce(a.lat, CASE WHEN g._c IS NULL THEN b.lat END) IS NOT NULL THEN 'postcode'
         END AS location_source
  FROM geo g LEFT JOIN pc a ON g._c = a._c AND g._p = a._p LEFT JOIN pc1 b ON g._p = b._p),
sp AS (
  SELECT * FROM (
    SELECT s.store_id,
      CASE WHEN s.latitude IS NOT NULL AND s.longitude IS NOT NULL THEN s.latitude
           ELSE coalesce(a.lat, CASE WHEN s._c IS NULL THEN b.lat END) END AS lat,
      CASE WHEN s.latitude IS NOT NULL AND s.longitude IS NOT NULL THEN s.longitude
           ELSE coalesce(a.lon, CASE WHEN s._c IS NULL THEN b.lon END) END AS lon
    FROM (SELECT *, upper(trim(country)) AS _c,
            upper(regexp_replace(postcode, '{_PC}', '', 'g')) AS _p FROM stores) s
    LEFT JOIN pc a ON s._c = a._c AND s._p = a._p LEFT JOIN pc1 b ON s._p = b._p)
  WHERE store_id IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL),
near AS (
  SELECT customer_id, store_id AS nearest_store_id, km AS nearest_store_km FROM (
    SELECT l.customer_id, sp.store_id, 2 * 6371.0088 * asin(sqrt(least(1.0,
      pow(sin(radians(sp.lat - l.location_latitude) / 2), 2) + cos(radians(l.location_latitude))
        * cos(radians(sp.lat)) * pow(sin(radians(sp.lon - l.location_longitude) / 2), 2)))) AS km
    FROM loc l CROSS JOIN sp WHERE l.location_latitude IS NOT NULL)
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY km, store_id) = 1),
places AS (SELECT * FROM loc LEFT JOIN near USING (customer_id)),
people AS (
  SELECT customer_id FROM profile UNION SELECT customer_id FROM per_orders
  UNION SELECT customer_id FROM per_events UNION SELECT customer_id FROM per_surveys),
w AS (
  SELECT * FROM people
  LEFT JOIN profile USING (customer_id) LEFT JOIN per_orders USING (customer_id)
  LEFT JOIN per_events USING (customer_id) LEFT JOIN per_surveys USING (customer_id)
  LEFT JOIN consents USING (customer_id) LEFT JOIN service USING (customer_id)
  LEFT JOIN browse USING (customer_id) LEFT JOIN tops USING (customer_id)
  LEFT JOIN places USING (customer_id)
  WHERE customer_id IS NOT NULL AND {prospects}),
d AS (
  SELECT * EXCLUDE (frequency, monetary, gross_revenue,
      {", ".join(f"orders_{c}, spend_{c}" for c in ORDER_CHANNELS)},
                    support_contacts_90d, emails_sent_90d, email_opens_90d, email_clicks_90d,
                        product_views_90d,
                    app_opens_90d, store_visits_90d, events_90d, reviews, referrals, failed_deliveries,
                    interactions_before_first_purchase, survey_answers,
                        {", ".join(f"consent_{p}" for p in CONSENT_PURPOSES)}),
    coalesce(frequency, 0) AS frequency, coalesce(monetary, 0.0) AS monetary, coalesce(gross_revenue,
        0.0) AS gross_revenue,
    date_diff('day', CAST(last_order_at AS DATE), {a}) AS recency_days,
    CASE WHEN coalesce(frequency, 0) > 0 THEN monetary / frequency END AS aov,
    date_diff('day', CAST(first_order_at AS DATE), {a}) AS days_since_first_order,
    date_diff('day', CAST(coalesce(created_at, first_order_at) AS DATE), {a}) AS tenure_days,
    CASE WHEN frequency > 1 THEN date_diff('day', CAST(first_order_at AS DATE),
        CAST(last_order_at AS DATE)) / (frequency - 1) END
      AS avg_days_between_orders,
    CASE WHEN order_lines > 0 THEN least(returned_lines / order_lines, 1.0) END AS returns_ratio,
    CASE WHEN gross_revenue + discount_total > 0
        THEN discount_total / (gross_revenue + discount_total) END AS discount_share,
    {ch_fill},
    list_filter([{used}], x -> x IS NOT NULL) AS channels, {n_ch} AS n_channels,
        ({n_ch}) = 1 AS single_channel,
    {pref} AS preferred_channel,
    CASE WHEN birth_date IS NULL OR birth_date > {a} THEN
           CASE WHEN birth_year IS NULL OR birth_year > {as_of.year} THEN NULL
               ELSE CAST({as_of.year} - birth_year AS BIGINT) END
         ELSE {as_of.year} - year(birth_date) - CASE
             WHEN month(birth_date) * 100 + day(birth_date) <= {as_of.month * 100 + as_of.day} THEN 0
             ELSE 1 END
    END AS age,
    {_days_until("birth_date", as_of)} AS days_until_birthday,
    {_days_until("CAST(coalesce(created_at, first_order_at) AS DATE)", as_of)} AS days_until_join_anniversary,
    CASE WHEN monetary > 0 THEN coalesce(holiday_spend, 0.0) / monetary END AS holiday_spend_share,
    coalesce(support_contacts_90d, 0) AS support_contacts_90d, coalesce(emails_sent_90d,
        0) AS emails_sent_90d,
    coalesce(email_opens_90d, 0) AS email_opens_90d, coalesce(email_clicks_90d, 0) AS email_clicks_90d,
    coalesce(product_views_90d, 0) AS product_views_90d, coalesce(app_opens_90d, 0) AS app_opens_90d,
    coalesce(store_visits_90d, 0) AS store_visits_90d, coalesce(events_90d, 0) AS events_90d,
    coalesce(reviews, 0) AS reviews, coalesce(referrals, 0) AS referrals, coalesce(failed_deliveries,
        0) AS failed_deliveries,
    last_add_to_cart_at IS NOT NULL AND (last_order_at IS NULL
        OR last_order_at < last_add_to_cart_at) AS cart_abandoned,
    CASE WHEN emails_sent_90d > 0 THEN email_opens_90d / emails_sent_90d END AS email_open_rate_90d,
    browse_abandoned_category IS NOT NULL AS browse_abandoned,
    CASE WHEN latest_nps >= 9 THEN 'promoter' WHEN latest_nps >= 7 THEN 'passive'
        WHEN latest_nps IS NOT NULL THEN 'detractor' END
      AS nps_category,
    coalesce(survey_answers, 0) AS survey_answers,
    CASE WHEN coalesce(frequency, 0) > 0 AND (latest_nps >= 9 OR coalesce(reviews, 0) > 0
        OR coalesce(referrals, 0) > 0) THEN 'advocacy'
         WHEN coalesce(frequency, 0) >= 2 THEN 'retention' WHEN coalesce(frequency, 0) = 1 THEN 'purchase'
         WHEN coalesce(consideration_signals, 0) > 0 THEN 'consideration'
             ELSE 'awareness' END AS journey_stage,
    coalesce(interactions_before_first_purchase, 0) AS interactions_before_first_purchase,
    {consent_flags}, {a} AS as_of
  FROM w),
r AS (
  SELECT *,
    CASE WHEN frequency > 0 THEN CAST(least(greatest(5 - floor(5 * percent_rank()
      OVER (PARTITION BY frequency > 0 ORDER BY recency_days)), 1), 5) AS BIGINT) END AS r_score,
    CASE WHEN frequency > 0 THEN CAST(least(greatest(1 + floor(5 * percent_rank()
      OVER (PARTITION BY frequency > 0 ORDER BY frequency)), 1), 5) AS BIGINT) END AS f_score,
    CASE WHEN frequency > 0 THEN CAST(least(greatest(1 + floor(5 * percent_rank()
      OVER (PARTITION BY frequency > 0 ORDER BY monetary)), 1), 5) AS BIGINT) END AS m_score,
    greatest(coalesce(avg_days_between_orders, greatest(coalesce(median(avg_days_between_orders) OVER (),
        {lc.default_gap_days}), 1.0)), 1.0) AS _gap
  FROM d),
f AS (SELECT *, CAST(round((f_score + m_score) / 2) AS BIGINT) AS fm_score FROM r)
SELECT * EXCLUDE (_gap, birth_year, order_lines, returned_lines, discount_total, holiday_spend,
    last_add_to_cart_at, consideration_signals),
  CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_score,
  CASE {rules} END AS rfm_segment,
  CASE WHEN frequency = 0 THEN 'prospect' WHEN days_since_first_order <= {lc.new_days} THEN 'new'
       WHEN recency_days / _gap > {lc.lapsed_rhythm} OR recency_days > {lc.lapsed_max_days}
            OR (frequency = 1 AND recency_days > {lc.one_time_lapsed_days}) THEN 'lapsed'
       WHEN recency_days / _gap <= {lc.active_rhythm} THEN 'active' ELSE 'at_risk' END AS lifecycle_stage
FROM f"""
    return [lines, orders, *affinities, traits]
