"""The Routes screen: find any API route, call it as any user, read the answer (issue 12).

Left: the catalog (from the target's own OpenAPI document, grouped by tag, filtered
as you type) and the request history. Right: the request builder generated from the
selected route, and the response. Requests go to the embedded server over HTTP, to
--api-url, or in-process when the console runs without a server; each is sent in a
worker (esc cancels) and kept in the history without its credentials.
"""

from __future__ import annotations

import asyncio
from functools import partial

import httpx
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState

from backend.services import probe
from backend.services.probe import Catalog, ProbeOutcome
from backend.services.probe_auth import AuthMode, ProbeAuth, ProbeSigner
from backend.services.probe_client import ProbeRequest, ProbeTarget
from backend.services.probe_history import ProbeHistory, has_redacted
from backend.services.probe_schema import describe_request
from backend.services.probe_share import as_curl, as_httpie
from backend.services.routes_catalog import RouteInfo
from console.screens.base import ConsoleScreen
from console.screens.routes_target import probe_target
from console.widgets.routes.auth_picker import AuthPicker, UserEmailSuggester
from console.widgets.routes.body_view import BodyView
from console.widgets.routes.builder import RequestBuilder
from console.widgets.routes.catalog import RouteCatalog
from console.widgets.routes.history_list import HistoryList
from console.widgets.routes.response_view import ResponseView

# Moving the cursor through the catalog rebuilds the form once it rests this long.
BUILD_DEBOUNCE_SECONDS = 0.1
SENDING_NOTICE_SECONDS = 0.15
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FAILED_STATES = frozenset({WorkerState.CANCELLED, WorkerState.ERROR})


