"""`backend-console users ...`: create, list, reset passwords and bulk-seed accounts."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from console.cli.errors import CliError, validation_sentence
from console.cli.output import note, print_json, print_table, progress_bar
from console.cli.state import CliState, open_database, run, state_of

if TYPE_CHECKING:
    from backend.schemas.user import UserCreate, UserPage, UserRead
    from backend.services.passwords import PasswordHasher

app = typer.Typer(
    help="Create, list, reset passwords of and seed user accounts.", no_args_is_help=True
)

# backend.models.Role's values (a test keeps them equal); a Literal makes Typer offer
# them as choices without importing SQLAlchemy for --help.
RoleName = Literal["admin", "support", "user"]
MAX_LIST_LIMIT = 100_000
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command()
def create(
    ctx: typer.Context,
    email: Annotated[
        str, typer.Argument(help="The new account's email.", metavar="EMAIL", show_default=False)
    ],
    role: Annotated[RoleName, typer.Option(help="The account's role.", show_default=False)],
    full_name: Annotated[str, typer.Option("--full-name", help="Display name.", metavar="N")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create an account; the password is asked for twice unless --password-stdin."""
    from backend.schemas.user import UserCreate

    state = state_of(ctx)
    state.require_writable("create users")
    _check_email(email)  # before asking for a password that would then be typed in vain
    password = _read_password(password_stdin)
    data = UserCreate(email=email, full_name=full_name, role=role, password=password)
    user = run(_create(state, data))
    if as_json:
        print_json(user.model_dump(mode="json"))
    else:
        typer.echo(f"Created user {user.id}: {user.email} ({user.role.value}).")


def _check_email(email: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    from backend.schemas.user import Email

    try:
        TypeAdapter(Email).validate_python(email)
    except ValidationError as error:
        raise CliError(validation_sentence(error, field="email")) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise CliError("There is no terminal to ask for the password; pipe it to --password-stdin.")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


async def _create(state: CliState, data: UserCreate) -> UserRead:
    from backend.schemas.user import UserRead
    from backend.services.actor import Actor
    from backend.services.users import create_user

    async with open_database(state.settings) as database, database.session() as session:
        user = await create_user(session, Actor.cli(), data, _hasher(state))
        return UserRead.model_validate(user)


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    email: Annotated[
        str, typer.Argument(help="The account's email.", metavar="EMAIL", show_default=False)
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Reset an account's password (asked twice unless --password-stdin); every session
    of the account ends: its tokens are refused from now on."""
    state = state_of(ctx)
    state.require_writable("reset passwords")
    _check_email(email)
    password = _read_password(password_stdin)
    changed = run(_set_password(state, email, password))
    typer.echo(f"Changed the password of {changed}; every session of the account has ended.")


async def _set_password(state: CliState, email: str, password: str) -> str:
    from backend.services.actor import Actor
    from backend.services.errors import NotFound
    from backend.services.users import find_user_by_email
    from backend.services.users import set_password as reset_password

    async with open_database(state.settings) as database, database.session() as session:
        user = await find_user_by_email(session, email)
        if user is None:
            raise NotFound(f"No user has the email {email.strip().lower()}.")
        user = await reset_password(session, Actor.cli(), user.id, password, _hasher(state))
        return user.email


def _hasher(state: CliState) -> PasswordHasher:
    # Hashing needs only the bcrypt cost, not the signing key AuthPolicy would insist on.
    from backend.services.passwords import PasswordHasher

    return PasswordHasher(state.settings.bcrypt_rounds)


@app.command("list")
def list_users(
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option(help="Part of the email or name.", metavar="S")
    ] = None,
    role: Annotated[RoleName | None, typer.Option(help="Only this role.")] = None,
    limit: Annotated[
        int, typer.Option(help="Show at most this many.", min=1, max=MAX_LIST_LIMIT)
    ] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after a previous listing.", metavar="C")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List accounts by email, a page at a time."""
    page = run(_list(state_of(ctx), search, role, limit, cursor))
    if as_json:
        print_json(page.model_dump(mode="json"))
        return
    print_table(
        ("id", "email", "name", "role", "status", "created", "last login"),
        [
            (
                u.id,
                u.email,
                u.full_name,
                u.role.value,
                _status(u),
                _day(u.created_at),
                _day(u.last_login_at),
            )
            for u in page.items
        ],
    )
    note(_summary(page))


async def _list(
    state: CliState, search: str | None, role: RoleName | None, limit: int, cursor: str | None
) -> UserPage:
    from backend.models import Role
    from backend.schemas.user import UserPage
    from backend.services.actor import Actor
    from backend.services.user_search import MAX_PAGE_SIZE, UserQuery, list_users

    query = UserQuery(search=search, role=None if role is None else Role(role))
    items: list[UserRead] = []
    first = None
    async with open_database(state.settings) as database, database.session() as session:
        while len(items) < limit:
            page = await list_users(
                session,
                Actor.cli(),
                query,
                limit=min(limit - len(items), MAX_PAGE_SIZE),
                cursor=cursor,
                with_total=first is None,
            )
            first = first or page
            items.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert first is not None  # the loop runs at least once: limit >= 1
    return UserPage(
        items=items,
        next_cursor=cursor,
        total=first.total,
        total_is_estimate=first.total_is_estimate,
    )


def _status(user: UserRead) -> str:
    from backend.database import utcnow

    if user.locked_until is not None and user.locked_until > utcnow():
        return "locked"
    return "active" if user.is_active else "inactive"


def _day(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _summary(page: UserPage) -> str:
    about = "about " if page.total_is_estimate else ""
    shown = f"{len(page.items):,} of {about}{page.total or 0:,} user(s)"
    if page.next_cursor is None:
        return f"Showed {shown}."
    return f"Showed {shown}; for more: --cursor {page.next_cursor}"


@app.command()
def seed(
    ctx: typer.Context,
    count: Annotated[
        int,
        typer.Option(help="How many fake users to add.", metavar="N", min=1, show_default=False),
    ],
) -> None:
    """Add N realistic fake users (none can sign in), fast enough for a million."""
    state = state_of(ctx)
    state.require_writable("seed users")
    started = time.perf_counter()
    with progress_bar(count, "Seeding users") as advance:
        inserted = run(_seed(state, count, advance))
    elapsed = max(time.perf_counter() - started, 1e-6)
    typer.echo(f"Seeded {inserted:,} users in {elapsed:.1f} s ({inserted / elapsed:,.0f} rows/s).")


async def _seed(state: CliState, count: int, progress: Callable[[int], None]) -> int:
    from backend.services.actor import Actor
    from backend.services.seeding import seed_users

    async with open_database(state.settings) as database:
        return await seed_users(
            database, count, progress=progress, actor=Actor.cli(), hasher=_hasher(state)
        )
