"""Validation: columns mapped, values typed, every problem given a reason a person can read."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from personae.app.ingest.readers import read_file
from personae.app.ingest.validate import ValidatedBatch, validate
from personae.errors import InputError, MissingColumnsError
from personae.schema import TABLES


@pytest.fixture
def check(write_text):
    """``check(kind, csv_text, **validate_kwargs) -> ValidatedBatch``."""

    def run(kind: str, text: str, name: str = "f.csv", **kw) -> ValidatedBatch:
        return validate(read_file(write_text(name, text)), TABLES[kind], **kw)

    return run


def reasons(result: ValidatedBatch) -> dict[int, str]:
    return dict(zip(result.rejects["line"], result.rejects["reason"], strict=True))


ORDER_HEADER = "order_id,customer_id,ordered_at,channel,quantity,amount,returned\n"


def test_valid_rows_are_typed(check) -> None:
    out = check(
        "orders", ORDER_HEADER + "O1,C1,2024-03-31T14:05:00,WEB,2,19.99,yes\nO2,C2,2024-04-01,store,,5,0\n"
    )
    assert out.rejects.empty
    f = out.frame
    assert f["ordered_at"].tolist() == [datetime(2024, 3, 31, 14, 5), datetime(2024, 4, 1)]
    assert f["channel"].tolist() == ["web", "store"]  # enums are lower-cased
    assert f["amount"].tolist() == [19.99, 5.0]
    assert f["quantity"].iloc[0] == 2.0 and pd.isna(f["quantity"].iloc[1])
    assert f["returned"].tolist() == [True, False]
    assert f["_source_line"].tolist() == [2, 3]


def test_timestamps_with_offsets_are_stored_in_utc(check) -> None:
    out = check("orders", ORDER_HEADER + "O1,C1,2024-03-31T14:05:00+02:00,web,1,1,\n")
    assert out.frame["ordered_at"].tolist() == [datetime(2024, 3, 31, 12, 5)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("O1,C1,2024-13-45,web,1,1,", "ordered_at: cannot read '2024-13-45' as a date/time"),
        ("O1,C1,yesterday,web,1,1,", "ordered_at: cannot read 'yesterday' as a date/time"),
        ("O1,C1,2024-01-01,web,1,12;50,", "amount: cannot read '12;50' as a number"),
        ("O1,C1,2024-01-01,web,one,1,", "quantity: cannot read 'one' as a number"),
        ("O1,,2024-01-01,web,1,1,", "customer_id: required value is missing"),
        ("O1,C1,,web,1,1,", "ordered_at: required value is missing"),
        ("O1,C1,2024-01-01,web,1,,", "amount: required value is missing"),
        (
            "O1,C1,2024-01-01,fax,1,1,",
            "channel: unknown value 'fax' (allowed: web, app, store, phone, marketplace)",
        ),
        ("O1,C1,2024-01-01,web,1,1,maybe", "returned: cannot read 'maybe' as true/false"),
    ],
)
def test_each_problem_has_a_readable_reason(check, row: str, reason: str) -> None:
    out = check("orders", ORDER_HEADER + "O0,C0,2024-01-01,web,1,1,\n" + row + "\n")
    assert len(out.frame) == 1
    assert list(out.rejects["line"]) == [3]
    assert reason in out.rejects["reason"].iloc[0]
    assert out.rejects["raw"].iloc[0] == row


def test_all_reasons_of_a_row_are_reported_together(check) -> None:
    out = check("orders", ORDER_HEADER + "O1,,someday,fax,abc,abc,\n")
    reason = reasons(out)[2]
    for part in (
        "customer_id: required",
        "ordered_at: cannot read",
        "channel: unknown value",
        "quantity: cannot read 'abc'",
        "amount: cannot read 'abc'",
    ):
        assert part in reason
    assert reason.count("; ") == 4


def test_structural_rejects_are_merged_in_line_order(check) -> None:
    out = check("orders", ORDER_HEADER + "O1,C1,2024-01-01,web,1,1,\nO2,C1\nO3,C1,bad,web,1,1,\n")
    assert list(out.rejects["line"]) == [3, 4]
    assert out.rejects["reason"].iloc[0].startswith("wrong number of fields")


def test_date_format_option(check) -> None:
    out = check(
        "orders", ORDER_HEADER + "O1,C1,20240131,web,1,1,\nO2,C1,2024-01-31,web,1,1,\n", date_format="%Y%m%d"
    )
    assert out.frame["ordered_at"].tolist() == [datetime(2024, 1, 31)]
    assert "(expected %Y%m%d)" in reasons(out)[3]


def test_date_columns_drop_the_time(check) -> None:
    out = check("customers", "customer_id,birth_date\nC1,1990-02-03T10:11:12\n")
    assert out.frame["birth_date"].tolist() == [datetime(1990, 2, 3)]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("F", "female"),
        ("woman", "female"),
        ("M", "male"),
        ("non-binary", "non_binary"),
        ("Other", "other"),
    ],
)
def test_gender_synonyms(check, given: str, expected: str) -> None:
    out = check("customers", f"customer_id,gender\nC1,{given}\n")
    assert out.frame["gender"].tolist() == [expected]


def test_lists_json_and_identifiers_are_normalised(check) -> None:
    text = (
        "customer_id,email,phone,interests,preferences\n"
        'C1, Ann@Example.COM ,(555) 123-4567,running; yoga ;,"{""size"": ""M""}"\n'
        'C2,,,"[""a"", ""b""]",\n'
    )
    f = check("customers", text).frame
    assert f["email"].tolist() == ["ann@example.com", None]
    assert f["phone"].tolist() == ["+15551234567", None]
    assert f["interests"].tolist() == [["running", "yoga"], ["a", "b"]]
    assert json.loads(f["preferences"].iloc[0]) == {"size": "M"}


def test_phones_use_the_default_country_code(check) -> None:
    f = check("customers", "customer_id,phone\nC1,020 7946 0958\n", default_country_code="44").frame
    assert f["phone"].tolist() == ["+442079460958"]


@pytest.mark.parametrize("value", ['"{oops"', '"[1, 2]"', "42", '"""just text"""'])
def test_json_columns_must_hold_an_object(check, value: str) -> None:
    out = check("events", f"customer_id,occurred_at,type,properties\nC1,2024-01-01,page_view,{value}\n")
    assert reasons(out)[2] == "properties: not a valid JSON object"


def test_extra_columns_are_kept_as_json(check) -> None:
    out = check("stores", "store_id,name,Manager,opened\nS1,Main,Kim,2001\nS2,Side,,\n")
    assert json.loads(out.frame["properties_extra"].iloc[0]) == {"Manager": "Kim", "opened": "2001"}
    assert out.frame["properties_extra"].iloc[1] is None  # nothing extra on that row


def test_column_names_match_ignoring_case_spaces_and_dashes(check) -> None:
    out = check("orders", "Customer ID,ORDERED-AT,Amount\nC1,2024-01-01,3\n")
    assert out.frame["customer_id"].tolist() == ["C1"]
    assert out.frame["properties_extra"].tolist() == [None]


def test_explicit_mapping(check) -> None:
    out = check(
        "orders",
        "cust,when,dollars,amount\nC1,2024-01-01,3,99\n",
        mapping={"customer_id": "cust", "ordered_at": "when", "amount": "dollars"},
    )
    assert out.frame["amount"].tolist() == [3.0]
    # the unmapped "amount" column of the file is kept as an extra, not silently used
    assert json.loads(out.frame["properties_extra"].iloc[0]) == {"amount": "99"}


def test_missing_columns_error_names_missing_and_found(check) -> None:
    with pytest.raises(MissingColumnsError) as info:
        check("orders", "cust,amount\nC1,3\n", name="o.csv")
    err = info.value
    assert err.missing == ["customer_id", "ordered_at"]
    assert err.found == ["cust", "amount"]
    assert "missing required column(s) customer_id, ordered_at" in str(err)
    assert "found columns: cust, amount" in str(err)
    assert "--map" in str(err)


def test_events_need_at_least_one_identifier_column(check) -> None:
    with pytest.raises(MissingColumnsError, match="customer_id or email or phone"):
        check("events", "occurred_at,type\n2024-01-01,page_view\n")


def test_mapping_errors(check) -> None:
    with pytest.raises(InputError, match="unknown orders column"):
        check("orders", "customer_id,ordered_at,amount\nC1,2024-01-01,3\n", mapping={"dollars": "amount"})
    with pytest.raises(InputError, match="that the file lacks"):
        check("orders", "customer_id,ordered_at,amount\nC1,2024-01-01,3\n", mapping={"amount": "dollars"})


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("R1,C1,2024-01-01,nps,11,", "score: 11 is above the top of the scale 10"),
        ("R1,C1,2024-01-01,csat,6,", "score: 6 is above the top of the scale 5"),
        ("R1,C1,2024-01-01,custom,7,5", "score: 7 is above the top of the scale 5"),
        ("R1,C1,2024-01-01,vibes,1,", "kind: unknown value 'vibes'"),
        ("R1,C1,2024-01-01,nps,-1,", "score: must be at least 0"),
    ],
)
def test_survey_rules(check, row: str, reason: str) -> None:
    out = check("surveys", "response_id,customer_id,answered_at,kind,score,scale_max\n" + row + "\n")
    assert reason in reasons(out)[2]


def test_survey_scale_defaults_by_kind(check) -> None:
    text = (
        "customer_id,answered_at,kind,score,scale_max\n"
        "C1,2024-01-01,nps,10,\nC1,2024-01-01,csat,5,\nC1,2024-01-01,ces,7,\nC1,2024-01-01,custom,3,4\n"
    )
    out = check("surveys", text)
    assert out.rejects.empty
    assert out.frame["scale_max"].tolist() == [10.0, 5.0, 7.0, 4.0]


def test_event_without_any_identifier_is_rejected(check) -> None:
    out = check("events", "customer_id,email,anonymous_id,occurred_at,type\n,,,2024-01-01,page_view\n")
    assert reasons(out)[2].startswith("no identifier: needs one of customer_id, email")


def test_typed_jsonl_values(write_text) -> None:
    path = write_text(
        "o.jsonl",
        json.dumps(
            {
                "order_id": 7,
                "customer_id": 1,
                "ordered_at": "2024-01-01T00:00:00Z",
                "amount": 2.5,
                "returned": False,
                "quantity": "3",
            }
        )
        + "\n"
        + json.dumps({"customer_id": 2, "ordered_at": "2024-01-01", "amount": True})
        + "\n",
    )
    out = validate(read_file(path), TABLES["orders"])
    assert out.frame["customer_id"].tolist() == ["1"]
    assert out.frame["order_id"].tolist() == ["7"]
    assert out.frame["returned"].tolist() == [False]
    assert out.frame["quantity"].tolist() == [3.0]
    assert "amount: cannot read 'True' as a number" in reasons(out)[2]


# -- real shop exports: unit prices, returns, ratings, ages, list separators, date window ---------


def test_amount_is_quantity_times_unit_price_when_absent(check) -> None:
    out = check(
        "orders",
        "customer_id,ordered_at,quantity,unit_price,amount\nC1,2024-01-01,3,2.5,\nC1,2024-01-02,3,2.5,7\n",
    )
    assert out.rejects.empty
    assert out.frame["amount"].tolist() == [7.5, 7.0]  # a given amount wins


def test_without_amount_or_unit_price_the_row_is_rejected(check) -> None:
    out = check("orders", "customer_id,ordered_at,quantity,unit_price\nC1,2024-01-01,3,\n")
    assert reasons(out) == {2: "amount: required value is missing"}


def test_without_amount_and_unit_price_columns_the_file_fails_fast(check) -> None:
    with pytest.raises(MissingColumnsError, match=r"amount \(or quantity and unit_price\)"):
        check("orders", "customer_id,ordered_at,quantity\nC1,2024-01-01,3\n")


def test_a_negative_quantity_or_amount_is_a_return(check) -> None:
    text = "order_id,customer_id,ordered_at,quantity,unit_price,amount\n"
    text += "C1,C1,2024-01-01,-2,2.1,\nC2,C1,2024-01-01,2,,-9.5\nC3,C1,2024-01-01,1,,3\n"
    out = check("orders", text)
    assert out.rejects.empty
    f = out.frame
    assert f["quantity"].tolist() == [-2, -2, 1]
    assert f["amount"].tolist() == pytest.approx([-4.2, -9.5, 3.0])
    assert f["returned"].tolist() == [True, True, None]


def test_rating_is_checked_against_its_scale(check) -> None:
    text = "customer_id,ordered_at,amount,rating,rating_max\n"
    text += "C1,2024-01-01,0,4.5,\nC1,2024-01-01,0,9,10\nC1,2024-01-01,0,6,\n"
    text += "C1,2024-01-01,0,-1,\nC1,2024-01-01,0,,\n"
    out = check("orders", text)
    assert reasons(out) == {
        4: "rating: 6 is above the top of the scale 5",
        5: "rating: must be at least 0, got -1",
    }
    assert out.frame["rating_max"].tolist()[:2] == [5.0, 10.0]
    assert pd.isna(out.frame["rating_max"].iloc[2])  # no rating, no scale


def test_rating_max_can_be_set_for_the_whole_file(check) -> None:
    out = check(
        "orders", "customer_id,ordered_at,amount,rating\nC1,2024-01-01,0,9\n", constants={"rating_max": "10"}
    )
    assert out.rejects.empty and out.frame["rating_max"].tolist() == [10.0]


def test_age_becomes_an_approximate_birth_year(check) -> None:
    year = datetime.now().year
    text = "customer_id,age,birth_date\nA,34,\nB,34,1990-05-01\nC,-3,\nD,130,\nE,,\n"
    out = check("customers", text)
    assert reasons(out) == {4: "age: must be at least 0, got -3", 5: "age: must be at most 120, got 130"}
    f = out.frame.set_index("customer_id")
    assert f.loc["A", "birth_year"] == year - 34  # this year minus the completed years
    assert pd.isna(f.loc["B", "birth_year"])  # a real birth date says more
    assert pd.isna(f.loc["E", "birth_year"])


def test_list_sep_splits_list_columns_and_a_products_category(check) -> None:
    movies = "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n2,Heat (1995),Action\n"
    out = check(
        "products",
        movies,
        mapping={"product_id": "movieId", "name": "title", "category": "genres"},
        list_sep="|",
    )
    f = out.frame
    assert f["category"].tolist() == ["Adventure", "Action"]
    assert f["tags"].tolist() == [["Adventure", "Animation", "Children"], None]
    people = check("customers", "customer_id,interests\nA,outdoor|fitness\n", list_sep="|")
    assert people.frame["interests"].tolist() == [["outdoor", "fitness"]]
    default = check("customers", "customer_id,interests\nA,outdoor;fitness\n")
    assert default.frame["interests"].tolist() == [["outdoor", "fitness"]]


def test_the_plausible_date_window_comes_from_the_settings(check) -> None:
    from datetime import date

    from personae.config.ingest import IngestSettings

    text = ORDER_HEADER + "O1,C1,1880-05-01,web,1,1,\n"
    assert 2 in reasons(check("orders", text))
    wide = IngestSettings(earliest_date=date(1850, 1, 1))
    assert check("orders", text, settings=wide).rejects.empty
    soon = ORDER_HEADER + "O1,C1,2099-01-01,web,1,1,\n"
    assert check("orders", soon, settings=IngestSettings(latest_days_ahead=36_500)).rejects.empty
    assert "outside the plausible dates 1900-01-01 to" in reasons(check("orders", soon))[2]


def test_an_unnamed_first_column_can_be_mapped_and_is_named_in_errors(check) -> None:
    reviews = ",Clothing ID,Rating\n0,767,4\n"
    with pytest.raises(MissingColumnsError, match="found columns: column_1, Clothing ID, Rating"):
        check("events", reviews)
    out = check(
        "events",
        reviews,
        mapping={"customer_id": "column_1", "product_id": "Clothing ID"},
        constants={"type": "review", "occurred_at": "2024-01-01"},
    )
    assert out.rejects.empty and out.frame["customer_id"].tolist() == ["0"]
