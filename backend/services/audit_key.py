"""The audit chain's key: each link is an HMAC, keyed from SECRET_KEY, never the key itself.

A plain hash chain only catches careless edits: whoever can write the table can hash
it again. Keyed, a link can only be made (or made again) by someone holding
SECRET_KEY. The key is derived from SECRET_KEY with HKDF-SHA256 and a fixed label, so
the chain's key and the JWT signing key are never the same bytes and neither can be
recovered from the other. Each link records the key's fingerprint (its id): verify can
then tell "signed with another key" (SECRET_KEY was rotated) from "edited".

The key follows the settings of the process (each edge calls `use_settings` at
start-up; without that, `get_settings()`): a process has one SECRET_KEY.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.models.audit import KEY_ID_LENGTH

if TYPE_CHECKING:
    from backend.config import Settings

CHAIN_KEY_LABEL = b"backend-console audit chain v1"
KEY_ID_LABEL = b"backend-console audit chain key id v1"


def link_content(
    seq: int, at: dt.datetime, actor: str, action: str, target: str, changes: Any
) -> bytes:
    """What a link's hash covers besides the previous hash: its place and its event."""
    moment = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return json.dumps(
        [seq, moment, actor, action, target, changes], sort_keys=True, separators=(",", ":")
    ).encode()


def unkeyed_link_hash(previous: str, content: bytes) -> str:
    """A link as revision 0004 made it (plain SHA-256): checked and replaced by 0005."""
    return hashlib.sha256(previous.encode() + b"\n" + content).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainKey:
    """The key links are signed with, and its fingerprint (safe to store and show)."""

    secret: bytes = field(repr=False)  # never in a traceback or a log
    key_id: str

    @classmethod
    def from_secret_key(cls, secret_key: str) -> ChainKey:
        """Derive the chain's key from SECRET_KEY (HKDF-SHA256 with the chain's label)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=CHAIN_KEY_LABEL
        ).derive(secret_key.encode())
        key_id = hmac.digest(derived, KEY_ID_LABEL, "sha256").hex()[:KEY_ID_LENGTH]
        return cls(derived, key_id)

    def link_hash(self, previous: str, content: bytes) -> str:
        """The link's HMAC-SHA256 over the previous link's hash and its own content."""
        return hmac.digest(self.secret, previous.encode() + b"\n" + content, "sha256").hex()


class _ActiveKey:
    """Where this process's SECRET_KEY comes from; the key is derived on first use."""

    def __init__(self) -> None:
        self.source: Callable[[], str] | None = None
        self.key: ChainKey | None = None

    def get(self) -> ChainKey:
        if self.key is None:
            if self.source is None:
                from backend.config import get_settings

                self.source = get_settings().signing_key
            self.key = ChainKey.from_secret_key(self.source())
        return self.key


_active = _ActiveKey()


def use_settings(settings: Settings) -> None:
    """Sign and verify the chain with `settings`' SECRET_KEY from now on (read when first
    needed: a command that writes no audit event never needs the key)."""
    _active.source, _active.key = settings.signing_key, None


def active_key() -> ChainKey:
    """The key new links are signed with. Raises ConfigError when SECRET_KEY is unusable."""
    return _active.get()
