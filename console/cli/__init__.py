"""`backend-console`: the console, the headless API and the operator's commands.

The command line itself is console.cli.root; this package imports nothing, so the bare
`backend-console` (console/launcher.py) opens the console without loading Typer.
"""
