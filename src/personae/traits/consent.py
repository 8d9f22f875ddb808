"""Consent traits: one flag per purpose, from the ledger (latest decision wins).

No recorded decision means no consent (``False``): personae never assumes permission.
The consent *gate* that every feature goes through is built on these flags.
"""

from __future__ import annotations

import ibis

from personae.schema import CONSENT_PURPOSES
from personae.traits.inputs import TraitInputs


def latest_consents(inputs: TraitInputs) -> ibis.Table:
    c = inputs.consents
    # order key: the decision time, then the order it was ingested/listed in
    aggs = {f"consent_{p}": c.granted.argmax(c.recorded_at, where=c.purpose == p) for p in CONSENT_PURPOSES}
    return c.group_by("customer_id").aggregate(**aggs)


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    return {f"consent_{p}": t[f"consent_{p}"].fill_null(False) for p in CONSENT_PURPOSES}
