"""Issue: mint a token for a user, signed exactly as the API's login signs it."""

from __future__ import annotations

from datetime import tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message

from backend.schemas.user import UserRead
from backend.services import tokens
from backend.services.errors import NotFound, PermissionDenied
from backend.services.tokens import IssuedToken
from backend.services.user_search import UserQuery, list_users
from console.screens.base import context_of
from console.widgets.tokens.issue_form import IssueForm, IssueRequest
from console.widgets.tokens.issued_token import IssuedTokenView
from console.widgets.tokens.worker_errors import ReportsWorkerErrors

MATCHES_SHOWN = 8


class IssuePane(ReportsWorkerErrors, VerticalScroll):
    """The form and, once a token is issued, the token with its claims."""

    class UsersFound(Message):
        def __init__(self, users: list[UserRead]) -> None:
            super().__init__()
            self.users = users

    class UserRejected(Message):
        """The service found no user with the requested email."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class Issued(Message):
        """A token was issued (and audited by its jti); bubbles up to the screen."""

        def __init__(self, issued: IssuedToken, email: str) -> None:
            super().__init__()
            self.issued = issued
            self.email = email

    def __init__(
        self, default_minutes: int, *, read_only: bool, tz: tzinfo | None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._default_minutes = default_minutes
        self._read_only = read_only
        self._tz = tz

    def compose(self) -> ComposeResult:
        yield IssueForm(self._default_minutes, read_only=self._read_only, id="issue-form")
        yield IssuedTokenView(id="issued")

    @property
    def issued(self) -> IssuedToken | None:
        """The token issued last on this pane, if any."""
        return self.query_one(IssuedTokenView).issued

    # --- user search ---------------------------------------------------------------

    @on(IssueForm.SearchChanged)
    def _search_changed(self, event: IssueForm.SearchChanged) -> None:
        event.stop()
        if event.text:
            self.search_users(event.text)
        else:
            self.workers.cancel_group(self, "issue-search")
            self.query_one(IssueForm).show_matches([])

    @work(exclusive=True, group="issue-search", exit_on_error=False)
    async def search_users(self, text: str) -> None:
        """Users whose email or name contains `text`."""
        context = context_of(self.screen)
        async with context.database.session() as session:
            query = UserQuery(search=text)
            page = await list_users(
                session, context.actor, query, limit=MATCHES_SHOWN, with_total=False
            )
        self.post_message(self.UsersFound(page.items))

    def on_issue_pane_users_found(self, event: UsersFound) -> None:
        event.stop()
        self.query_one(IssueForm).show_matches(event.users)

    # --- minting -------------------------------------------------------------------

    @on(IssueForm.Submitted)
    def _submitted(self, event: IssueForm.Submitted) -> None:
        event.stop()
        self.mint(event.request)

    @work(exclusive=True, group="issue", exit_on_error=False)
    async def mint(self, request: IssueRequest) -> None:
        """Issue the token through the service (which audits it by jti)."""
        context = context_of(self.screen)
        if context.read_only:
            raise PermissionDenied("The console is read-only: tokens cannot be issued.")
        try:
            async with context.database.session() as session:
                issued = await tokens.mint_token(
                    session,
                    context.actor,
                    request.email,
                    context.policy,
                    minutes=request.minutes,
                    extra_claims=request.extra_claims,
                )
        except NotFound as error:
            # Shown under the email field rather than as a notice.
            self.post_message(self.UserRejected(error.message))
            return
        self.post_message(self.Issued(issued, request.email.strip().lower()))

    def on_issue_pane_user_rejected(self, event: UserRejected) -> None:
        event.stop()
        self.query_one(IssueForm).show_email_error(event.message)

    def on_issue_pane_issued(self, event: Issued) -> None:
        # Not stopped: the screen offers the token for inspection too.
        self.show_issued(event.issued, event.email)

    def show_issued(self, issued: IssuedToken, email: str) -> None:
        """Show `issued`, the token just minted for the user with `email`."""
        view = self.query_one(IssuedTokenView)
        view.show(issued, email, self._tz)
        self.scroll_to_widget(view)
