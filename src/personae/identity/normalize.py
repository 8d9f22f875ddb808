"""Normalise identifiers so that the same person's email or phone always looks the same.

Pure and vectorised (pandas string methods): no I/O.

>>> import pandas as pd
>>> normalize_emails(pd.Series([" Ann@Example.COM ", None])).tolist()
['ann@example.com', None]
>>> normalize_phones(pd.Series(["(555) 123-4567", "+44 20 7946 0958", "0044 20 7946 0958", "12"]),
...                  default_country_code="1").tolist()
['+15551234567', '+442079460958', '+442079460958', '12']
"""

from __future__ import annotations

import pandas as pd


def normalize_emails(values: pd.Series) -> pd.Series:
    """Trim and lower-case; empty strings become missing.

    Example:
        >>> normalize_emails(pd.Series(["  Jane.Doe@Example.com", "", None])).tolist()
        ['jane.doe@example.com', None, None]
    """
    s = values.astype("string").str.strip().str.lower()
    s = s.mask(s == "")
    return s.astype(object).where(s.notna(), None)


def normalize_handles(values: pd.Series) -> pd.Series:
    """A social user name as identity resolution keys it: trimmed, without a leading ``@``,
    lower-cased (networks treat handles case-insensitively); empty becomes missing.

    Example:
        >>> normalize_handles(pd.Series([" @Jane_Q ", "jane_q", "@", None])).tolist()
        ['jane_q', 'jane_q', None, None]
    """
    s = values.astype("string").str.strip().str.lstrip("@").str.strip().str.lower()
    s = s.mask(s == "")
    return s.astype(object).where(s.notna(), None)


def normalize_phones(values: pd.Series, default_country_code: str = "1") -> pd.Series:
    """Turn phone numbers into E.164 (``+<country><number>``) where the digits allow it.

    Rules: keep a leading ``+``; ``00`` is the international prefix; a national number with a
    trunk ``0`` gets the default country code instead of the ``0``; a bare 10-digit number
    under country code 1 (NANP) gets ``+1``; a ``(0)`` after a country code (``+44 (0)20 …``)
    is dropped. Numbers too short or too long for E.164 (8–15 digits) are kept as their
    digits, unchanged otherwise, so they still match themselves.

    Example:
        A UK number written three ways, and a short local number, under country code 44:

        >>> normalize_phones(
        ...     pd.Series(["020 7946 0958", "+44 (0)20 7946 0958", "0044 20-7946-0958", "555-1234"]),
        ...     default_country_code="44",
        ... ).tolist()
        ['+442079460958', '+442079460958', '+442079460958', '5551234']
    """
    raw = values.astype("string").str.strip()
    # "+44 (0)20 …": the bracketed trunk 0 is never dialled after a country code
    international = raw.str.startswith("+") | raw.str.startswith("00")
    raw = raw.mask(international, raw.str.replace("(0)", "", regex=False))
    plus = raw.str.startswith("+")
    digits = raw.str.replace(r"\D", "", regex=True)
    cc = str(default_country_code).lstrip("+")
    out = digits.copy()
    intl = ~plus & digits.str.startswith("00")
    out = out.mask(intl, digits.str.slice(2))
    trunk = ~plus & ~intl & digits.str.startswith("0")
    out = out.mask(trunk, cc + digits.str.slice(1))
    # a bare 10-digit number is national NANP only under country code 1
    nanp = ~plus & ~intl & ~trunk & (digits.str.len() == 10) & (cc == "1")
    out = out.mask(nanp, "1" + digits)
    national = ~plus & ~intl & ~trunk & ~nanp
    out = out.mask(national & (digits.str.len() < 11), digits)  # leave short locals alone
    e164 = (
        (out.str.len() >= 8)
        & (out.str.len() <= 15)
        & (plus | intl | trunk | ~national | (digits.str.len() >= 11))
    )
    result = ("+" + out).where(e164, digits)
    result = result.mask((result == "") | (result == "+"))
    return result.astype(object).where(result.notna(), None)
