"""``personae build`` says the lifetime-value parameters with their meaning, not raw."""

from __future__ import annotations

from personae.app.build import describe, model_in_words

# CDNOW master file, days (personae build, as of 1998-06-30)
CDNOW = {
    "customers": 23570,
    "r": 0.2671,
    "alpha": 41.9054,
    "a": 0.4835,
    "b": 2.1116,
    "gg_p": 5.086,
    "gg_q": 3.9951,
    "gg_gamma": 21.2522,
    "penalizer": 0.0,
}


def test_the_build_line_gives_means_not_raw_parameters() -> None:
    line = describe(CDNOW)
    assert line.startswith("customers 23570, penalizer 0.0, ")
    assert "r=0.27, α=42: purchase rate ~ Gamma, mean 0.0064/day" in line
    assert "a=0.48, b=2.1: chance to drop out after a purchase ~ Beta, mean 0.19" in line
    assert "spend per order ~ Gamma-Gamma, mean 36" in line  # p γ / (q − 1) = 5.086 × 21.25 / 2.995
    assert "alpha 41.9054" not in line and "r 0.2671" not in line


def test_weeks_and_other_models_are_said_too() -> None:
    words, said = model_in_words({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, "W")
    assert words == (
        "r=0.55, α=11: purchase rate ~ Gamma, mean 0.052/week; "
        "s=0.61, β=12: drop-out rate ~ Gamma, mean 0.052/week"
    )
    assert said == {"r", "alpha", "s", "beta"}


def test_a_degenerate_fit_says_what_it_means() -> None:
    line = describe({"customers": 17301, "r": 1.57, "alpha": 146.1, "a": 607766.9, "b": 14744582.4})
    assert "a=607,767, b=14,744,582" in line
    assert "every customer drops out alike" in line
