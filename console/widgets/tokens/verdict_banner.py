"""One line that answers "does this backend accept the token, and if not, why?"."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from backend.services.jwt_codec import TokenCheck

REASON_TITLES = {
    "malformed": "MALFORMED",
    "too_large": "TOO LARGE",
    "alg_none": "ALG NONE",
    "wrong_algorithm": "WRONG ALGORITHM",
    "bad_signature": "BAD SIGNATURE",
    "unsupported_header": "UNSUPPORTED HEADER",
    "missing_claim": "MISSING CLAIM",
    "invalid_claim": "INVALID CLAIM",
    "expired": "EXPIRED",
    "not_yet_valid": "NOT YET VALID",
    "revoked": "REVOKED",
    "issued_before_logout": "SESSIONS ENDED",  # password change or reset, deactivation, logout
    "issued_before_account": "OLDER THAN ITS USER",
    "user_not_found": "USER NOT FOUND",
    "user_inactive": "USER INACTIVE",
    "user_locked": "USER LOCKED",
}


class VerdictBanner(Static):
    """VALID in green, or the precise reason in red, with its one sentence."""

    def on_mount(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.remove_class("-valid", "-invalid")
        self.update("Paste a token above, or pick one issued here, to see this backend's verdict.")

    def show(self, check: TokenCheck) -> None:
        title = "VALID" if check.reason is None else REASON_TITLES.get(check.reason, check.reason)
        icon = "✔" if check.valid else "✘"
        self.set_class(check.valid, "-valid")
        self.set_class(not check.valid, "-invalid")
        self.update(Content.assemble((f"{icon} {title}", "bold"), "  ", check.detail))
