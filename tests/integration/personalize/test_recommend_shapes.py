"""Recommendations on the shapes real shops have: no product ids, re-buyers, ratings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from personae.app import recommend as recommending
from personae.cli import main
from personae.config.personalize import RecommendSettings
from personae.personalize.models import EASE
from personae.store import DuckDBStore


def _personae(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    """``personae ARGS`` as the console script runs it: exit code, stdout, stderr."""
    saved = sys.argv
    sys.argv = ["personae", "--quiet", "--db", str(db), *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    out = capsys.readouterr()
    return code, out.out, out.err


def _shop(tmp_path: Path, capsys: pytest.CaptureFixture[str], csv: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(csv, encoding="utf-8")
    db = tmp_path / "shop.duckdb"
    for args in (("ingest", "orders", str(path)), ("build",)):
        code, out, err = _personae(capsys, db, *args)
        assert code == 0, out + err
    return db


def test_a_shop_without_product_ids_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CDNOW's shape: orders with amounts and no product: one line with a hint, no traceback."""
    rows = ["customer_id,ordered_at,amount"] + [
        f"C{c},2024-0{m}-1{c % 9},{10 + c + m}.5" for c in range(1, 30) for m in range(1, 5)
    ]
    db = _shop(tmp_path, capsys, "\n".join(rows) + "\n")
    for args in (
        ("recommend", "C1"),
        ("recommend", "evaluate"),
        ("recommend", "tune"),
        ("recommend", "export"),
    ):
        code, out, err = _personae(capsys, db, *args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code != 0, args
        assert "Traceback" not in out + err
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
        assert "names a product" in lines[0] and "product_id" in lines[0]


def _rebuyers(n: int = 120, seed: int = 0) -> str:
    """A grocery: each customer re-buys their own few staples week after week, plus a novelty."""
    rng = np.random.default_rng(seed)
    rows = ["order_id,customer_id,ordered_at,product_id,amount"]
    for c in range(n):
        staples = rng.choice(40, size=3, replace=False)
        for week in range(10):
            day = f"2024-{1 + week // 4:02d}-{1 + 7 * (week % 4):02d}"
            items = [*rng.choice(staples, size=2, replace=False), int(rng.integers(40, 60))]
            for p in dict.fromkeys(items):
                rows.append(f"O{c}-{week},C{c},{day},P{p},4.5")
    return "\n".join(rows) + "\n"


def test_a_repurchase_shop_gets_the_repurchase_protocol_and_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _shop(tmp_path, capsys, _rebuyers())
    with DuckDBStore.open(db) as store:
        result = recommending.evaluate(store, RecommendSettings(), k=5)
        # a catalogue too large for EASE: EASE is said to be skipped, the rest still runs
        monkeypatch.setattr(EASE, "max_items", 10)
        big = recommending.evaluate(
            store, RecommendSettings(), k=5, models=("popularity", "ease", "personae")
        )
    assert "too many" in big["models_skipped"]["ease"]
    assert [m["model"] for m in big["models"]] == ["popularity", "personae"]
    assert big["models"][1]["chosen"]["model"] != "ease"
    assert result["protocol"] == "repurchase" and result["repeat_share"] > 0.3
    by = {m["model"]: m for m in result["models"]}
    default = by[recommending.DEFAULT]
    # re-buys are the answers here: the repurchase score finds them, the item models cannot
    assert default["chosen"]["repeat_weight"] > 0
    assert default["ndcg"] > 1.5 * max(by[m]["ndcg"] for m in ("popularity", "als", "item_knn", "ease"))


def test_new_customers_get_bestsellers_labelled_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _rebuyers(60)
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,created_at\nNEW1,2024-03-01\n", encoding="utf-8")
    db = _shop(tmp_path, capsys, csv)
    code, out, err = _personae(capsys, db, "ingest", "customers", str(path))
    assert code == 0, out + err
    code, out, err = _personae(capsys, db, "build")
    assert code == 0, out + err
    with DuckDBStore.open(db) as store:
        ctx = recommending.fit_context(store, RecommendSettings())
        recs = recommending.recommend_one(ctx, "NEW1", 5)
    assert len(recs) == 5
    assert all(r["reason"].startswith("popular") for r in recs), recs


def _raters(n: int = 80, seed: int = 1) -> str:
    """Films rated over time: two tastes, each person rating films of theirs high and others low."""
    rng = np.random.default_rng(seed)
    rows = ["order_id,customer_id,ordered_at,product_id,amount,rating,rating_max"]
    for c in range(n):
        taste = c % 2
        films = rng.choice(30, size=12, replace=False)
        for t, f in enumerate(films):
            mine = (f % 2) == taste
            stars = int(rng.integers(8, 11)) if mine else int(rng.integers(1, 5))
            day = f"2024-{1 + t // 4:02d}-{1 + 7 * (t % 4):02d}"
            rows.append(f"O{c}-{t},C{c},{day},F{f},0,{stars},10")
    return "\n".join(rows) + "\n"


def test_ratings_grade_relevance_on_five_stars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Orders' `rating` of `rating_max` (here out of 10) on five stars: relevant from 4★, gain = stars."""
    db = _shop(tmp_path, capsys, _raters())
    with DuckDBStore.open(db) as store:
        inter = recommending.load_interactions(store, recommending.traits_as_of(store))
        stars = recommending.load_stars(store, recommending.traits_as_of(store), inter)
        result = recommending.evaluate(store, RecommendSettings(), k=5)
    assert stars is not None and stars.data.min() > 0 and stars.data.max() <= 5.0
    assert set(np.round(stars.data * 2) / 2) <= {x / 2 for x in range(1, 11)}
    assert result["rated"] and result["relevance"].startswith("rated 4 of 5")
    # people whose held-out films were all disliked are left out, and said so
    assert any("rated 4 of 5" in why for why in result["left_out"]["reasons"])
    by = {m["model"]: m for m in result["models"]}
    # the stars tell the two tastes apart: the default, which learns from them, finds the liked films
    assert by[recommending.DEFAULT]["ndcg"] > by["popularity"]["ndcg"]
