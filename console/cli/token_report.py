"""The human-readable verdict of `token inspect`: verdict, lanes, header, payload, times."""

from __future__ import annotations

import json
from typing import Any

from backend.services.jwt_codec import Lane, LaneStatus, TokenCheck, describe_numeric_date
from backend.services.jwt_display import json_safe

TIME_CLAIMS = ("iat", "nbf", "exp")


def report_lines(check: TokenCheck) -> list[str]:
    """Every line of the report, verdict first."""
    verified = check.lanes.get(Lane.SIGNATURE, None)
    unverified = "" if verified and verified.status is LaneStatus.PASS else " (unverified)"
    lines = [_verdict(check), "", "Checks:"]
    width = max(len(lane.value) for lane in check.lanes)
    for lane, result in check.lanes.items():
        lines.append(f"  {lane.value:<{width}}  {result.status.value:<11}  {result.detail}")
    lines += _json_block(f"Header{unverified}:", check.header)
    lines += _json_block(f"Payload{unverified}:", check.payload)
    lines += _times(check)
    if check.warnings:
        lines += ["", "Warnings:"] + [f"  - {warning.message}" for warning in check.warnings]
    return lines


def _verdict(check: TokenCheck) -> str:
    if check.valid:
        return f"VALID: {check.detail}"
    reason = "unknown" if check.reason is None else check.reason.value
    return f"INVALID: {reason} — {check.detail}"


def _json_block(title: str, value: dict[str, Any] | None) -> list[str]:
    if value is None:
        return []
    text = json.dumps(json_safe(value), indent=2, ensure_ascii=False, allow_nan=False)
    return ["", title, *("  " + line for line in text.splitlines())]


def _times(check: TokenCheck) -> list[str]:
    payload = check.payload or {}
    present = [claim for claim in TIME_CLAIMS if claim in payload]
    if not present:
        return []
    return ["", "Times:"] + [
        f"  {claim}  {describe_numeric_date(payload[claim], check.checked_at, claim=claim)}"
        for claim in present
    ]
