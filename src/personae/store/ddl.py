"""Engine types for the canonical vocabulary, and the table definitions the migrations create.

Engine-specific SQL lives only in the storage layer; this module is where DuckDB's type names
are spelled.
"""

from __future__ import annotations

from personae.schema import BOOKKEEPING_COLUMNS, TableSpec

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "float": "DOUBLE",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "list": "VARCHAR[]",
    "json": "VARCHAR",  # JSON text; kept as a string so every engine can hold it
}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (names come from our own schema, never from users)."""
    return '"' + name.replace('"', '""') + '"'


def canonical_table_ddl(spec: TableSpec) -> str:
    """``CREATE TABLE`` for one canonical table, with its bookkeeping columns."""
    cols = [f"{quote(c.name)} {DUCKDB_TYPES[c.type]}" for c in spec.columns]
    cols += [f"{quote(n)} {DUCKDB_TYPES[t]}" for n, t in BOOKKEEPING_COLUMNS]
    cols.append('"_row_hash" VARCHAR')
    cols.append('"_identity" VARCHAR')
    return f"CREATE TABLE IF NOT EXISTS {quote(spec.name)} (\n  " + ",\n  ".join(cols) + "\n)"


SYSTEM_TABLES_V2 = (
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        ingest_id VARCHAR, kind VARCHAR, file VARCHAR, file_sha256 VARCHAR, format VARCHAR,
        "read" BIGINT, accepted BIGINT, updated BIGINT, rejected BIGINT, duplicates BIGINT,
        started_at TIMESTAMP, finished_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS rejects (
        ingest_id VARCHAR, kind VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR,
        raw VARCHAR, rejected_at TIMESTAMP)""",
)

SYSTEM_TABLES_V3 = (
    """CREATE TABLE IF NOT EXISTS identity_links (
        identifier_a VARCHAR, identifier_b VARCHAR, source VARCHAR, seen_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS identity_map (identifier VARCHAR, customer_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS identity_merges (
        merged_at TIMESTAMP, customer_id VARCHAR, merged_customer_id VARCHAR,
        identifiers VARCHAR, rule VARCHAR)""",
)

# Segments: versioned definitions (append-only; a removal is a version with removed = true),
# one run row per segment and build date, the dated member snapshots, and entries/exits.
SYSTEM_TABLES_V4 = (
    """CREATE TABLE IF NOT EXISTS segment_definitions (
        name VARCHAR, version INTEGER, rule VARCHAR, description VARCHAR, source VARCHAR,
        removed BOOLEAN, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS segment_runs (
        segment VARCHAR, as_of DATE, version INTEGER, rule VARCHAR, builtin BOOLEAN,
        members BIGINT, built_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS segment_snapshots (segment VARCHAR, as_of DATE, customer_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS segment_changes (
        segment VARCHAR, customer_id VARCHAR, change VARCHAR, as_of DATE, previous_as_of DATE,
        recorded_at TIMESTAMP)""",
)

# Clusters: one row per fitted model (its fitted state as JSON, so `personae build` can assign
# new customers), one row per cluster and model (profile, name), and the current assignments.
SYSTEM_TABLES_V5 = (
    """CREATE TABLE IF NOT EXISTS cluster_models (
        model_id VARCHAR, built_at TIMESTAMP, as_of DATE, k INTEGER, seed INTEGER,
        features VARCHAR, customers BIGINT, sample_size BIGINT, silhouette DOUBLE,
        davies_bouldin DOUBLE, stability_ari DOUBLE, selection VARCHAR, state VARCHAR,
        active BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS cluster_profiles (
        model_id VARCHAR, cluster INTEGER, name VARCHAR, generated_name VARCHAR, size BIGINT,
        share DOUBLE, revenue_share DOUBLE, avg_clv DOUBLE, nps DOUBLE, distinguishing VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS cluster_assignments (
        model_id VARCHAR, customer_id VARCHAR, cluster INTEGER, as_of DATE)""",
)

