"""The console: a Textual app that runs the backend's API in its own event loop.

The first screen paints before anything heavy loads; a worker then checks the schema
(migrating the embedded SQLite default) and starts the embedded server, which shares
the console's database engine. `q` stops the server and closes the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import text
from textual import work
from textual.actions import ActionParseResult
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import (
    NoActiveWorker,
    Worker,
    WorkerError,
    WorkerFailed,
    get_current_worker,
)

from backend.config import ConfigError, Settings
from backend.database import is_unreachable
from console.commands import ConsoleCommands
from console.context import ConsoleContext
from console.notify import describe_error, notify_error
from console.screens.help import HelpDialog, collect_key_help
from console.screens.registry import AREAS
from console.startup import (
    SchemaState,
    ServerAddress,
    StartupError,
    collector_paused,
    prepare_schema,
    resume_collector,
    start_server,
)
from console.warm_up import WARM_UP_DELAY_SECONDS, start_warm_up
from console.widgets.database_banner import DatabaseBanner
from console.widgets.status_bar import BackendStatus, StatusBar

if TYPE_CHECKING:
    from backend.server import EmbeddedServer


# A screen restarted after a crash is not restarted again within this time.
RESTART_GRACE_SECONDS = 10
# Waits between attempts to reach a database that stopped answering.
RECONNECT_DELAYS_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


class BackendConsoleApp(App[None]):
    """The operator's console: Users, Tokens and (later) the other areas."""

    CSS_PATH = "app.tcss"
    TITLE = "backend-console"
    COMMANDS: ClassVar = {ConsoleCommands}  # Textual's own commands come through it, last
    MODES: ClassVar = {area.mode: area.build for area in AREAS}
    # The Dashboard, the usual first screen, is built with the app: switching to it from
    # on_mount would restyle the whole app twice more (~0.1 s of start-up).
    DEFAULT_MODE: ClassVar[str] = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(area.key, f"switch_mode('{area.mode}')", area.title, id=f"app.{area.mode}")
            for area in AREAS
        ),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    backend_status: reactive[BackendStatus | None] = reactive(None)
    # Why the database does not answer, while it does not (the screens show a banner).
    database_down: reactive[str | None] = reactive(None)

    class ServerStarted(Message):
        def __init__(self, url: str) -> None:
            super().__init__()
            self.url = url

    class SchemaChecked(Message):
        def __init__(self, state: SchemaState) -> None:
            super().__init__()
            self.state = state

    class DatabaseAnswers(Message):
        """The database answers again after it was down."""

    class StartupFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self,
        context: ConsoleContext,
        *,
        server: ServerAddress | None = None,
        first_area: str = "dashboard",
    ) -> None:
        super().__init__()
        self.first_area = first_area
        self.context = context
        self.server_address = server
        # Set when the console cannot run; run_console prints it after the app closes.
        self.fatal_error: str | None = None
        # Bugs reported as notices instead of closing the app (tests assert it stays empty).
        self.unexpected_errors: list[BaseException] = []
        self._server: EmbeddedServer | None = None
        self._closed = False
        self._restarted: set[str] = set()
        self.warm_up: threading.Thread | None = None

    # --- start-up --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.backend_status = BackendStatus(
            database=self.context.database.masked_url,
            api="API starting…" if self.server_address else "server off",
            read_only=self.context.read_only,
        )
        self.screen_change_signal.subscribe(self, self._give_status_bar)
        if self.first_area != self.current_mode:
            self.switch_mode(self.first_area)
        # Paint first: the backend's imports would otherwise compete with the first frame.
        self.call_after_refresh(self.start_backend)

    @work(exclusive=True, group="startup", exit_on_error=False)
    async def start_backend(self) -> None:
        """Check (or migrate) the schema, then start the server.

        One after the other, not side by side: both are mostly imports, which share
        one interpreter lock, so the first page (which waits for the schema) comes
        sooner this way and the server no later.
        """
        try:
            checked = await prepare_schema(self.context)
            self.context.schema_at_head = checked.at_head
            self.context.schema_checked.set()
            self.post_message(self.SchemaChecked(checked))
            if self.server_address is not None:
                self._server = await start_server(self.context, self.server_address)
                self.post_message(self.ServerStarted(self._server.url))
        except StartupError as error:
            self.post_message(self.StartupFailed(str(error)))

    def on_backend_console_app_server_started(self, event: ServerStarted) -> None:
        self._freeze_startup_objects()
        self.context.api_url = event.url
        self.context.api_started.set()
        self._update_status(api=f"API {event.url.removeprefix('http://')}", api_ok=True)

    def on_backend_console_app_schema_checked(self, event: SchemaChecked) -> None:
        if self.server_address is None:
            self._freeze_startup_objects()
        state = event.state
        self.show_schema(state.revision, state.head)
        if state.at_head:
            if state.migrated_now:
                self.notify("Migrated the embedded database to the latest schema.")
            return
        self.notify(
            "The database schema is not at head; run `backend-console db upgrade`.",
            severity="warning",
            timeout=10,
        )

    async def on_backend_console_app_startup_failed(self, event: StartupFailed) -> None:
        self.fatal_error = event.reason
        await self.close_backend()
        self.exit(return_code=1)

    def _freeze_startup_objects(self) -> None:
        # Start-up's objects (modules, the app, the API) live as long as the console:
        # frozen, the collector never rescans them (that took 100-200 ms pauses). It was
        # paused for the start-up (run_console) and runs again from here on.
        resume_collector()
        self.set_timer(WARM_UP_DELAY_SECONDS, self._start_warm_up)

    def _start_warm_up(self) -> None:
        if not self._closed:
            self.warm_up = start_warm_up(self.context.migration_scripts)

    def show_schema(self, revision: str | None, head: str | None) -> None:
        """The status bar's schema part: at start-up, and after a migration run."""
        if revision == head:
            self._update_status(schema="schema at head", schema_ok=True)
        else:
            self._update_status(
                schema=f"schema {revision or 'empty'} (head {head})", schema_ok=False
            )

    def _update_status(self, **changes: object) -> None:
        current = self.backend_status
        if current is None:
            return
        values = {
            "database": current.database,
            "api": current.api,
            "api_ok": current.api_ok,
            "schema": current.schema,
            "schema_ok": current.schema_ok,
            "read_only": current.read_only,
            **changes,
        }
        self.backend_status = BackendStatus(**values)  # type: ignore[arg-type]

    def _give_status_bar(self, screen: Screen[object]) -> None:
        """Screens from other modules get the status bar too (after they compose)."""
        if isinstance(screen, ModalScreen):
            return

        def mount_if_missing() -> None:
            if screen.is_attached and not screen.query(StatusBar):
                screen.mount(StatusBar())
            if screen.is_attached and not screen.query(DatabaseBanner):
                screen.mount(DatabaseBanner())

        self.call_after_refresh(mount_if_missing)

    # --- the database going away and coming back --------------------------------------

    def report_database_down(self, error: BaseException) -> None:
        """Show the banner and keep trying to reach the database until it answers."""
        if self.database_down is None:
            self.database_down = describe_error(error)[1]
            self.reconnect_database()

    @work(exclusive=True, group="reconnect", exit_on_error=False)
    async def reconnect_database(self) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(
                RECONNECT_DELAYS_SECONDS[min(attempt, len(RECONNECT_DELAYS_SECONDS) - 1)]
            )
            attempt += 1
            try:
                async with self.context.database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception as error:
                if not is_unreachable(error):
                    raise
                continue
            self.post_message(self.DatabaseAnswers())
            return

    def on_backend_console_app_database_answers(self, _event: DatabaseAnswers) -> None:
        self.database_down = None
        self.notify("The database answers again.")

    # --- actions ---------------------------------------------------------------------

    async def open_audit_at(self, event_id: int) -> None:
        """Switch to Audit, showing the event `event_id` (and the ones before it)."""
        await self.switch_mode("audit")
        opener = getattr(self.screen, "open_event", None)
        if opener is not None:
            opener(event_id)

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        if isinstance(self.screen, HelpDialog):
            return
        keys = collect_key_help(self.screen.active_bindings, self.screen, self)
        title = getattr(self.screen, "area_title", None) or self.current_mode.title()
        self.push_screen(HelpDialog(title, keys))

    async def action_quit(self) -> None:
        """Stop the embedded server, close the database connections, leave."""
        await self.close_backend()
        self.exit()

    async def close_backend(self) -> None:
        """Stop the server and dispose of the engine; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        await self._finish_workers()
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
        self.context.api_url = None
        await self.context.database.dispose()

    async def _finish_workers(self) -> None:
        """Cancel every running worker once, then wait until each has ended.

        So no statement is still running and every connection is closed or back in the
        pool before the server stops and the engine goes. Left to Textual, a screen's
        workers would be cancelled twice (all of the app's, then the screen's own) and
        could still be closing connections after the app returned, which with aiosqlite
        0.22 once kept the console from exiting (see backend.database). A SQLite
        statement runs to its end regardless, so this waits at most for those under way.
        """
        try:
            current: Worker[object] | None = get_current_worker()
        except NoActiveWorker:
            current = None
        running = [w for w in self.workers if not w.is_finished and w is not current]
        for worker in running:
            if not worker.is_cancelled:
                worker.cancel()
        await asyncio.gather(*(_until_ended(worker) for worker in running))

    async def on_unmount(self) -> None:
        # Leaving by any other road (ctrl+c, a fatal error) still closes the backend.
        await self.close_backend()

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run an action; a bug in it becomes an error notice, not a dead console."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            self.unexpected_errors.append(error)
            notify_error(self, error)
            return True

    def _handle_exception(self, error: Exception) -> None:
        # Textual closes the app on any unhandled exception. Once running, the console
        # reports the bug as a notice and stays up.
        if not self.is_running or self._exit:
            super()._handle_exception(error)
            return
        cause = error.error if isinstance(error, WorkerFailed) else error
        self.unexpected_errors.append(cause)
        notify_error(self, cause)
        if not isinstance(error, WorkerFailed):
            # A handler that raised has stopped its widget's message loop: that screen
            # no longer answers, so it is rebuilt from scratch.
            self.call_later(self._restart_area, self.current_mode)

    async def _restart_area(self, mode: str) -> None:
        area = next((area for area in AREAS if area.mode == mode), None)
        if area is None or self._exit or mode in self._restarted:
            return  # a screen that fails again right away is left as it is
        self._restarted.add(mode)
        self.set_timer(RESTART_GRACE_SECONDS, lambda: self._restarted.discard(mode))
        elsewhere = next(other.mode for other in AREAS if other.mode != mode)
        await self.switch_mode(elsewhere)
        await self.remove_mode(mode)
        self.add_mode(mode, area.build)
        await self.switch_mode(mode)
        self.notify(f"The {area.title} screen was restarted after that error.")


async def _until_ended(worker: Worker[object]) -> None:
    # Its failure, if any, was reported when it happened; here only the end matters.
    with contextlib.suppress(WorkerError):  # cancelled or failed
        await worker.wait()


def run_console(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    no_server: bool,
    read_only: bool,
    api_url: str | None = None,
) -> None:
    """Run the console until the operator quits (`api_url`: the route probe's target).

    Configuration problems, no terminal, a port already taken and an unreachable
    database are printed as one sentence on stderr, and the process exits with status 1.
    """
    try:
        context = ConsoleContext.from_settings(settings, read_only=read_only)
    except ConfigError as error:
        _exit_with(str(error))
    if api_url is not None and not api_url.startswith(("http://", "https://")):
        _exit_with(f"--api-url must start with http:// or https:// (got {api_url!r}).")
    context.probe_api_url = api_url
    address = None
    if not no_server:
        chosen_port = settings.api_port if port is None else port
        address = ServerAddress(host or settings.api_host, chosen_port)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Textual would draw into a pipe or file and wait for keys that never come.
        _exit_with("The console needs a terminal; run `backend-console serve` for the API alone.")
    app = BackendConsoleApp(context, server=address)
    with collector_paused():
        app.run()
    if app.fatal_error is not None:
        _exit_with(app.fatal_error)
    if app.return_code:
        raise SystemExit(app.return_code)


def _exit_with(sentence: str) -> None:
    print(f"backend-console: {sentence}", file=sys.stderr)
    raise SystemExit(1)
