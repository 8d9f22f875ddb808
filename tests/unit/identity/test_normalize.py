"""Email and phone normalisation: the same person's identifier must always look the same."""

from __future__ import annotations

import pandas as pd
import pytest

from personae.identity.normalize import normalize_emails, normalize_phones


def one_phone(value: object, country: str = "1") -> object:
    return normalize_phones(pd.Series([value], dtype=object), default_country_code=country)[0]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (" Ann@Example.COM ", "ann@example.com"),
        ("ann@example.com", "ann@example.com"),
        ("\tBOB@EXAMPLE.ORG\n", "bob@example.org"),
        ("", None),
        ("   ", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_emails_are_trimmed_and_lower_cased(given: object, expected: str | None) -> None:
    assert normalize_emails(pd.Series([given], dtype=object)).tolist() == [expected]


def test_emails_keep_order_and_length() -> None:
    out = normalize_emails(pd.Series(["B@x.com", None, "a@X.com"], dtype=object))
    assert out.tolist() == ["b@x.com", None, "a@x.com"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # national NANP (country code 1): 10 digits get +1, whatever the punctuation
        ("(555) 123-4567", "+15551234567"),
        ("555.123.4567", "+15551234567"),
        ("555 123 4567", "+15551234567"),
        ("1-555-123-4567", "+15551234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        # explicit country codes are kept
        ("+44 20 7946 0958", "+442079460958"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("+33 1 23 45 67 89", "+33123456789"),
        # 00 is the international prefix
        ("0044 20 7946 0958", "+442079460958"),
        ("0044 (0)20 7946 0958", "+442079460958"),
        ("0033 1 23 45 67 89", "+33123456789"),
        # a trunk 0 is replaced by the default country code
        ("020 7946 0958", "+12079460958"),
        # too short for E.164: kept as its digits (still matches itself)
        ("555-1234", "5551234"),
        ("12", "12"),
        # garbage and empties
        ("abc", None),
        ("n/a", None),
        ("", None),
        ("  ", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_phones_become_e164_under_nanp(given: object, expected: str | None) -> None:
    assert one_phone(given, "1") == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("020 7946 0958", "+442079460958"),  # trunk 0 -> +44
        ("07700 900123", "+447700900123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+1 555 123 4567", "+15551234567"),
        ("2079460958", "2079460958"),  # 10 bare digits are NANP only under country code 1
        ("abc", None),
    ],
)
def test_phones_with_another_default_country(given: str, expected: str | None) -> None:
    assert one_phone(given, "44") == expected
    assert one_phone(given, "+44") == expected


def test_the_same_number_written_differently_normalises_to_one_value() -> None:
    spellings = [
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "+44-20-7946-0958",
    ]
    assert set(normalize_phones(pd.Series(spellings), "44")) == {"+442079460958"}


def test_phones_vectorised_with_missing_values_in_between() -> None:
    out = normalize_phones(pd.Series(["(555) 123-4567", None, "", "+44 20 7946 0958"], dtype=object))
    assert out.tolist() == ["+15551234567", None, None, "+442079460958"]
