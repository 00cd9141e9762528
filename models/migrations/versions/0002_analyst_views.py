"""analyst views: v_statements, v_references, v_commitment_timeline, v_commitment_status,
v_statement_changes, v_source_health

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00

The views are the public SQL interface for analysts (documented in the README). One SQL text
serves both databases, so a query written against SQLite runs unchanged on PostgreSQL:

- no dialect functions: time buckets are cut from the ISO text of a timestamp
  (``CAST(ts AS VARCHAR)`` gives ``YYYY-MM-DD HH:MM:SS`` on SQLite, where timestamps are stored as
  that text, and on PostgreSQL under its default ``DateStyle`` ISO);
- booleans are only tested (``CASE WHEN r.is_new``), never compared with literals;
- JSON columns are passed through untouched (no JSON functions differ more between the two).

Each reference also carries when it happened and who published it (``references.referenced_at``
and ``references.publisher``), stamped by the database: a trigger fills them at insert and keeps
them in step when a statement's date or publisher changes. Writers leave them out. Without them a
commitment's timeline joins every one of its references to a million-row ``versions`` table
(~200 ms for a busy commitment, see ``bench/history_queries.py``); with them it reads one index
range. Triggers are the one part that cannot be portable SQL; both variants are tested.

The columns and indexes live with the tables (``models/tables.py`` and 0001), because the models
and the migrations are compared column by column and index by index.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _iso(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR(32))"


def month_of(expr: str) -> str:
    """'2025-03' for a timestamp in March 2025."""
    return f"SUBSTR({_iso(expr)}, 1, 7)"


def quarter_of(expr: str) -> str:
    """'2025-Q1' for a timestamp in January to March 2025 (integer division on both databases)."""
    month = f"CAST(SUBSTR({_iso(expr)}, 6, 2) AS INTEGER)"
    return f"SUBSTR({_iso(expr)}, 1, 4) || '-Q' || CAST(({month} + 2) / 3 AS VARCHAR(1))"


def year_of(expr: str) -> str:
    return f"SUBSTR({_iso(expr)}, 1, 4)"


# When a reference appeared: a first version refers from the statement's publication date
# (falling back to when we first fetched it, for undated items); a later version refers from
# when we fetched that edit. ``created_at`` (when the matcher ran) is not history: a backfill
# or a re-match would pile years of references onto one day.
REFERENCED_AT = "CASE WHEN v.seq = 1 THEN COALESCE(s.published_at, v.fetched_at) ELSE v.fetched_at END"

# --- stamping references (the triggers) ----------------------------------------------------

BACKFILL = f"""
UPDATE "references" SET
    referenced_at = (
        SELECT {REFERENCED_AT} FROM versions v JOIN statements s ON s.id = v.statement_id
        WHERE v.id = "references".version_id
    ),
    publisher = (SELECT s.publisher FROM statements s WHERE s.id = "references".statement_id)
WHERE referenced_at IS NULL OR publisher IS NULL
"""

SQLITE_TRIGGERS = (
    f"""
CREATE TRIGGER trg_references_facts AFTER INSERT ON "references"
FOR EACH ROW WHEN NEW.referenced_at IS NULL OR NEW.publisher IS NULL
BEGIN
    UPDATE "references" SET
        referenced_at = COALESCE(NEW.referenced_at, (
            SELECT {REFERENCED_AT} FROM versions v JOIN statements s ON s.id = v.statement_id
            WHERE v.id = NEW.version_id
        )),
        publisher = COALESCE(NEW.publisher, (SELECT s.publisher FROM statements s WHERE s.id = NEW.statement_id))
    WHERE id = NEW.id;
END
""",
    """
CREATE TRIGGER trg_statements_reference_facts AFTER UPDATE OF published_at, publisher ON statements
FOR EACH ROW WHEN OLD.published_at IS NOT NEW.published_at OR OLD.publisher IS NOT NEW.publisher
BEGIN
    UPDATE "references" SET
        publisher = NEW.publisher,
        referenced_at = (
            SELECT CASE WHEN v.seq = 1 THEN COALESCE(NEW.published_at, v.fetched_at) ELSE v.fetched_at END
            FROM versions v WHERE v.id = "references".version_id
        )
    WHERE statement_id = NEW.id;
END
""",
)

POSTGRESQL_TRIGGERS = (
    f"""
CREATE FUNCTION pw_reference_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.referenced_at IS NULL OR NEW.publisher IS NULL THEN
        SELECT COALESCE(NEW.referenced_at, {REFERENCED_AT}), COALESCE(NEW.publisher, s.publisher)
        INTO NEW.referenced_at, NEW.publisher
        FROM versions v JOIN statements s ON s.id = v.statement_id
        WHERE v.id = NEW.version_id;
    END IF;
    RETURN NEW;