# Experience: every customer drawn into a survey sample (so the next sample can skip people
# invited recently), with the stratum (segment) and design weight they were drawn with.
SYSTEM_TABLES_V6 = (
    """CREATE TABLE IF NOT EXISTS survey_samples (
        sample_id VARCHAR, drawn_at TIMESTAMP, as_of DATE, channel VARCHAR, segment VARCHAR,
        customer_id VARCHAR, weight DOUBLE, seed BIGINT)""",
)

# Personalization: every activation (treated or held out, with the content sent), and the
# segment-change webhooks with their delivery state and dead letters (docs/personalization.md).
SYSTEM_TABLES_V8 = (
    """CREATE TABLE IF NOT EXISTS activations (
        run_id VARCHAR, playbook VARCHAR, customer_id VARCHAR, "group" VARCHAR, channel VARCHAR,
        as_of DATE, activated_at TIMESTAMP, content VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS webhook_messages (
        message_id VARCHAR, subscription VARCHAR, url VARCHAR, segment VARCHAR, customer_id VARCHAR,
        change VARCHAR, as_of DATE, payload VARCHAR, status VARCHAR, attempts INTEGER,
        last_error VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS webhook_dead_letters (
        message_id VARCHAR, subscription VARCHAR, url VARCHAR, payload VARCHAR, attempts INTEGER,
        last_error VARCHAR, dead_at TIMESTAMP)""",
)

# Real-time service: API keys (hashed), tracked messageIds (idempotency), the live memberships
# and their entries/exits, and the webhook outbox (written with the change, sent afterwards).
SYSTEM_TABLES_V9 = (
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_id VARCHAR, name VARCHAR, role VARCHAR, key_hash VARCHAR, created_at TIMESTAMP,
        revoked_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS tracked_messages (
        message_id VARCHAR, kind VARCHAR, received_at TIMESTAMP, key_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS live_memberships (
        segment VARCHAR, customer_id VARCHAR, entered_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS live_segment_changes (
        segment VARCHAR, customer_id VARCHAR, change VARCHAR, changed_at TIMESTAMP, cause VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS webhook_outbox (
        delivery_id VARCHAR, url VARCHAR, payload VARCHAR, created_at TIMESTAMP, status VARCHAR,
        attempts INTEGER, last_error VARCHAR, updated_at TIMESTAMP)""",
)

# Voice of the customer: the fitted theme models (vocabulary and theme vectors as JSON, so later
# builds assign new texts to the same themes) and the names people gave themes (renames).
SYSTEM_TABLES_V10 = (
    """CREATE TABLE IF NOT EXISTS voice_models (
        model_id VARCHAR, built_at TIMESTAMP, as_of DATE, n_themes INTEGER, texts BIGINT,
        state VARCHAR, active BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS voice_theme_names (
        model_id VARCHAR, theme INTEGER, name VARCHAR, renamed_at TIMESTAMP)""",
)

# Privacy: the append-only audit log, the erasure ledger with keyed hashes of erased
# identifiers (tombstones), and the database's own secret for pseudonyms and those hashes.
SYSTEM_TABLES_V11 = (
    """CREATE TABLE IF NOT EXISTS audit_log (
        logged_at TIMESTAMP, actor VARCHAR, channel VARCHAR, action VARCHAR, customer_id VARCHAR,
        detail VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS erasures (
        erased_at TIMESTAMP, token VARCHAR, reason VARCHAR, actor VARCHAR, rows_affected BIGINT,
        detail VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS erasure_identifiers (hash VARCHAR, erased_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS privacy_secret (secret VARCHAR)""",
)

#: the service's commit journal: the last journal group applied to this database (one row),
#: written in the same transaction as the group, so a replay applies each group once
SYSTEM_TABLES_V12 = ("""CREATE TABLE IF NOT EXISTS service_journal (name VARCHAR, applied_seq BIGINT)""",)
