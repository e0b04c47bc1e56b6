"""Pydantic request/response models shared by the API, the console and the CLI."""
