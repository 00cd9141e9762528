"""Storage: the ORM tables, engine/session set-up, migrations and read-only history queries.

This room imports nothing else of ours, so every other room can depend on it.
"""

from models.db import create_db_engine, make_session_factory, session_scope, upgrade_database
from models.tables import (
    Alert,
    Base,
    Commitment,
    CommitmentStatus,
    Delta,
    FetchState,
    Reference,
    Run,
    Source,
    SourcePoll,
    Statement,
    Version,
)
from models.timeutil import utcnow

__all__ = [
    "Alert",
    "Base",
    "Commitment",
    "CommitmentStatus",
    "Delta",
    "FetchState",
    "Reference",
    "Run",
    "Source",
    "SourcePoll",
    "Statement",
    "Version",
    "create_db_engine",
    "make_session_factory",
    "session_scope",
    "upgrade_database",
    "utcnow",
]
