"""Identity: normalising identifiers and resolving them into unified customers (pure code)."""

from personae.identity.normalize import normalize_emails, normalize_phones
from personae.identity.resolve import Resolution, resolve

__all__ = ["Resolution", "normalize_emails", "normalize_phones", "resolve"]
