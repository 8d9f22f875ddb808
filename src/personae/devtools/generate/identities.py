"""Who is who: names, e-mails, phones, loyalty cards, customer ids and duplicate profiles.

Identity resolution is only testable if the data has the problems real data has, so this
module plants them on purpose:

* about 1% of customer rows are a *second profile* of a person who already has one (a
  different ``customer_id``, created later, often in a store) sharing the e-mail written
  with other case or stray spaces, or the phone in a national format. These should merge.
* a few people gave a *blocked placeholder* (``unknown@example.com`` or ``0000000000``).
  Several unrelated people share it, so a resolver must not merge on it.
* phones are mostly E.164 but some are written in national formats, to exercise
  normalisation.

Customer ids are numbered in order of creation, so ids grow with ``created_at``. Cookie and
device ids are hashes of the person (see ``columns.hashed``), stable across chunks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personae.devtools.generate import columns as col
from personae.devtools.generate import vocabulary as voc
from personae.devtools.generate.population import NO_DATE, Population
from personae.devtools.generate.seasonality import Timeline

BLOCKED_EMAIL = "unknown@example.com"
BLOCKED_PHONE = "0000000000"
DUPLICATE_SHARE = 0.01
BLOCKED_SHARE = 0.002
#: chance a person gave an e-mail address, by group (bargain hunters want the coupons)
_EMAIL_GIVEN = np.array([0.95, 0.99, 0.93, 0.92, 0.95, 0.88])
#: loyalty programme membership by group
_LOYALTY_RATE = np.array([0.9, 0.5, 0.45, 0.3, 0.8, 0.15])
#: salts for ids derived by hashing the person index
COOKIE_SALT, DEVICE_SALT, VISITOR_SALT = 101, 202, 303


@dataclass(frozen=True)
class Identities:
    """Identifiers of each person's main profile and of their duplicate profile, if any.

    String columns are Arrow arrays indexed by person. ``dup_*`` are null for people
    without a second profile.
    """

    first_name: pa.Array
    last_name: pa.Array
    email: pa.Array
    phone: pa.Array
    loyalty_id: pa.Array
    has_email: np.ndarray
    has_phone: np.ndarray
    blocked: np.ndarray
    customer_number: np.ndarray
    customer_id: pa.Array
    dup_number: np.ndarray
    has_dup: np.ndarray
    dup_created_s: np.ndarray
    dup_customer_id: pa.Array
    dup_email: pa.Array
    dup_phone: pa.Array
    id_width: int

    @property
    def n_profiles(self) -> int:
        return len(self.has_dup) + int(self.has_dup.sum())

    def chunk(self, start: int, stop: int) -> Identities:
        """The identifiers of people ``start`` to ``stop`` (exclusive)."""
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, pa.Array):
                v = v.slice(start, stop - start)
            elif isinstance(v, np.ndarray):
                v = v[start:stop]
            values[f.name] = v
        return Identities(**values)


def _ascii_lower(names: tuple[str, ...]) -> list[str]:
    """E-mail-safe spelling of names: no accents, apostrophes or spaces."""
    out = []
    for name in names:
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        out.append("".join(ch for ch in plain.lower() if ch.isalnum()))
    return out


def _names(rng: np.random.Generator, gender: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """First-name codes (by gender) into one combined vocabulary, and last-name codes."""
    vocab = [*voc.FEMALE_NAMES, *voc.MALE_NAMES, *voc.NEUTRAL_NAMES]
    n = len(gender)
    f0, m0, x0 = 0, len(voc.FEMALE_NAMES), len(voc.FEMALE_NAMES) + len(voc.MALE_NAMES)
    female = f0 + rng.integers(0, len(voc.FEMALE_NAMES), n)
    male = m0 + rng.integers(0, len(voc.MALE_NAMES), n)
    neutral = x0 + rng.integers(0, len(voc.NEUTRAL_NAMES), n)
    either = np.where(rng.random(n) < 0.5, female, male)
    first = np.select([gender == 0, gender == 1, gender == 2], [female, male, neutral], either)
    # a long-tailed (Zipf-like) surname distribution, as in real populations
    w = 1.0 / np.arange(1, len(voc.LAST_NAMES) + 1) ** 0.6
    last = rng.choice(len(voc.LAST_NAMES), size=n, p=w / w.sum())
    return first, last, vocab


def _emails(
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    first_vocab: list[str],
    birth_day: np.ndarray,
) -> pa.Array:
    """Lower-case, unique addresses like ``jane.doe84@mailbox.example``."""
    n = len(first)
    fl = col.lookup(_ascii_lower(tuple(first_vocab)), first)
    ll = col.lookup(_ascii_lower(voc.LAST_NAMES), last)
    initial = pc.utf8_slice_codeunits(fl, 0, 1)
    pattern = rng.choice(5, size=n, p=[0.4, 0.2, 0.15, 0.1, 0.15])
    a = pc.if_else(pattern == 2, initial, pc.if_else(pattern == 4, ll, fl))
    b = pc.if_else(pattern == 4, fl, ll)
    sep = col.lookup([".", "", ".", "_", "."], pattern)
    year = (birth_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)) % 100
    number = np.where((birth_day != NO_DATE) & (rng.random(n) < 0.5), year, rng.integers(1, 100, n))
    suffix = pc.if_else(rng.random(n) < 0.45, pc.cast(pa.array(number), pa.string()), "")
    weights = np.array(voc.EMAIL_DOMAIN_WEIGHTS)
    domain = col.lookup(voc.EMAIL_DOMAINS, rng.choice(len(weights), n, p=weights / weights.sum()))
    local = pc.binary_join_element_wise(a, b, sep)
    email = pc.binary_join_element_wise(local, suffix, "@", domain, "")
    # the same name twice gets ".2", ".3": never produced otherwise, so the result is unique
    series = pd.Series(email.to_numpy(zero_copy_only=False))
    nth = series.groupby(series, sort=False).cumcount().to_numpy()
    if nth.any():
        counter = pc.if_else(nth > 0, pc.cast(pa.array(nth + 1), pa.string()), "")
        dotted = pc.if_else(nth > 0, ".", "")
        email = pc.binary_join_element_wise(local, suffix, dotted, counter, "@", domain, "")
    return email


def _phone_text(area: np.ndarray, subscriber: np.ndarray, style: np.ndarray) -> pa.Array:
    """Phones in E.164 (style 0) or national formats (1: ``(212) 555-0123``, 2: dashes,
    3: dots)."""
    n = len(area)
    exchange, line = np.divmod(subscriber, 10_000)
    formats: list[list[col.Part]] = [
        ["+1", (area, 3), (exchange, 3), (line, 4)],
        ["(", (area, 3), ") ", (exchange, 3), "-", (line, 4)],
        [(area, 3), "-", (exchange, 3), "-", (line, 4)],
        [(area, 3), ".", (exchange, 3), ".", (line, 4)],
    ]
    pieces = [col.fixed_width(f, n) for f in formats]
    stacked = pa.concat_arrays(pieces)
    return stacked.take(pa.array(style.astype(np.int64) * n + np.arange(n)))


def _phones(
    rng: np.random.Generator, city: np.ndarray, area_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area code (mostly the city's), a unique 7-digit subscriber number and a format."""
    n = len(city)
    area = np.where(rng.random(n) < 0.85, area_codes[city], rng.choice(np.unique(area_codes), n))
    if n <= 8_000_000:
        subscriber = 2_000_000 + rng.choice(8_000_000, size=n, replace=False)
    else:  # pragma: no cover - beyond 8M people numbers are unique per area code only
        subscriber = 2_000_000 + rng.integers(0, 8_000_000, n)
    style = rng.choice(4, size=n, p=[0.84, 0.08, 0.04, 0.04])
    return area, subscriber, style


