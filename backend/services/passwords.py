"""Password hashing: the one module that talks to passlib/bcrypt.

bcrypt raises on secrets over 72 bytes or containing NUL, at verify time too; this
guard turns such input into an ordinary mismatch after doing the same work, so a
hostile login attempt looks exactly like a wrong password.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passlib.context import CryptContext

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (libpass: rejects) anything longer


def password_problem(password: str) -> str | None:
    """Why `password` cannot be set, as one sentence, or None when it is acceptable."""
    size = len(password.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES:
        return f"Password must be at least {MIN_PASSWORD_BYTES} bytes long."
    if size > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit)."
    if "\x00" in password:
        return "Password must not contain NUL characters."
    return None


@lru_cache(maxsize=4)
def _context(rounds: int) -> CryptContext:
    # Imported on the first hash or check: the console's start-up never needs it.
    from passlib.context import CryptContext

    return CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    # A real hash of the same cost: verifying against it costs what a real check costs.
    return str(_context(rounds).hash("dummy password for constant-time misses"))


class PasswordHasher:
    """bcrypt through passlib, run in a thread so the event loop never blocks."""

    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds

    def hash_sync(self, password: str) -> str:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
        return str(_context(self.rounds).hash(password))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash_sync, password)

    def verify_sync(self, password: str, hashed: str | None) -> bool:
        """True when `password` matches; False for any mismatch or unusable input."""
        usable = _is_verifiable(password)
        target = hashed if (hashed and usable) else _dummy_hash(self.rounds)
        candidate = password if usable else "x" * MIN_PASSWORD_BYTES
        try:
            matched = bool(_context(self.rounds).verify(candidate, target))
        except (ValueError, TypeError):
            # A corrupt stored hash: still a mismatch, never a 500.
            return False
        return matched and usable and bool(hashed)

    async def verify(self, password: str, hashed: str | None) -> bool:
        return await asyncio.to_thread(self.verify_sync, password, hashed)

    async def burn(self) -> None:
        """Spend the time of one verification (for unknown emails)."""
        await self.verify("x" * MIN_PASSWORD_BYTES, None)


def _is_verifiable(password: str) -> bool:
    # Short passwords can be verified (they may predate a policy change); only what
    # bcrypt itself refuses is replaced.
    raw = password.encode("utf-8")
    return len(raw) <= MAX_PASSWORD_BYTES and b"\x00" not in raw
