"""The synthetic data generator: schema contract, CSV conventions, determinism, realism.

One data set of 1500 customers is generated per session and shared (read-only) by most
tests; determinism and Parquet use smaller ones.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from personae import schema
from personae.devtools.generate import GROUP_NAMES, KINDS, generate_dataset
from personae.errors import InputError

END = date(2026, 6, 30)
N = 1500
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BLOCKED = {"unknown@example.com", "0000000000"}


def read(paths: dict[str, Path], kind: str) -> pd.DataFrame:
    """A CSV as text: empty cells are missing, nothing else is converted."""
    return pd.read_csv(paths[kind], dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_dataset(N, seed=7, out_dir=tmp_path_factory.mktemp("gen"))


@pytest.fixture(scope="module")
def data(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {kind: read(paths, kind) for kind in (*KINDS, "truth")}


@pytest.fixture(scope="module")
def orders(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = data["orders"].copy()
    o["ordered_at"] = pd.to_datetime(o["ordered_at"])
    for c in ("quantity", "amount", "discount"):
        o[c] = o[c].astype(float)
    return o.merge(data["truth"], on="customer_id", how="left")


def group_of(data: dict[str, pd.DataFrame]) -> dict[str, str]:
    return dict(zip(data["truth"].customer_id, data["truth"].group, strict=True))


# --- files and the schema contract ------------------------------------------------------


def test_writes_one_file_per_kind_and_truth(paths: dict[str, Path]) -> None:
    assert set(paths) == {*KINDS, "truth"}
    for kind, path in paths.items():
        assert path.exists()
        assert path.name == f"{kind}.csv"
    assert not list(paths["orders"].parent.glob("*.tmp"))


@pytest.mark.parametrize("kind", KINDS)
def test_csv_columns_are_the_canonical_columns_in_order(paths: dict[str, Path], kind: str) -> None:
    header = paths[kind].open().readline().strip().split(",")
    # columns added to the schema later (age, unit_price, rating …) are not generated
    assert tuple(header) == tuple(c.name for c in schema.TABLES[kind].columns if not c.late)


@pytest.mark.parametrize("kind", KINDS)
def test_natural_keys_are_unique(data: dict[str, pd.DataFrame], kind: str) -> None:
    """Ingestion is idempotent on the key: a repeated key would silently drop a row."""
    key = list(schema.TABLES[kind].key)
    assert not data[kind].duplicated(key).any()


def test_required_columns_are_filled(data: dict[str, pd.DataFrame]) -> None:
    for kind in KINDS:
        spec = schema.TABLES[kind]
        frame = data[kind]
        for name in spec.required:
            assert frame[name].notna().all(), f"{kind}.{name} has missing values"
        if spec.at_least_one_of:
            assert frame[list(spec.at_least_one_of)].notna().any(axis=1).all()


def test_csv_conventions(data: dict[str, pd.DataFrame]) -> None:
    for kind in KINDS:
        for column in (c for c in schema.TABLES[kind].columns if not c.late):
            values = data[kind][column.name].dropna()
            if column.type == "timestamp":
                assert values.str.match(TIMESTAMP).all(), f"{kind}.{column.name}"
            elif column.type == "date":
                assert values.str.match(DATE).all(), f"{kind}.{column.name}"
            elif column.type == "bool":
                assert set(values) <= {"true", "false"}, f"{kind}.{column.name}"
            elif column.type == "json":
                assert all(isinstance(json.loads(v), dict) for v in values)
            elif column.type == "float":
                assert pd.to_numeric(values).notna().all()
    interests = data["customers"]["interests"].dropna()
    assert interests.str.contains(";").any()
    assert data["products"]["tags"].dropna().str.contains("team:").any()


def test_enums_and_ids(data: dict[str, pd.DataFrame]) -> None:
    for kind in KINDS:
        for column in schema.TABLES[kind].columns:
            if column.enum:
                assert set(data[kind][column.name].dropna()) <= set(column.enum), column.name
    assert set(data["events"]["type"]) <= set(schema.EVENT_TYPES)
    assert set(data["events"]["type"]) == set(schema.EVENT_TYPES)  # every type occurs
    assert data["customers"]["customer_id"].str.match(r"^C\d{6,}$").all()
    assert data["customers"]["customer_id"].is_unique
    assert data["orders"]["order_id"].str.match(r"^O\d{7,}$").all()
    assert data["events"]["event_id"].str.match(r"^E\d{8,}$").all()
    assert data["events"]["event_id"].is_unique
    assert data["surveys"]["response_id"].is_unique
    assert data["products"]["product_id"].str.match(r"^P\d{5}$").all()
    assert data["stores"]["store_id"].str.match(r"^S\d{3}$").all()


def test_everything_happens_inside_the_window(data: dict[str, pd.DataFrame]) -> None:
    start = pd.Timestamp(END - timedelta(days=round(3 * 365.25) - 1))
    stop = pd.Timestamp(END + timedelta(days=1))
    for kind, column in (
        ("orders", "ordered_at"),
        ("events", "occurred_at"),
        ("surveys", "answered_at"),
        ("consents", "recorded_at"),
        ("customers", "created_at"),
    ):
        t = pd.to_datetime(data[kind][column])
        assert t.min() >= start and t.max() < stop, kind


# --- values ------------------------------------------------------------------------------


def test_orders_are_consistent_with_catalogue_and_customers(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    products = data["products"].set_index("product_id")
    assert orders["customer_id"].isin(data["customers"]["customer_id"]).all()
    assert orders["product_id"].isin(products.index).all()
    assert (orders["category"] == products.loc[orders["product_id"], "category"].values).all()
    assert (orders["amount"] >= 0).all() and (orders["discount"] >= 0).all()
    assert orders["quantity"].isin([1.0, 2.0, 3.0]).all()
    price = products.loc[orders["product_id"], "price"].astype(float).values
    gross = price * orders["quantity"]
    assert ((gross - orders["discount"] - orders["amount"]).abs() < 0.011).all()
    lines = orders.groupby("order_id").size()
    assert lines.between(1, 4).all()
    per_order = orders.groupby("order_id")[["customer_id", "ordered_at", "channel"]].nunique()
    assert (per_order == 1).all().all()
    in_store = orders["channel"] == "store"
    assert orders.loc[in_store, "store_id"].notna().all()
    assert orders.loc[~in_store, "store_id"].isna().all()
    assert orders.loc[in_store, "store_id"].isin(data["stores"]["store_id"]).all()
    assert 0.02 <= orders["returned"].eq("true").mean() <= 0.1
    assert set(orders["channel"]) >= {"web", "app", "store", "marketplace"}


def test_volumes(data: dict[str, pd.DataFrame]) -> None:
    n_lines = len(data["orders"])
    # living groups buy every 30-40 days (their BG/NBD story): ~19 lines a customer in 3 years
    assert 14 <= n_lines / N <= 24
    assert 3 <= len(data["events"]) / n_lines <= 6
    assert 20 <= len(data["stores"]) <= 60
    assert 500 <= len(data["products"]) <= 2000
    responders = data["surveys"]["customer_id"].nunique() / N
    assert 0.25 <= responders <= 0.45
    assert data["surveys"]["customer_id"].value_counts().max() > 1


def test_survey_scores_are_on_their_scales(data: dict[str, pd.DataFrame]) -> None:
    s = data["surveys"].assign(
        score=lambda f: f.score.astype(float), scale_max=lambda f: f.scale_max.astype(float)
    )
    expected = s["kind"].map(schema.DEFAULT_SCALE_MAX)
    assert (s["scale_max"] == expected).all()
    low = s["kind"].map({"nps": 0, "trust": 0, "csat": 1, "ces": 1})
    assert ((s["score"] >= low) & (s["score"] <= s["scale_max"])).all()
    # "email": the relationship NPS the shop e-mails every half year
    assert set(s["touchpoint"]) <= {"checkout", "delivery", "support", "store", "app", "website", "email"}
    assert set(s["kind"]) == {"nps", "ces", "csat", "trust"}
    assert s["comment"].notna().any()


def test_truth_covers_every_customer_with_six_groups(data: dict[str, pd.DataFrame]) -> None:
    truth = data["truth"]
    assert list(truth.columns) == ["customer_id", "group"]
    assert set(truth["customer_id"]) == set(data["customers"]["customer_id"])
    assert set(truth["group"]) == set(GROUP_NAMES)
    assert len(GROUP_NAMES) >= 6
    shares = truth["group"].value_counts(normalize=True)
    assert shares.between(0.1, 0.25).all()


def test_birthdays_are_spread_evenly_and_ages_plausible(data: dict[str, pd.DataFrame]) -> None:
    birth = pd.to_datetime(data["customers"]["birth_date"].dropna())
    end = pd.Timestamp(END)
    age = (end - birth).dt.days / 365.25
    assert age.between(18, 86).all()
    assert birth.dt.year.min() < 1970  # old customers exist (dates before the epoch)
    next_birthday = birth.apply(lambda b: _days_until_birthday(b, end))
    quarters = pd.cut(next_birthday, [-1, 91, 182, 273, 366]).value_counts(normalize=True)
    assert quarters.between(0.18, 0.32).all()


def _days_until_birthday(born: pd.Timestamp, today: pd.Timestamp) -> int:
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February
            day = pd.Timestamp(year, 3, 1)
        if day >= today:
            return (day - today).days
    raise AssertionError("unreachable")


# --- identity challenges -----------------------------------------------------------------


def test_duplicate_profiles_share_an_email_or_phone(data: dict[str, pd.DataFrame]) -> None:
    c = data["customers"]
    email = c["email"].str.strip().str.lower()
    phone = c["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    shared_email = email.notna() & ~email.isin(BLOCKED) & email.duplicated(keep=False)
    shared_phone = phone.notna() & (phone != "0000000000") & phone.duplicated(keep=False)
    duplicated = shared_email | shared_phone
    assert 0.01 <= duplicated.sum() / len(c) <= 0.03  # ~1% profiles, counted in pairs
    # the second address differs in spelling (case or spaces), not in substance
    raw_pairs = c.loc[shared_email, "email"]
    assert raw_pairs.nunique() > email[shared_email].nunique()
    assert (
        c.loc[shared_phone, "phone"].str.startswith("+").groupby(phone[shared_phone]).nunique() == 2
    ).any()
    truth = group_of(data)
    for _, ids in c[shared_email].groupby(email[shared_email])["customer_id"]:
        assert len({truth[i] for i in ids}) == 1  # the same person


def test_blocked_placeholders_are_shared_by_unrelated_people(data: dict[str, pd.DataFrame]) -> None:
    c = data["customers"]
    for column, value in (("email", "unknown@example.com"), ("phone", "0000000000")):
        holders = c[c[column] == value]
        assert len(holders) >= 3
        assert (holders["first_name"] + holders["last_name"]).nunique() >= 2


def test_phones_are_mostly_e164_with_some_national_formats(data: dict[str, pd.DataFrame]) -> None:
    phones = data["customers"]["phone"].dropna()
    e164 = phones.str.match(r"^\+1\d{10}$")
    assert 0.7 <= e164.mean() < 0.97
    assert phones.str.match(r"^\(\d{3}\) \d{3}-\d{4}$").any()
    emails = data["customers"]["email"].dropna()
    assert emails.str.strip().str.lower().duplicated().sum() < 0.03 * len(emails)


def test_anonymous_events_and_logins(data: dict[str, pd.DataFrame]) -> None:
    e = data["events"]
    known = e[["customer_id", "email", "phone", "loyalty_id"]].notna().any(axis=1)
    anonymous = ~known & (e["anonymous_id"].notna() | e["device_id"].notna())
    assert 0.05 <= anonymous.mean() <= 0.15
    logins = e[e["customer_id"].isna() & e["email"].notna() & e["anonymous_id"].notna()]
    assert len(logins) > 0
    # a login ties an anonymous cookie that browsed anonymously to a known e-mail
    browsed = set(e.loc[anonymous, "anonymous_id"])
    assert browsed & set(logins["anonymous_id"])
    assert (e["loyalty_id"].notna() & e["customer_id"].isna()).any()  # card-only visits
    app = e[e["channel"] == "app"]
    assert app["device_id"].notna().mean() > 0.9


def test_events_reference_known_things(data: dict[str, pd.DataFrame]) -> None:
    e = data["events"]
    assert e["customer_id"].dropna().isin(data["customers"]["customer_id"]).all()
    assert e["product_id"].dropna().isin(data["products"]["product_id"]).all()
    views = e[e["type"] == "product_view"]
    assert views["product_id"].notna().all() and views["category"].notna().all()
    search = e[e["type"] == "search"]
    assert search["properties"].map(lambda p: "query" in json.loads(p)).all()
    reviews = e[e["type"] == "review"]
    assert reviews["properties"].map(lambda p: 1 <= json.loads(p)["rating"] <= 5).all()
    support = e[e["type"] == "support_contact"]
    assert set(support["channel"]) <= set(schema.SERVICE_CHANNELS)
    assert support["properties"].map(lambda p: "reason" in json.loads(p)).all()


def test_browsing_precedes_purchases_and_carts_are_abandoned(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    e = data["events"]
    e = e.assign(occurred_at=pd.to_datetime(e["occurred_at"]))
    checkouts = e[e["type"] == "checkout_started"].dropna(subset=["customer_id"])
    web = orders[orders["channel"].isin(["web", "app"])].drop_duplicates("order_id")
    joined = pd.merge_asof(
        web.sort_values("ordered_at"),
        checkouts.sort_values("occurred_at")[["customer_id", "occurred_at"]],
        left_on="ordered_at",
        right_on="occurred_at",
        by="customer_id",
        direction="backward",
        tolerance=pd.Timedelta("10min"),
    )
    assert joined["occurred_at"].notna().mean() > 0.6
    assert (e["type"] == "add_to_cart").sum() > (e["type"] == "checkout_started").sum()


def test_email_is_only_sent_with_consent(data: dict[str, pd.DataFrame]) -> None:
    consents = data["consents"]
    email = (
        consents[consents["purpose"] == "email"]
        .assign(t=lambda f: pd.to_datetime(f.recorded_at))
        .sort_values("t")
    )
    sent = (
        data["events"]
        .query("type == 'email_sent'")
        .assign(t=lambda f: pd.to_datetime(f.occurred_at))
        .sort_values("t")
    )
    latest = pd.merge_asof(
        sent, email[["customer_id", "t", "granted"]], on="t", by="customer_id", direction="backward"
    )
    assert (latest["granted"] == "true").all()


def test_consent_ledger(data: dict[str, pd.DataFrame]) -> None:
    c = data["consents"]
    assert set(c["purpose"]) == set(schema.CONSENT_PURPOSES)
    assert set(c["source"]) <= {"signup", "preference_center", "unsubscribe_link", "store"}
    granted = c.groupby("purpose")["granted"].apply(lambda g: (g == "true").mean())
    assert granted["email"] > granted["sms"]
    opt_outs = c[(c["source"] == "unsubscribe_link") & (c["granted"] == "false")]
    assert opt_outs["purpose"].eq("email").any()
    assert c.duplicated(["customer_id", "purpose", "recorded_at"]).sum() == 0


# --- the latent groups drive behaviour ---------------------------------------------------


def test_one_off_customers_order_exactly_once(data: dict[str, pd.DataFrame], orders: pd.DataFrame) -> None:
    truth = data["truth"]
    one_off = set(truth.loc[truth["group"] == "one_off", "customer_id"])
    counts = orders[orders["customer_id"].isin(one_off)].groupby("customer_id")["order_id"].nunique()
    assert (counts == 1).all()
    assert len(counts) >= 0.97 * len(one_off)  # duplicates of a one-off person have none
    last = orders[orders["customer_id"].isin(one_off)]["ordered_at"].max()
    assert last < pd.Timestamp(END) - pd.Timedelta(days=300)  # long ago


def test_lapsed_customers_have_not_ordered_for_nine_months(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    lapsed = orders[orders["group"] == "lapsed"]
    assert lapsed["ordered_at"].max() < pd.Timestamp(END) - pd.Timedelta(days=274)
    assert lapsed.groupby("customer_id")["order_id"].nunique().median() >= 5


def test_new_customers_joined_recently(data: dict[str, pd.DataFrame], orders: pd.DataFrame) -> None:
    c = data["customers"].merge(data["truth"], on="customer_id")
    new = c[c["group"] == "new"]
    joined = pd.to_datetime(new["created_at"])
    assert (joined > pd.Timestamp(END) - pd.Timedelta(days=125)).all()
    counts = orders[orders["group"] == "new"].groupby("customer_id")["order_id"].nunique()
    assert counts.between(1, 2).all()


def second_profiles(customers: pd.DataFrame) -> set[str]:
    """The later-created profile of each pair sharing an e-mail or a phone (a person's duplicate)."""
    c = customers.assign(
        email_key=customers["email"].str.strip().str.lower(),
        phone_key=customers["phone"].str.replace(r"\D", "", regex=True).str[-10:],
    ).sort_values("created_at")
    later: set[str] = set()
    for key, blocked in (("email_key", BLOCKED), ("phone_key", {"0000000000"})):
        shared = c[c[key].notna() & ~c[key].isin(blocked)]
        later |= set(shared.loc[shared[key].duplicated(keep="first"), "customer_id"])
    return later


def test_omnichannel_enthusiasts_use_several_channels(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    # a person's duplicate profile gets some of their orders (often at a till), so it may
    # have several orders through one channel: the claim is about the person's main profile
    omni = orders[orders["group"] == "omnichannel_enthusiast"]
    omni = omni[~omni["customer_id"].isin(second_profiles(data["customers"]))]
    channels = omni.groupby("customer_id")["channel"].nunique()
    big = omni.groupby("customer_id")["order_id"].nunique() >= 3
    assert (channels[big] >= 2).all()
    assert (channels[big] >= 3).mean() > 0.9
    loyal = orders[orders["group"] == "loyal_high_value"]
    assert loyal.groupby("customer_id")["channel"].nunique().mean() < channels.mean() - 1


def test_groups_differ_in_value_discounts_and_satisfaction(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    per_order = orders.groupby(["group", "order_id"])["amount"].sum().groupby("group").mean()
    assert per_order["loyal_high_value"] > 2 * per_order["bargain_hunter"]
    discounted = orders.assign(d=orders["discount"] > 0).groupby("group")["d"].mean()
    assert discounted["bargain_hunter"] > 0.6
    assert discounted.drop("bargain_hunter").max() < 0.35
    frequency = orders.groupby(["group", "customer_id"])["order_id"].nunique().groupby("group").median()
    assert frequency["loyal_high_value"] >= 6 and frequency["omnichannel_enthusiast"] >= 6
    s = data["surveys"].merge(data["truth"], on="customer_id")
    nps = s[s["kind"] == "nps"].assign(score=lambda f: f.score.astype(float))
    by_group = nps.groupby("group")["score"]
    assert by_group.apply(lambda x: (x >= 9).mean())["loyal_high_value"] > 0.5
    assert by_group.mean()["loyal_high_value"] > by_group.mean()["lapsed"] + 1.5
    e = data["events"].merge(data["truth"], on="customer_id")
    clicks = e[e["type"] == "email_click"].groupby("group").size()
    sent = e[e["type"] == "email_sent"].groupby("group").size()
    rate = clicks / sent
    assert rate["bargain_hunter"] > 2 * rate["lapsed"]


def test_relationship_answers_follow_the_customers_story(
    data: dict[str, pd.DataFrame], orders: pd.DataFrame
) -> None:
    """The e-mailed relationship NPS reaches customers who stopped buying too, and the longer
    they have been silent, the lower they answer: within a group, not only between groups."""
    s = data["surveys"]
    rel = s[s["touchpoint"] == "email"].assign(
        score=lambda f: f.score.astype(float), at=lambda f: pd.to_datetime(f.answered_at)
    )
    assert set(rel["kind"]) == {"nps"} and len(rel) > 50
    assert rel["at"].max() > pd.Timestamp(END) - pd.Timedelta(days=60)  # the later answers too
    placed = orders.drop_duplicates("order_id")[["customer_id", "ordered_at"]].sort_values("ordered_at")
    rel = pd.merge_asof(
        rel.sort_values("at"), placed, left_on="at", right_on="ordered_at", by="customer_id"
    ).merge(data["truth"], on="customer_id")
    rel["silent"] = (rel["at"] - rel["ordered_at"]).dt.days
    long_silent = rel["silent"] > 180
    assert long_silent.any() and (~long_silent).any()
    assert rel.loc[long_silent, "score"].mean() < rel.loc[~long_silent, "score"].mean() - 1
    in_group = rel[rel["group"].isin(["lapsed", "bargain_hunter"])]
    assert stats_corr(in_group["silent"], in_group["score"]) < 0


def stats_corr(x: pd.Series, y: pd.Series) -> float:
    return float(np.corrcoef(x.to_numpy(float), y.to_numpy(float))[0, 1])


def test_problems_lower_satisfaction(data: dict[str, pd.DataFrame]) -> None:
    e = data["events"]
    unhappy = set(e.loc[e["type"].isin(["support_contact", "delivery_failed"]), "customer_id"].dropna())
    s = data["surveys"]
    nps = s[s["kind"] == "nps"].assign(score=lambda f: f.score.astype(float))
    nps = nps.merge(data["truth"], on="customer_id")
    nps["unhappy"] = nps["customer_id"].isin(unhappy)
    by = nps.groupby(["group", "unhappy"])["score"].mean().unstack()
    assert (by[True] < by[False]).sum() >= 4  # within most groups
    support = s[s["touchpoint"] == "support"]
    assert support["kind"].eq("ces").mean() > s["kind"].eq("ces").mean()


# --- determinism, formats, arguments ------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_dataset(300, seed=11, out_dir=tmp_path / "a")
    b = generate_dataset(300, seed=11, out_dir=tmp_path / "b")
    c = generate_dataset(300, seed=12, out_dir=tmp_path / "c")
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    assert a["customers"].read_bytes() != c["customers"].read_bytes()
    assert a["orders"].read_bytes() != c["orders"].read_bytes()


def test_parquet_keeps_types_and_lists(tmp_path: Path) -> None:
    paths = generate_dataset(300, seed=3, out_dir=tmp_path, fmt="parquet")
    assert paths["truth"].suffix == ".csv"
    for kind in KINDS:
        assert paths[kind].suffix == ".parquet"
        table = pq.read_table(paths[kind])
        generated = [c for c in schema.TABLES[kind].columns if not c.late]
        assert tuple(table.column_names) == tuple(c.name for c in generated)
        for column in generated:
            field = table.schema.field(column.name)
            if column.type == "list":
                assert pa.types.is_list(field.type)
            elif column.type == "timestamp":
                assert pa.types.is_timestamp(field.type) and field.type.tz is None
            elif column.type == "bool":
                assert pa.types.is_boolean(field.type)
            elif column.type == "float":
                assert pa.types.is_floating(field.type)
    interests = pq.read_table(paths["customers"]).column("interests").to_pylist()
    assert any(isinstance(v, list) and len(v) > 1 for v in interests)
    again = generate_dataset(300, seed=3, out_dir=tmp_path / "again", fmt="parquet")
    assert again["events"].read_bytes() == paths["events"].read_bytes()


def test_parquet_and_csv_hold_the_same_rows(tmp_path: Path) -> None:
    csv = generate_dataset(200, seed=5, out_dir=tmp_path / "csv")
    parquet = generate_dataset(200, seed=5, out_dir=tmp_path / "pq", fmt="parquet")
    for kind in ("orders", "customers"):
        text = read(csv, kind)
        typed = pq.read_table(parquet[kind]).to_pandas()
        assert len(text) == len(typed)
        assert list(text["customer_id"]) == list(typed["customer_id"])


def test_progress_is_reported(tmp_path: Path) -> None:
    steps: list[tuple[str, float]] = []
    generate_dataset(100, seed=1, out_dir=tmp_path, progress=lambda s, f: steps.append((s, f)))
    assert steps[-1] == ("done", 1.0)
    assert {s for s, _ in steps} >= {"catalogue", "customers", "activity"}
    assert all(0.0 <= f <= 1.0 for _, f in steps)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 10},
        {"seed": -1},
        {"fmt": "xlsx"},
        {"years": 1.0},
    ],
)
def test_bad_arguments_are_input_errors(tmp_path: Path, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"n_customers": 100, "seed": 1, "out_dir": tmp_path}
    args.update(kwargs)
    with pytest.raises(InputError):
        generate_dataset(**args)  # type: ignore[arg-type]


