"""The dashboard's script and the API agree on one contract: the OpenAPI schema.

``dashboard.js`` declares, in its ``READS`` block, every field it reads from each endpoint's
answer (and refuses, in the browser, to read any other: see ``guard`` there and the browser
tests). Here every declared field must be named by the endpoint's response model in
``app.openapi()``, so renaming a key on either side fails this test.

Regression: the customer page read ``items`` from the recommendations answer, whose key is
``recommendations``, and never showed a recommendation; no test noticed.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from personae.api.app import create_app
from personae.config import Settings

SCRIPT = Path(__file__).resolve().parents[3] / "src" / "personae" / "web" / "static" / "dashboard.js"
TOKEN = re.compile(r"\[\]|\{\}|[^.\[\]{}]+")


def declared_reads(text: str) -> dict[str, list[str]]:
    """The ``READS`` object between the ``// READS:begin`` and ``// READS:end`` lines (strict JSON)."""
    block = text.split("// READS:begin", 1)[1].split("// READS:end", 1)[0]
    reads: dict[str, list[str]] = json.loads(block[block.index("{") : block.rindex("}") + 1])
    return reads


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(tmp_path_factory.mktemp("contract") / "unopened.duckdb", Settings())
    openapi: dict[str, Any] = app.openapi()  # the store is opened by the lifespan only: not here
    return openapi


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and drop the ``null`` branch of an optional field."""
    while True:
        if "$ref" in node:
            node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
            continue
        branches = [b for b in node.get("anyOf", node.get("oneOf", [])) if b.get("type") != "null"]
        if len(branches) == 1:
            node = branches[0]
            continue
        return node


def problems(reads: dict[str, list[str]], spec: dict[str, Any]) -> list[str]:
    """Each declared read the schema does not name, as one line (nothing when all are named)."""
    out = []
    for endpoint, fields in reads.items():
        method, path = endpoint.split(" ", 1)
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            out.append(f"{endpoint}: no such endpoint in the OpenAPI schema")
            continue
        answer = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if "schema" not in answer:
            out.append(f"{endpoint}: no JSON answer in the schema")
            continue
        for field in fields:
            node = answer["schema"]
            for token in TOKEN.findall(field):
                node = _resolve(spec, node)
                if token == "[]":
                    if node.get("type") != "array":
                        out.append(f"{endpoint}: {field}: not a list in the schema")
                        break
                    node = node["items"]
                elif token == "{}":
                    if node.get("type") != "object" or "properties" in node:
                        out.append(f"{endpoint}: {field}: not a map in the schema")
                    break
                else:
                    named = node.get("properties", {})
                    if token not in named:
                        out.append(f"{endpoint}: {field}: the schema names no {token!r} here")
                        break
                    node = named[token]
    return out


def test_every_field_the_dashboard_reads_is_in_the_openapi_schema(schema: dict[str, Any]) -> None:
    reads = declared_reads(SCRIPT.read_text(encoding="utf-8"))
    assert len(reads) >= 12  # every endpoint the pages call
    assert problems(reads, schema) == []


def test_a_key_renamed_in_the_script_fails(schema: dict[str, Any]) -> None:
    reads = declared_reads(SCRIPT.read_text(encoding="utf-8"))
    endpoint = "GET /v1/customers/{customer_id}/recommendations"
    reads[endpoint] = [f.replace("recommendations[]", "items[]") for f in reads[endpoint]]
    assert f"{endpoint}: items[].name: the schema names no 'items' here" in problems(reads, schema)


def test_a_key_renamed_in_the_api_fails(schema: dict[str, Any]) -> None:
    reads = declared_reads(SCRIPT.read_text(encoding="utf-8"))
    renamed = copy.deepcopy(schema)
    step = renamed["components"]["schemas"]["PlaybookStep"]["properties"]
    step["why"] = step.pop("reason")
    nba = "GET /v1/customers/{customer_id}/next-best-action"
    assert problems(reads, renamed) == [f"{nba}: playbooks[].reason: the schema names no 'reason' here"]


def test_a_free_form_answer_cannot_satisfy_the_contract(schema: dict[str, Any]) -> None:
    """An endpoint answering ``dict[str, Any]`` names no field: reading one from it fails."""
    loose = copy.deepcopy(schema)
    operation = loose["paths"]["/v1/dashboard/impact"]["get"]
    operation["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "additionalProperties": True,
    }
    found = problems({"GET /v1/dashboard/impact": ["absent"]}, loose)
    assert found == ["GET /v1/dashboard/impact: absent: the schema names no 'absent' here"]


def test_every_api_call_in_the_script_is_declared() -> None:
    """Each ``api("/v1/…")`` address in the script starts like a declared endpoint's path."""
    text = SCRIPT.read_text(encoding="utf-8")
    reads = declared_reads(text)
    prefixes = {p.split(" ", 1)[1].split("{", 1)[0] for p in reads}
    called = set(re.findall(r'api\("(/v1/[^"?]*)', text))
    assert called, "no api() call found"
    assert {c for c in called if not any(c.startswith(p) or p.startswith(c) for p in prefixes)} == set()