END
$$
""",
    """
CREATE TRIGGER trg_references_facts BEFORE INSERT ON "references"
FOR EACH ROW EXECUTE FUNCTION pw_reference_facts()
""",
    """
CREATE FUNCTION pw_statement_reference_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "references" r SET
        publisher = NEW.publisher,
        referenced_at = CASE WHEN v.seq = 1 THEN COALESCE(NEW.published_at, v.fetched_at) ELSE v.fetched_at END
    FROM versions v
    WHERE r.statement_id = NEW.id AND v.id = r.version_id;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER trg_statements_reference_facts AFTER UPDATE OF published_at, publisher ON statements
FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at OR OLD.publisher IS DISTINCT FROM NEW.publisher)
EXECUTE FUNCTION pw_statement_reference_facts()
""",
)

DROP_TRIGGERS = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS trg_statements_reference_facts",
        "DROP TRIGGER IF EXISTS trg_references_facts",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS trg_statements_reference_facts ON statements",
        "DROP FUNCTION IF EXISTS pw_statement_reference_facts()",
        'DROP TRIGGER IF EXISTS trg_references_facts ON "references"',
        "DROP FUNCTION IF EXISTS pw_reference_facts()",
    ),
}

# --- the views ------------------------------------------------------------------------------

V_REFERENCES = """
SELECT
    r.id AS reference_id,
    r.commitment_id,
    c.title AS commitment_title,
    c.family AS commitment_family,
    c.parent_id AS commitment_parent_id,
    r.statement_id,
    r.version_id,
    v.seq AS version_seq,
    s.url,
    s.url_hash,
    r.publisher,
    src.key AS source_key,
    COALESCE(v.title, s.title) AS title,
    s.published_at,
    v.fetched_at,
    r.created_at,
    r.referenced_at,
    COALESCE(r.lang, v.lang, s.lang) AS lang,
    r.score,
    r.cue,
    r.evidence,
    r.evidence_start,
    r.start_offset,
    r.end_offset,
    r.method,
    r.implied,
    r.is_new,
    s.cluster_id
FROM "references" r
JOIN versions v ON v.id = r.version_id
JOIN statements s ON s.id = r.statement_id
JOIN commitments c ON c.id = r.commitment_id
LEFT JOIN sources src ON src.id = s.source_id
"""

V_STATEMENTS = """
SELECT
    s.id AS statement_id,
    s.url,
    s.url_hash,
    s.publisher,
    src.key AS source_key,
    s.title,
    s.published_at,
    s.lang,
    s.cluster_id,
    s.first_seen_at,
    s.last_seen_at,
    (SELECT COUNT(*) FROM versions v WHERE v.statement_id = s.id) AS version_count,
    (SELECT MAX(v.fetched_at) FROM versions v WHERE v.statement_id = s.id) AS last_changed_at,
    (SELECT COUNT(*) FROM "references" r WHERE r.statement_id = s.id) AS reference_count,
    (SELECT COUNT(DISTINCT r.commitment_id) FROM "references" r WHERE r.statement_id = s.id)
        AS commitment_count
FROM statements s
LEFT JOIN sources src ON src.id = s.source_id
"""


# One row per commitment, grain ('month' | 'quarter' | 'year'), period and publisher, from the
# references table alone. Filtering on commitment_id and grain is pushed into each arm by both
# planners, so one commitment's timeline is one range of ix_references_commitment_referenced.
def _timeline_arm(grain: str, bucket: str) -> str:
    return f"""
SELECT
    r.commitment_id,
    '{grain}' AS grain,
    {bucket} AS period,
    r.publisher,
    COUNT(*) AS reference_count,
    SUM(CASE WHEN r.is_new THEN 1 ELSE 0 END) AS new_reference_count,
    SUM(CASE WHEN r.implied THEN 0 ELSE 1 END) AS direct_reference_count,
    COUNT(DISTINCT r.statement_id) AS statement_count,
    MIN(r.referenced_at) AS first_referenced_at,
    MAX(r.referenced_at) AS last_referenced_at
