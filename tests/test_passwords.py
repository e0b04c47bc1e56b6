"""backend.services.passwords: the 8..72-byte rule, bcrypt, and a verify that never raises."""

from __future__ import annotations

import bcrypt
import pytest

from backend.services.passwords import PasswordHasher, password_problem

HASHER = PasswordHasher(rounds=4)
REAL_HASH = HASHER.hash_sync("correct horse")


@pytest.mark.parametrize(
    "password",
    ["8 bytes!", "p" * 72, "é" * 36, "🔑🔑", "spaces and ünïcödé ok"],
    ids=["8-ascii", "72-ascii", "72-bytes-of-2-byte-chars", "2-emoji-are-8-bytes", "unicode"],
)
def test_passwords_of_8_to_72_utf8_bytes_are_accepted(password: str) -> None:
    assert password_problem(password) is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("7 bytes", "Password must be at least 8 bytes long."),
        ("", "Password must be at least 8 bytes long."),
        ("p" * 73, "Password must be at most 72 bytes in UTF-8 (bcrypt's limit)."),
        ("é" * 36 + "x", "Password must be at most 72 bytes in UTF-8 (bcrypt's limit)."),
        ("🔑" * 19, "Password must be at most 72 bytes in UTF-8 (bcrypt's limit)."),
        ("nul\x00inside", "Password must not contain NUL characters."),
    ],
    ids=["7-bytes", "empty", "73-ascii", "37-chars-73-bytes", "19-emoji-76-bytes", "nul"],
)
def test_passwords_outside_the_rule_are_explained(password: str, problem: str) -> None:
    assert password_problem(password) == problem


def test_hash_is_bcrypt_2b_with_the_configured_cost() -> None:
    hashed = HASHER.hash_sync("correct horse")
    assert hashed.startswith("$2b$04$")
    assert len(hashed) == 60
    assert HASHER.hash_sync("correct horse") != hashed  # salted
    assert PasswordHasher(rounds=5).hash_sync("correct horse").startswith("$2b$05$")


def test_hash_refuses_what_the_rule_refuses() -> None:
    for bad in ("short", "x" * 73, "nul\x00password"):
        with pytest.raises(ValueError, match="Password must"):
            HASHER.hash_sync(bad)


async def test_verify_accepts_the_password_and_nothing_else() -> None:
    hashed = await HASHER.hash("correct horse")
    assert await HASHER.verify("correct horse", hashed)
    assert not await HASHER.verify("correct horsE", hashed)
    assert not await HASHER.verify("correct horse ", hashed)


@pytest.mark.parametrize(
    "password",
    ["", "\x00", "correct horse\x00", "x" * 100, "é" * 40, "p" * 72 + "suffix"],
    ids=["empty", "nul", "trailing-nul", "100-bytes", "80-bytes-multibyte", "72-plus-suffix"],
)
def test_verify_never_raises_on_hostile_passwords(password: str) -> None:
    hashed = HASHER.hash_sync("p" * 72)
    assert HASHER.verify_sync(password, hashed) is False


@pytest.mark.parametrize(
    "hashed",
    [
        None,
        "",
        "not a hash",
        REAL_HASH[:-5],
        REAL_HASH.replace("$04$", "$99$"),
        REAL_HASH.replace("$2b$", "$9z$"),
        "$argon2id$v=19$m=1",
    ],
    ids=["none", "empty", "text", "truncated", "bad-cost", "bad-ident", "other-scheme"],
)
def test_verify_never_raises_on_corrupt_hashes(hashed: str | None) -> None:
    assert HASHER.verify_sync("correct horse", hashed) is False


def test_a_short_legacy_password_still_verifies() -> None:
    # Hashes made before the 8-byte rule must keep working; the rule is for setting.
    hashed = bcrypt.hashpw(b"old", bcrypt.gensalt(rounds=4)).decode()
    assert HASHER.verify_sync("old", hashed)
