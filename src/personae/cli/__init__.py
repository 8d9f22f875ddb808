"""Command-line interface (Typer + Rich): a thin shell over the library."""

from personae.cli.app import app, main

__all__ = ["app", "main"]