FROM "references" r
GROUP BY r.commitment_id, {bucket}, r.publisher
"""


V_COMMITMENT_TIMELINE = "\nUNION ALL\n".join(
    _timeline_arm(grain, bucket("r.referenced_at"))
    for grain, bucket in (("month", month_of), ("quarter", quarter_of), ("year", year_of))
)

# The catalog joined with the quiet step's measurement (commitment_status, may be absent:
# 'unchecked') and with what the references say, so a disagreement between the two is visible.
V_COMMITMENT_STATUS = """
SELECT
    c.id AS commitment_id,
    c.parent_id,
    c.family,
    c.level,
    c.title,
    c.active,
    COALESCE(cs.status, 'unchecked') AS status,
    cs.since AS status_since,
    COALESCE(cs.threshold_days, c.quiet_days) AS threshold_days,
    cs.gap_days,
    cs.usual_gap_days,
    cs.source_health,
    cs.muted_until,
    cs.mute_reason,
    cs.checked_at,
    cs.last_reference_at AS status_last_reference_at,
    (SELECT COUNT(*) FROM "references" r WHERE r.commitment_id = c.id) AS reference_count,
    (SELECT SUM(CASE WHEN r.is_new THEN 1 ELSE 0 END) FROM "references" r
        WHERE r.commitment_id = c.id) AS new_reference_count,
    (SELECT MIN(r.referenced_at) FROM "references" r
        WHERE r.commitment_id = c.id AND r.is_new) AS first_referenced_at,
    (SELECT MAX(r.referenced_at) FROM "references" r
        WHERE r.commitment_id = c.id AND r.is_new) AS last_referenced_at
FROM commitments c
LEFT JOIN commitment_status cs ON cs.commitment_id = c.id
"""

V_STATEMENT_CHANGES = """
SELECT
    v.id AS version_id,
    v.statement_id,
    s.url,
    s.url_hash,
    s.publisher,
    src.key AS source_key,
    COALESCE(v.title, s.title) AS title,
    v.seq,
    v.fetched_at,
    v.content_hash,
    LENGTH(v.text) AS text_chars,
    CASE WHEN d.id IS NULL THEN 'first' ELSE 'changed' END AS change_kind,
    d.previous_version_id,
    pv.seq AS previous_seq,
    pv.fetched_at AS previous_fetched_at,
    d.added_chars,
    d.removed_chars,
    d.added,
    d.removed
FROM versions v
JOIN statements s ON s.id = v.statement_id
LEFT JOIN deltas d ON d.version_id = v.id
LEFT JOIN versions pv ON pv.id = d.previous_version_id
LEFT JOIN sources src ON src.id = s.source_id
"""

# One row per source and calendar month of polls (period NULL for a source never polled), with
# the source's current state repeated on each row: "which sources broke last month" is a filter.
V_SOURCE_HEALTH = f"""
SELECT
    src.id AS source_id,
    src.key AS source_key,
    src.publisher,
    src.kind,
    src.url,
    src.enabled,
    src.consecutive_failures,
    src.failing_since,
    src.last_success_at,
    src.last_failure_at,
    src.last_error,
    p.period,
    p.polls,
    p.ok_polls,
    p.failed_polls,
    CAST(p.ok_polls AS FLOAT) / p.polls AS ok_ratio,
    p.first_poll_at,
    p.last_poll_at,
    p.last_failed_poll_at
FROM sources src
LEFT JOIN (
    SELECT
        sp.source_id,
        {month_of("sp.started_at")} AS period,
        COUNT(*) AS polls,
        SUM(CASE WHEN sp.ok THEN 1 ELSE 0 END) AS ok_polls,
        SUM(CASE WHEN sp.ok THEN 0 ELSE 1 END) AS failed_polls,
        MIN(sp.started_at) AS first_poll_at,
        MAX(sp.started_at) AS last_poll_at,
        MAX(CASE WHEN sp.ok THEN NULL ELSE sp.started_at END) AS last_failed_poll_at
    FROM source_polls sp
    GROUP BY sp.source_id, {month_of("sp.started_at")}
) p ON p.source_id = src.id
"""

# Creation order (a view may only name views created before it); dropped in reverse.
VIEWS: dict[str, str] = {
    "v_statements": V_STATEMENTS,
    "v_references": V_REFERENCES,
    "v_commitment_timeline": V_COMMITMENT_TIMELINE,
    "v_commitment_status": V_COMMITMENT_STATUS,
    "v_statement_changes": V_STATEMENT_CHANGES,
    "v_source_health": V_SOURCE_HEALTH,
}


def _dialect() -> str:
    name = op.get_bind().dialect.name
    if name not in DROP_TRIGGERS:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database dialect: {name}")
    return name


def upgrade() -> None:
    triggers = SQLITE_TRIGGERS if _dialect() == "sqlite" else POSTGRESQL_TRIGGERS
    for ddl in triggers:
        op.execute(ddl)
    op.execute(BACKFILL)  # references stored before the triggers existed
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for ddl in DROP_TRIGGERS[_dialect()]:
        op.execute(ddl)
