"""The security policy derived from Settings, handed to the services that need it."""

from __future__ import annotations

from dataclasses import dataclass

from backend.config import Settings
from backend.services.passwords import PasswordHasher


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Signing key, token lifetime, lockout rules and the password hasher."""

    signing_key: str
    algorithm: str
    access_token_minutes: int
    leeway_seconds: int
    max_failures: int
    lockout_minutes: int
    hasher: PasswordHasher

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        """Raises ConfigError when the signing key is unusable."""
        return cls(
            signing_key=settings.signing_key(),
            algorithm=settings.jwt_algorithm,
            access_token_minutes=settings.access_token_expire_minutes,
            leeway_seconds=settings.jwt_leeway_seconds,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            hasher=PasswordHasher(settings.bcrypt_rounds),
        )

    @property
    def max_lifetime_seconds(self) -> int:
        return self.access_token_minutes * 60
