"""``personae build`` says the lifetime-value parameters with their meaning, not raw."""

from __future__ import annotations

from personae.app.build import describe, left_out_lines, model_in_words

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
    # α / r = 41.91 / 0.2671 = 156.9 days between purchases; a / (a + b) = 0.186
    assert "purchase rate: r 0.27, α 41.91 → a typical customer buys every ~160 days while active" in line
    assert "dropout: a 0.48, b 2.11 → ~19% chance of leaving after each purchase" in line
    # p γ / (q − 1) = 5.086 × 21.25 / 2.995 = 36.1
    assert "spend per order: p 5.09, q 4.00, γ 21.25 → ~36 for a typical order" in line
    assert "alpha 41.9054" not in line and "r 0.2671" not in line


def test_weeks_and_other_models_are_said_too() -> None:
    words, said = model_in_words({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, "W")
    assert words == (
        "purchase rate: r 0.55, α 10.58 → a typical customer buys every ~19 weeks while active; "
        "dropout: s 0.61, β 11.67 → a typical customer leaves at a rate of one per ~19 weeks"
    )
    assert said == {"r", "alpha", "s", "beta"}


def test_a_degenerate_fit_says_what_it_means() -> None:
    line = describe({"customers": 17301, "r": 1.57, "alpha": 146.1, "a": 607766.9, "b": 14744582.4})
    assert "dropout: a 607,767, b 14,744,582 → ~4% chance of leaving after each purchase" in line
    assert "every customer drops out alike" in line


def test_rare_dropout_and_tiny_rates_keep_their_digits() -> None:
    words, _ = model_in_words({"r": 0.9, "alpha": 36.97, "a": 1.2, "b": 53.0})
    assert words == (
        "purchase rate: r 0.90, α 36.97 → a typical customer buys every ~41 days while active; "
        "dropout: a 1.20, b 53.00 → ~2.2% chance of leaving after each purchase"
    )
    assert "<0.1% chance" in model_in_words({"a": 1.0, "b": 5000.0})[0]


def test_the_voice_step_says_both_who_was_not_read_and_who_got_no_traits() -> None:
    result = {
        "texts": 3,
        "left_out": {"unit": "texts", "total": 5, "reasons": {"by people who objected to analytics": 2}},
        "left_out_traits": {"unit": "customers", "total": 2, "reasons": {"who objected to profiling": 1}},
    }
    assert left_out_lines(result) == [
        "3 of 5 texts used; left out 2 by people who objected to analytics",
        "1 of 2 customers used; left out 1 who objected to profiling",
    ]
    assert left_out_lines({"texts": 3}) == [] and left_out_lines(7) == []
