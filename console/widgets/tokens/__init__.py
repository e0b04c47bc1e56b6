"""Widgets of the Tokens screen: issue, inspect and revoke JWTs."""