def test_a_bgnbd_fit_of_the_generated_shop_is_identified(orders: pd.DataFrame) -> None:
    """Each group buys by its own BG/NBD story, so the fit on the whole shop is a mixture the
    model can describe: a and b stay finite (the old generator's ran off to ~1e6 and ~1e7)."""
    import warnings

    from personae.clv import BetaGeoModel

    days = orders.assign(day=orders["ordered_at"].dt.floor("D")).groupby("customer_id")["day"]
    first, last, n_days = days.min(), days.max(), days.nunique()
    end = pd.Timestamp(END)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Hessian warning fails the test
        fit = BetaGeoModel().fit(
            (n_days - 1).to_numpy(float),
            (last - first).dt.days.to_numpy(float),
            (end - first).dt.days.to_numpy(float),
        )
    assert fit.degenerate() is None
    assert fit.params_["a"] < 50 and fit.params_["b"] < 2_000
    # the generated lapsed customers leave: a mean dropout chance well above zero
    assert 0.005 < fit.params_["a"] / (fit.params_["a"] + fit.params_["b"]) < 0.2


def test_groups_are_recoverable_by_clustering(data: dict[str, pd.DataFrame], orders: pd.DataFrame) -> None:
    """k-means on log-scaled RFM-style features finds the latent groups (ARI >= 0.8)."""
    cluster = pytest.importorskip("sklearn.cluster")
    metrics = pytest.importorskip("sklearn.metrics")
    end = pd.Timestamp(END) + pd.Timedelta(days=1)
    per_order = orders.groupby("order_id").agg(
        customer_id=("customer_id", "first"),
        at=("ordered_at", "first"),
        channel=("channel", "first"),
        amount=("amount", "sum"),
    )
    by = per_order.groupby("customer_id")
    created = pd.to_datetime(data["customers"].set_index("customer_id")["created_at"])
    features = pd.DataFrame(
        {
            "frequency": np.log1p(by.size()),
            "monetary": np.log1p(by["amount"].mean()),
            "recency": np.log1p((end - by["at"].max()).dt.days),
            "channels": by["channel"].nunique(),
            "discount_share": (orders["discount"] > 0).groupby(orders["customer_id"]).mean(),
        }
    )
    features["tenure"] = np.log1p((end - created.reindex(features.index)).dt.days)
    z = (features - features.mean()) / features.std()
    labels = cluster.KMeans(6, n_init=10, random_state=0).fit_predict(z.to_numpy())
    truth = data["truth"].set_index("customer_id")["group"].reindex(features.index)
    ari = metrics.adjusted_rand_score(truth, labels)
    assert ari >= 0.8
