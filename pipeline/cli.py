"""The ``pledgewatch`` command line.

Commands live in ``pipeline/commands/<topic>.py`` and register themselves on the Typer apps
below: adding a command is one decorated function in one of those modules.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

app = typer.Typer(
    name="pledgewatch",
    help="Watch UN and NGO statements for references to tracked human-rights commitments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
sources_app = typer.Typer(help="The sources we poll.", no_args_is_help=True)
alerts_app = typer.Typer(help="The alert outbox.", no_args_is_help=True)
commitments_app = typer.Typer(help="Tracked commitments.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.add_typer(alerts_app, name="alerts")
app.add_typer(commitments_app, name="commitments")

console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    import pipeline.commands  # noqa: F401  (registers every command)
    from matching.catalog import CatalogError
    from pipeline.settings import SettingsError
    from scrapers.registry import RegistryError

    try:
        app()
    except (SettingsError, RegistryError, CatalogError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
