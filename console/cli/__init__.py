"""`backend-console`: the console, the headless API and the operator's commands."""

from console.cli.root import app, main

__all__ = ["app", "main"]
