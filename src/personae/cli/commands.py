"""Registers every command group on the app (import side effects only)."""

from personae.cli import clv, data, model, segments  # noqa: F401
