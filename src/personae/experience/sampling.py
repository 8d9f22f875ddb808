"""Stratified random survey samples: how many to ask per segment, and whom.

Sizes follow Cochran: ``n0 = z² · V / e²`` for a margin of error ``e`` at the chosen
confidence, with ``V`` the worst-case variance of what will be estimated (0.25 for a share
such as CSAT or the promoter share, p = ½; 1 for NPS on the −1…1 scale, half promoters and
half detractors), then the finite population correction ``n = n0 / (1 + (n0 − 1) / N)``.

Strata are the segments asked for. A customer in several of them belongs to the **first one
listed**, so strata are disjoint (a stratified design needs that; otherwise a person could be
drawn twice and the weights would be wrong). Two allocations:

* ``segment`` (default): every stratum is sized for its own margin — what a per-segment
  report needs, since each segment's figure must be precise enough to compare;
* ``proportional``: one size for the union of the segments, split in proportion to stratum
  sizes (largest remainders, so the parts add up exactly) — for a precise overall figure.

The frame is who can be drawn. Within a stratum the draw is simple random sampling without
replacement from the *eligible* customers (consent for the channel, an address, not surveyed
recently — decided by the caller), in a fixed id order with a generator seeded by
``(seed, stratum index)``, so the same seed and data give the same sample. So ``N`` above — in
the finite-population correction, the proportional split and the weights — is the number of
eligible customers ``E_h``, not all members: a correction over members who can never be drawn
would promise a precision the draw cannot have. The design weight of a contact is
``E_h / contacts_h``; once the answers are in, each answer stands for ``E_h / answers_h``.
Weighted results speak for the eligible customers of the stratum; the members who could not be
drawn (no consent, surveyed recently) are not represented, and the plan says how many they are.

Not everyone answers. Cochran's ``n`` is a number of *answers*; the invitations sent are
``⌈n / r⌉`` for an expected response rate ``r`` (by default the store's own past rate, see
:func:`personae.app.experience.past_response_rate`). The plan says the margin the expected
answers reach, ``e = z · √(V · (E − n) / (n · (E − 1)))`` (Cochran's formula solved for ``e``),
and the margin if only half as many answer. When fewer customers are eligible than the
invitations needed, everyone eligible is invited and the stratum is flagged ``short``: the
margin will not be met there, and the plan says what it will be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Allocation = Literal["segment", "proportional"]
#: Worst-case variance of the estimate the sample is sized for.
VARIANCE = {"proportion": 0.25, "nps": 1.0}


def sample_size(population: int, margin: float, confidence: float, variance: float = 0.25) -> int:
    """Respondents needed for ``±margin`` at ``confidence`` in a population of ``population``.

    Example:
        ±5 points at 95 % on a proportion: 370 of 10,000 customers, but 80 of only 100
        (the finite-population correction):

        >>> sample_size(10_000, 0.05, 0.95), sample_size(100, 0.05, 0.95)
        (370, 80)
        >>> sample_size(10_000, 0.05, 0.95, variance=VARIANCE["nps"])
        1333
    """
    if not 0 < margin < 1:
        raise ValueError("margin must be between 0 and 1 (e.g. 0.05 for ±5 points)")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1 (e.g. 0.95)")
    if population <= 0:
        return 0
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2)
    n0 = z**2 * variance / margin**2
    n = n0 / (1 + (n0 - 1) / population)
    # the float error of n0 must not add a respondent: 277.99999999 is 278, 278.0000001 is 278
    return min(population, math.ceil(round(n, 9)))


def margin_of_error(
    answers: float, population: int, confidence: float, variance: float = 0.25
) -> float | None:
    """The ± margin ``answers`` answers give in a population of ``population`` (with the
    finite-population correction): :func:`sample_size` solved for the margin. ``None`` with
    no answer; 0 when everyone answered.

    Example:
        278 answers of 1,000 (the sample size for ±5 points at 95 %) reach ±5 points; 139, half
        of them, ±7.7:

        >>> round(margin_of_error(278, 1000, 0.95), 4), round(margin_of_error(139, 1000, 0.95), 4)
        (0.05, 0.0772)
    """
    if answers <= 0 or population <= 0:
        return None
    if answers >= population:
        return 0.0
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2)
    fpc = (population - answers) / (population - 1) if population > 1 else 0.0
    return float(z * math.sqrt(variance * fpc / answers))


def assign_strata(memberships: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """``customer_id, stratum``: each customer in the first of ``order`` they belong to."""
    rank = {name: i for i, name in enumerate(order)}
    m = memberships[memberships["segment"].isin(rank)].copy()
    m["_rank"] = m["segment"].map(rank)
    m = m.sort_values(["customer_id", "_rank"], kind="mergesort").drop_duplicates("customer_id")
    return m.rename(columns={"segment": "stratum"})[["customer_id", "stratum"]].reset_index(drop=True)


def allocate(
    populations: Mapping[str, int],
    margin: float,
    confidence: float,
    *,
    allocation: Allocation = "segment",
    variance: float = 0.25,
) -> dict[str, int]:
    """Respondents wanted per stratum (before any cap by the eligible customers)."""
    if allocation == "segment":
        return {h: sample_size(n, margin, confidence, variance) for h, n in populations.items()}
    if allocation != "proportional":
        raise ValueError(f"unknown allocation {allocation!r} (segment or proportional)")
    total_pop = sum(populations.values())
    total = sample_size(total_pop, margin, confidence, variance)
    if total_pop == 0:
        return dict.fromkeys(populations, 0)
    exact = {h: total * n / total_pop for h, n in populations.items()}
    out = {h: math.floor(x) for h, x in exact.items()}
    leftover = total - sum(out.values())
    for h in sorted(exact, key=lambda k: (-(exact[k] - out[k]), list(populations).index(k)))[:leftover]:
        out[h] += 1
    return out


@dataclass(frozen=True)
class StratumPlan:
    """What was drawn in one stratum and why.

    ``population``: members; ``eligible``: who could be drawn (the frame, the ``N`` of the
    correction and the weights); ``wanted``: answers needed for the margin; ``contacts``:
    invitations (``wanted / response_rate``, capped at ``eligible``); ``expected_answers``:
    ``contacts × response_rate``; the margins those answers (or half of them) reach.
    """

    stratum: str
    population: int
    eligible: int
    wanted: int
    contacts: int
    expected_answers: float
    expected_margin: float | None
    margin_if_half_answer: float | None
    weight: float | None
    short: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SurveySample:
    plan: list[StratumPlan]
    sample: pd.DataFrame  # customer_id, stratum, weight
    #: the margin of the stratified estimate over every stratum, at the expected answers and at
    #: half of them (``None`` without any contact)
    overall_margin: float | None = None
    overall_margin_if_half_answer: float | None = None


def stratified_margin(
    strata: Sequence[tuple[int, float]], confidence: float, variance: float = 0.25
) -> float | None:
    """Margin of the estimate over all strata (each weighted by its share of the frame), from
    ``(eligible, answers)`` per stratum: ``z · √(Σ W_h² · V · (E_h − n_h) / (n_h · (E_h − 1)))``.

    Example:
        Two strata of 1,000 with 278 answers each: ±3.5 points overall (each alone is ±5):

        >>> round(stratified_margin([(1000, 278), (1000, 278)], 0.95), 4)
        0.0353
    """
    total = sum(e for e, _ in strata)
    if total <= 0 or any(e > 0 and n <= 0 for e, n in strata):
        return None
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2)
    var = 0.0
    for e, n in strata:
        if e <= 0 or n >= e:
            continue
        var += (e / total) ** 2 * variance * ((e - n) / (e - 1) if e > 1 else 0.0) / n
    return float(z * math.sqrt(var))


def draw_sample(
    frame: pd.DataFrame,
    order: Sequence[str],
    margin: float,
    confidence: float,
    *,
    response_rate: float,
    allocation: Allocation = "segment",
    variance: float = 0.25,
    seed: int = 0,
) -> SurveySample:
    """Draw the stratified sample.

    Args:
        frame: ``customer_id, stratum, eligible`` — every member of every stratum (one row per
            customer, see :func:`assign_strata`), ``eligible`` saying who may be contacted.
        order: the strata, in the order to report (and to seed) them.
        response_rate: expected share of the invited who answer; contacts = wanted answers /
            rate, so the number of *answers* meets the margin.
    """
    if not 0 < response_rate <= 1:
        raise ValueError("response rate must be in (0, 1]")
    pops = {h: int((frame["stratum"] == h).sum()) for h in order}
    ids_of = {
        h: np.sort(frame.loc[(frame["stratum"] == h) & frame["eligible"], "customer_id"].to_numpy(dtype=str))
        for h in order
    }
    frames = {h: len(ids_of[h]) for h in order}
    wanted = allocate(frames, margin, confidence, allocation=allocation, variance=variance)
    plans, parts = [], []
    for i, h in enumerate(order):
        ids, eligible = ids_of[h], frames[h]
        need = math.ceil(round(wanted[h] / response_rate, 9))
        take = min(need, eligible)
        chosen = np.random.default_rng([seed, i]).choice(ids, size=take, replace=False) if take else ids[:0]
        weight = eligible / take if take else None
        answers = take * response_rate
        plans.append(
            StratumPlan(
                h,
                pops[h],
                eligible,
                wanted[h],
                take,
                answers,
                margin_of_error(answers, eligible, confidence, variance),
                margin_of_error(answers / 2, eligible, confidence, variance),
                weight,
                take < need,
            )
        )
        parts.append(pd.DataFrame({"customer_id": np.sort(chosen), "stratum": h, "weight": weight}))
    sample = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["customer_id", "stratum", "weight"])
    )
    reached = [(p.eligible, p.expected_answers) for p in plans]
    return SurveySample(
        plans,
        sample,
        stratified_margin(reached, confidence, variance),
        stratified_margin([(e, n / 2) for e, n in reached], confidence, variance),
    )
