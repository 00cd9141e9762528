"""CLI command modules; importing this package registers them all on ``pipeline.cli.app``."""

from pipeline.commands import alerts, core, demo, history, matching, sources  # noqa: F401
