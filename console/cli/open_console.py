"""Opening the console: what `backend-console` does without a command.

Free of Typer: the bare command, the one operators type most, is run from here
directly (console/launcher.py), since it has no arguments to parse; Typer and the
command groups would add ~25 ms to the console's start-up.
"""

from __future__ import annotations

from console.cli.errors import reporting_errors
from console.cli.state import CliState


def open_console(state: CliState) -> None:
    """Run the console with the root options until the operator quits."""
    from console.startup import collector_paused

    # Paused from the first heavy import on: the console's modules and screens live
    # as long as it does, so collecting meanwhile only rescans them.
    with collector_paused():
        # Textual is imported only when the console really opens.
        from console.app import run_console

        run_console(
            state.settings,
            host=state.host,
            port=state.port,
            no_server=state.no_server,
            read_only=state.read_only,
            api_url=state.api_url,
        )


def main_without_arguments() -> None:
    """`backend-console` alone: the console with every root option at its default."""
    reporting_errors(lambda: open_console(CliState()))