class RoutesScreen(ConsoleScreen):
    """Probe the API's routes."""

    CSS_PATH = "routes.tcss"
    AUTO_FOCUS = "#routes-list"  # the arrows move through the routes at once
    area_title = "Routes"
    history: ProbeHistory  # the data dir's, from compose on

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="routes.filter"),
        Binding("ctrl+s", "send", "Send", key_display="^s", id="routes.send"),
        Binding("h", "toggle_history", "History", id="routes.history"),
        Binding("i", "focus_auth", "Auth", id="routes.auth"),
        Binding("c", "copy('curl')", "Copy as curl", id="routes.copy_curl"),
        Binding("y", "copy('httpie')", "Copy as HTTPie", id="routes.copy_httpie"),
        Binding("v", "reveal_token", "Reveal token", id="routes.reveal"),
        Binding("ctrl+f", "search_body", "Search body", key_display="^f", id="routes.search"),
        Binding("o", "unfold", "Open all folds", id="routes.unfold"),
        Binding("escape", "escape", "Cancel / leave field", id="routes.back"),
    ]

    class CatalogLoaded(Message):
        def __init__(self, catalog: Catalog, target: ProbeTarget) -> None:
            super().__init__()
            self.catalog = catalog
            self.target = target

    class Answered(Message):
        def __init__(self, outcome: ProbeOutcome, token: str | None, auth_label: str) -> None:
            super().__init__()
            self.outcome = outcome
            self.token = token
            self.auth_label = auth_label

    class Checked(Message):
        def __init__(self, outcome: ProbeOutcome, findings: list[str]) -> None:
            super().__init__()
            self.outcome = outcome
            self.findings = findings

    def __init__(self) -> None:
        super().__init__()
        self.catalog: Catalog | None = None
        self.target: ProbeTarget | None = None
        self.signer: ProbeSigner | None = None
        self._client: httpx.AsyncClient | None = None
        self._last: tuple[ProbeRequest, str | None] | None = None
        self._token_shown = False
        self._sending: Worker[None] | None = None
        self._pending_route: RouteInfo | None = None
        # What the key bar asks about after every answer, kept here rather than queried.
        self._route_built: RouteInfo | None = None
        self._body_folds = 0

    # --- layout --------------------------------------------------------------------

    def compose_content(self) -> ComposeResult:
        context = self.context
        self.history = ProbeHistory(context.settings.data_dir)
        can_sign = context.probe_api_url is None
        suggester = UserEmailSuggester(context.database, context.actor) if can_sign else None
        with Horizontal(id="routes-main"):
            with TabbedContent(initial="routes-catalog", id="routes-left"):
                with TabPane("Routes", id="routes-catalog"):
                    yield Static("Loading the API's routes…", id="routes-source")
                    yield RouteCatalog(id="catalog")
                with TabPane("History", id="routes-history"):
                    yield HistoryList(self.history, id="history")
            with Vertical(id="routes-right"):
                yield AuthPicker(
                    suggester,
                    can_sign_as_user=can_sign,
                    console_token=context.probe_token,
                    id="auth",
                )
                yield RequestBuilder(id="builder")
                yield ResponseView(id="response")

    def on_mount(self) -> None:
        context = self.context
        self.signer = ProbeSigner(context.database, context.actor, context.policy)
        self.load_catalog()

    def on_screen_resume(self) -> None:
        # The Tokens screen may have handed over a token ("use in probe") meanwhile.
        self.query_one(AuthPicker).set_console_token(self.context.probe_token)

    async def on_unmount(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # --- loading -------------------------------------------------------------------

    @work(exclusive=True, group="routes-load", exit_on_error=False)
    async def load_catalog(self) -> None:
        serving = getattr(self.app, "server_address", None) is not None
        target = await probe_target(self.context, serving=serving)
        timeout = self.context.settings.probe_timeout_seconds
        catalog = await probe.fetch_catalog(target, timeout_seconds=timeout)
        self.post_message(self.CatalogLoaded(catalog, target))

    def on_routes_screen_catalog_loaded(self, event: CatalogLoaded) -> None:
        self.catalog, self.target = event.catalog, event.target
        count = len(event.catalog.routes)
        self.query_one("#routes-source", Static).update(
            Content.styled(f"{count} routes from {event.target.label}", "dim")
        )
        self.query_one(RouteCatalog).show(event.catalog.routes)

    def _refresh_history_if_shown(self) -> None:
        # Re-read when the list is in view: redrawing a hidden list after every answer
        # would cost the answer's own frame.
        if self.query_one("#routes-left", TabbedContent).active == "routes-history":
            self.query_one(HistoryList).reload()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "routes-history":
            self.query_one(HistoryList).reload()

    # --- the builder ---------------------------------------------------------------

    def on_route_catalog_chosen(self, event: RouteCatalog.Chosen) -> None:
        self._pending_route = event.route
        if event.picked:
            self.run_worker(self._build(event.route, focus=True), group="routes-build")
        else:
            self.set_timer(BUILD_DEBOUNCE_SECONDS, self._build_pending)

    def _build_pending(self) -> None:
        route = self._pending_route
        builder = self.query_one(RequestBuilder)
        if route is not None and route is not builder.route:
            self.run_worker(self._build(route, focus=False), group="routes-build", exclusive=True)

    async def _build(self, route: RouteInfo, *, focus: bool) -> None:
        if self.catalog is None:
            return
        shape = describe_request(self.catalog.document, self.catalog.operation(route))
        note = ""
        if self.context.read_only and route.method not in READ_ONLY_METHODS:
            note = "[b]Read-only:[/b] only GET requests can be sent."
        builder = self.query_one(RequestBuilder)
        await builder.load(route, shape, note=note)
        self._route_built = route
        self.refresh_bindings()
        if focus:
            inputs = builder.query("Input, TextArea")
            if inputs:
                inputs.first().focus()

    # --- sending -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send":
            route = self._route_built
            if route is None:
                return None
            return not (self.context.read_only and route.method not in READ_ONLY_METHODS)
        if action == "copy":
            return True if self._last is not None else None
        if action == "unfold":
            return self._body_folds > 0
        if action == "escape":
            return self._is_sending or isinstance(self.focused, Input | TextArea | BodyView)
        return True

    @property
    def _is_sending(self) -> bool:
        return self._sending is not None and not self._sending.is_finished

    def action_send(self) -> None:
        """Check the form; send the request when every field is right."""
        builder = self.query_one(RequestBuilder)
        if builder.route is None or builder.shape is None or self.catalog is None:
            self.notify("Pick a route first.", severity="warning")
            return
        if self.context.read_only and builder.route.method not in READ_ONLY_METHODS:
            self.notify("Read-only: only GET requests can be sent.", severity="warning")
            return
        auth = self.query_one(AuthPicker).auth()
        request = builder.checked_request(auth_sets_authorization=auth.mode is not AuthMode.NONE)
        if request is None:
            self.notify("Fix the marked fields first.", severity="warning")
            return
        if any(name.lower() == "authorization" for name, _ in request.headers):
            self.notify("Authorization typed by hand: sent as typed, masked in copies, not kept.")
        self.send(request, auth)

    def send(self, request: ProbeRequest, auth: ProbeAuth) -> None:
        worker = self._sending = self.send_request(request, auth)

        def still_sending() -> None:
            if not worker.is_finished:
                self.query_one("#response-status", Static).update(
                    f"Sending {request.method} {request.concrete_path}… (esc cancels)"
                )
                self.refresh_bindings()

        # Said only if the answer is slow: a frame drawn meanwhile would share the loop
        # with the embedded server and delay a quick answer by as long as it takes.
        self.set_timer(SENDING_NOTICE_SECONDS, still_sending)

    @work(exclusive=True, group="routes-send", exit_on_error=False)
    async def send_request(self, request: ProbeRequest, auth: ProbeAuth) -> None:
        assert self.target is not None
        assert self.catalog is not None
        assert self.signer is not None  # set on mount
        token = await self.signer.token(auth)
        if self._client is None:
            self._client = self.target.client(self.context.settings.probe_timeout_seconds)
        # The answer is drawn first; its findings and its place in the history follow
        # (after_answer).
        outcome = await probe.probe(
            self._client,
            self.target,
            self.catalog,
            request,
            token=token,
            auth_label=auth.label,
            history=None,
            check=False,
        )
        self.post_message(self.Answered(outcome, token, auth.label))

    def on_routes_screen_answered(self, event: Answered) -> None:
        self._last = (event.outcome.request, event.token)
        view = self.query_one(ResponseView)
        view.show(event.outcome, checked=False)
        self._body_folds = view.folds
        # After the answer's frame: this work (the schema check and the history write in
        # threads) would compete with drawing it.
        view.when_drawn(partial(self._after_answer, event.outcome, event.auth_label))

    def _after_answer(self, outcome: ProbeOutcome, auth_label: str) -> None:
        if outcome.response is not None:
            self.check_answer(outcome)
        self.keep(outcome, auth_label)
        self.refresh_bindings()

    @work(thread=True, group="routes-keep", exit_on_error=False)
    def keep(self, outcome: ProbeOutcome, auth_label: str) -> None:
        """Append the request to the history (a file write: off the event loop)."""
        probe.remember(self.history, outcome, auth_label)

    @work(exclusive=True, group="routes-check", exit_on_error=False)
    async def check_answer(self, outcome: ProbeOutcome) -> None:
        assert self.catalog is not None
        assert outcome.response is not None
        catalog, request, response = self.catalog, outcome.request, outcome.response
        findings = await asyncio.to_thread(probe.check_answer, catalog, request, response)
        self.post_message(self.Checked(outcome, findings))

    def on_routes_screen_checked(self, event: Checked) -> None:
        view = self.query_one(ResponseView)
        # Only for the answer still shown (a newer one may have replaced it meanwhile).
        if view.outcome is not None and view.outcome.response is event.outcome.response:
            view.show_findings(tuple(event.findings))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # ConsoleScreen's handler (Textual calls each class's) reports a failure.
        if event.worker.group == "routes-send" and event.state is WorkerState.CANCELLED:
            self.query_one("#response-status", Static).update("Cancelled.")
        if event.worker.group == "routes-load" and event.state is WorkerState.ERROR:
            self.query_one("#routes-source", Static).update(
                Content.styled("No catalog.", "bold red")
            )
        if event.worker.group == "routes-send" and event.state in FAILED_STATES:
            self.refresh_bindings()  # an answer refreshes them after its frame
        if event.worker.group == "routes-keep" and event.state is WorkerState.SUCCESS:
            self._refresh_history_if_shown()

    def on_body_view_folds_changed(self, event: BodyView.FoldsChanged) -> None:
        self._body_folds = event.folds
        self.refresh_bindings()

    # --- history -------------------------------------------------------------------

    async def on_history_list_replay(self, event: HistoryList.Replay) -> None:
        entry = event.entry
        route = self.catalog.route_for(entry.method, entry.path) if self.catalog else None
        if route is None:
            self.notify(
                f"{entry.method} {entry.path} is not in this API any more.",
                severity="warning",
                markup=False,  # the path is the API's text, not markup
            )
            return
        await self._build(route, focus=False)
        request = entry.request()
        await self.query_one(RequestBuilder).fill(request)
        email = entry.auth.removeprefix("as ") if entry.auth.startswith("as ") else ""
        self.query_one(AuthPicker).choose(AuthMode.AS_USER if email else AuthMode.NONE, email)
        if has_redacted(request):
            self.notify("A secret was not kept in the history: type it again, then send.")
            return
        self.action_send()

    # --- actions -------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        """Focus the catalog's filter (or the history's search)."""
        tabs = self.query_one("#routes-left", TabbedContent)
        if tabs.active == "routes-history":
            self.query_one("#history-search", Input).focus()
        else:
            self.query_one("#routes-filter", Input).focus()

    def action_toggle_history(self) -> None:
        """Switch the left pane between the catalog and the history."""
        tabs = self.query_one("#routes-left", TabbedContent)
        tabs.active = "routes-catalog" if tabs.active == "routes-history" else "routes-history"
        self._focus_left_list()

    def _focus_left_list(self) -> None:
        tabs = self.query_one("#routes-left", TabbedContent)
        target = "#history-list" if tabs.active == "routes-history" else "#routes-list"
        self.query_one(target).focus()

    def action_copy(self, kind: str) -> None:
        """Copy the last request as a curl or HTTPie command (token masked unless revealed)."""
        if self._last is None or self.target is None:
            return
        request, token = self._last
        render = as_curl if kind == "curl" else as_httpie
        command = render(request, self.target.base_url, token, reveal=self._token_shown)
        self.app.copy_to_clipboard(command)
        self.query_one(ResponseView).show_share(command)
        name = "curl" if kind == "curl" else "HTTPie"
        if self.target.app is not None:
            # In-process: the command names no server; it runs once one serves the API.
            self.notify(f"Copied as {name}; no server runs here, so set its URL first.")
        else:
            self.notify(f"Copied as {name}.")

    def action_reveal_token(self) -> None:
        """Show or mask the token and secret headers (on screen and in copied commands)."""
        self._token_shown = self.query_one(AuthPicker).toggle_reveal()
        self.query_one(RequestBuilder).headers.set_revealed(self._token_shown)
        self.notify("Token shown." if self._token_shown else "Token masked.")

    def action_focus_auth(self) -> None:
        """Focus the auth picker (none, as a user, a token)."""
        self.query_one("#auth-mode").focus()

    def action_unfold(self) -> None:
        """Open every folded array and object of the JSON answer."""
        self.query_one(ResponseView).unfold()

    def action_search_body(self) -> None:
        self.query_one("#response-search", Input).focus()

    def action_escape(self) -> None:
        """esc: cancel the request under way, or leave the field."""
        if self._sending is not None and not self._sending.is_finished:
            self._sending.cancel()
            return
        self._focus_left_list()
