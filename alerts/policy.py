"""The alert policy: the small object the pipeline builds from settings for this room.

Rules, the sender and the quiet check read their knobs here, never from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIGEST_PERIODS = ("off", "daily", "weekly")


@dataclass(frozen=True)
class AlertPolicy:
    default_channel: str = "#pledgewatch"
    # commitment id, parent id or family -> channel; "sources" routes source-health alerts
    routes: dict[str, str] = field(default_factory=dict)
    public_url: str = "http://localhost:8080/pledgewatch"
    quiet_default_days: int = 90
    quiet_min_source_health: float = 0.75
    source_failure_threshold: int = 3
    source_reminder_hours: float = 24.0
    digest: str = "off"
    max_attempts: int = 12
    retry_base_s: float = 30.0
    claim_stale_s: float = 300.0
    min_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.digest not in DIGEST_PERIODS:
            raise ValueError(f"digest must be one of {', '.join(DIGEST_PERIODS)}, not {self.digest!r}")

    def route(self, commitment_id: str | None) -> str:
        """The channel for a commitment: the most specific route (id, then parents, then family)."""
        if commitment_id:
            parts = commitment_id.split(".")
            for depth in range(len(parts), 0, -1):
                key = ".".join(parts[:depth])
                if key in self.routes:
                    return self.routes[key]
        return self.routes.get("*", self.default_channel)

    def source_channel(self) -> str:
        return self.routes.get("sources") or self.routes.get("*", self.default_channel)

    def channels(self) -> list[str]:
        """Every channel an alert can go to (digests go to each)."""
        return sorted({self.routes.get("*", self.default_channel), *self.routes.values()})

    def history_url(self, statement_id: int) -> str:
        return f"{self.public_url.rstrip('/')}/statements/{statement_id}"

    def commitment_url(self, commitment_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/commitments/{commitment_id}"
