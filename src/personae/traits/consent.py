"""Consent traits: one flag per purpose, from the ledger (latest decision wins).

A missing decision is decided by the default policy (``traits.consent_defaults``): opt-in
(no record = no consent) or opt-out (no record = consent), per purpose, by country or region.
A purpose the settings do not name follows the built-in policy: analytics, profiling and
personalization are allowed until the person objects (legitimate interest), marketing contact
(email, sms, push) needs a recorded yes. A recorded decision, an objection above all, always
wins. The consent *gate*
(:mod:`personae.privacy.consent`) that every feature goes through is built on these flags.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from personae.config.traits import BUILT_IN_CONSENT_DEFAULTS
from personae.schema import CONSENT_PURPOSES
from personae.traits.inputs import TraitInputs


def latest_consents(inputs: TraitInputs) -> ibis.Table:
    c = inputs.consents
    # order key: the decision time, then the order it was ingested/listed in
    aggs = {f"consent_{p}": c.granted.argmax(c.recorded_at, where=c.purpose == p) for p in CONSENT_PURPOSES}
    return c.group_by("customer_id").aggregate(**aggs)


def default_policy(
    defaults: Mapping[str, Mapping[str, str]], purpose: str, country: ibis.Value, region: ibis.Value
) -> ibis.BooleanValue:
    """Whether a missing decision counts as consent, for each customer (country > region > '*')."""
    value: ibis.BooleanValue = ibis.literal(_general(defaults, purpose))
    # least specific first: each more specific match overrides
    for key, per_purpose in sorted(defaults.items()):
        if key == "*" or purpose not in per_purpose:
            continue
        opted_out = ibis.literal(per_purpose[purpose] == "opt-out")
        value = ibis.ifelse(region.fill_null("") == key, opted_out, value)
    for key, per_purpose in sorted(defaults.items()):
        if key == "*" or purpose not in per_purpose:
            continue
        opted_out = ibis.literal(per_purpose[purpose] == "opt-out")
        value = ibis.ifelse(country.fill_null("").upper() == key.upper(), opted_out, value)
    return value


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    defaults = inputs.settings.consent_defaults
    return {
        f"consent_{p}": t[f"consent_{p}"].fill_null(default_policy(defaults, p, t.country, t.region))
        for p in CONSENT_PURPOSES
    }


def default_flags(defaults: Mapping[str, Mapping[str, str]]) -> dict[str, bool]:
    """The consent flags of someone with no recorded decision and no known country or region
    (the ``'*'`` policy, else the built-in one): what the real-time service gives a customer it
    meets before any build has computed their flags.

    >>> default_flags({"*": {"profiling": "opt-in"}})["consent_profiling"]
    False
    >>> default_flags({"*": {}})["consent_analytics"], default_flags({"*": {}})["consent_email"]
    (True, False)
    """
    return {f"consent_{p}": _general(defaults, p) for p in CONSENT_PURPOSES}


def _general(defaults: Mapping[str, Mapping[str, str]], purpose: str) -> bool:
    """Whether no decision counts as consent where no country or region rule applies."""
    return defaults.get("*", {}).get(purpose, BUILT_IN_CONSENT_DEFAULTS[purpose]) == "opt-out"
