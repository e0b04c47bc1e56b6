"""The Dashboard's panels: backend, accounts, live requests, recent audit events."""