def _email_variant(rng: np.random.Generator, email: pa.Array) -> pa.Array:
    """The same address as a person might type it again: other case, stray spaces."""
    n = len(email)
    kind = rng.integers(0, 4, n)
    upper = pc.utf8_upper(email)
    title = pc.utf8_title(email)
    spaced = pc.binary_join_element_wise(" ", email, " ", "")
    trailing = pc.binary_join_element_wise(title, " ", "")
    options = [title, upper, spaced, trailing]
    stacked = pa.concat_arrays([o.combine_chunks() if isinstance(o, pa.ChunkedArray) else o for o in options])
    return stacked.take(pa.array(kind * n + np.arange(n)))


def draw_identities(
    rng: np.random.Generator, pop: Population, timeline: Timeline, n_profiles: int, area_codes: np.ndarray
) -> Identities:
    """Identifiers for every person, duplicates and blocked placeholders included.

    ``n_profiles`` is the number of customer rows wanted: people plus duplicate profiles.
    """
    n = len(pop)
    n_dup = n_profiles - n
    first, last, first_vocab = _names(rng, pop.gender)
    email = _emails(rng, first, last, first_vocab, pop.birth_day)
    has_email = rng.random(n) < _EMAIL_GIVEN[pop.group]
    area, subscriber, style = _phones(rng, pop.city, area_codes)
    has_phone = rng.random(n) >= 0.15
    phone = _phone_text(area, subscriber, style)
    # blocked placeholders: a few unrelated people each
    n_blocked = max(3, round(BLOCKED_SHARE * n))
    picks = rng.choice(n, size=2 * n_blocked, replace=False)
    blocked_email, blocked_phone = picks[:n_blocked], picks[n_blocked:]
    blocked = np.zeros(n, dtype=bool)
    blocked[picks] = True
    has_email[blocked_email] = True
    has_phone[blocked_phone] = True
    email_values = email.to_numpy(zero_copy_only=False).astype(object)
    email_values[blocked_email] = BLOCKED_EMAIL
    phone_values = phone.to_numpy(zero_copy_only=False).astype(object)
    phone_values[blocked_phone] = BLOCKED_PHONE
    email = pa.array(email_values, pa.string(), mask=~has_email)
    phone = pa.array(phone_values, pa.string(), mask=~has_phone)
    member = rng.random(n) < _LOYALTY_RATE[pop.group]
    loyalty = col.ids("L", np.where(member, rng.choice(10**9, size=n, replace=False), -1), 9)
    # duplicate profiles: people reachable by e-mail or phone, never by a placeholder
    eligible = np.flatnonzero((has_email | has_phone) & ~blocked)
    dup_people = np.sort(rng.choice(eligible, size=min(n_dup, len(eligible)), replace=False))
    has_dup = np.zeros(n, dtype=bool)
    has_dup[dup_people] = True
    kind = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])  # 0 e-mail, 1 phone, 2 both
    kind = np.where(~has_phone, 0, np.where(~has_email, 1, kind))
    share_email = has_dup & (kind != 1)
    share_phone = has_dup & (kind != 0)
    dup_email = pc.if_else(share_email, _email_variant(rng, email), pa.scalar(None, pa.string()))
    national = _phone_text(area, subscriber, np.where(style == 0, 1 + rng.integers(0, 3, n), 0))
    dup_phone = pc.if_else(share_phone, national, pa.scalar(None, pa.string()))
    remaining = np.maximum(timeline.end_s - pop.join_s, 2 * 3600)
    dup_created = pop.join_s + np.maximum(3600, (remaining * rng.uniform(0.1, 0.95, n)).astype(np.int64))
    dup_created = np.minimum(dup_created, timeline.end_s)
    # number profiles by creation time (ties: main profile first, then person order)
    created = np.concatenate([pop.join_s, dup_created[dup_people]])
    order = np.lexsort((np.arange(len(created)), created))
    number = np.empty(len(created), dtype=np.int64)
    number[order] = np.arange(1, len(created) + 1)
    width = col.id_width(6, len(created))
    dup_number = np.full(n, -1, dtype=np.int64)
    dup_number[dup_people] = number[n:]
    return Identities(
        first_name=col.lookup(first_vocab, first),
        last_name=col.lookup(voc.LAST_NAMES, last),
        email=email,
        phone=phone,
        loyalty_id=loyalty,
        has_email=has_email,
        has_phone=has_phone,
        blocked=blocked,
        customer_number=number[:n],
        customer_id=col.ids("C", number[:n], width),
        dup_number=dup_number,
        has_dup=has_dup,
        dup_created_s=np.where(has_dup, dup_created, -1),
        dup_customer_id=col.ids("C", dup_number, width),
        dup_email=dup_email,
        dup_phone=dup_phone,
        id_width=width,
    )
