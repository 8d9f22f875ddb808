"""Channel traits: where each customer buys and where they ask for help.

Orders and spend per purchase channel, the set of channels used, and the preferred purchase
and service channels (most orders, ties broken by spend, then alphabetically — stable).
"""

from __future__ import annotations

import ibis

from personae.schema import ORDER_CHANNELS
from personae.traits.inputs import TraitInputs


def order_aggregates(o: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    aggs: dict[str, ibis.Value] = {}
    for ch in ORDER_CHANNELS:
        hit = o.channel == ch
        aggs[f"orders_{ch}"] = o.count(where=hit & ~o.is_return)  # a return is no order
        aggs[f"spend_{ch}"] = o.net_amount.sum(where=hit)
    return aggs


def derived(t: ibis.Table, inputs: TraitInputs) -> dict[str, ibis.Value]:
    cols: dict[str, ibis.Value] = {}
    used = [ibis.ifelse(t[f"orders_{ch}"].fill_null(0) > 0, ch, None) for ch in ORDER_CHANNELS]
    cols["channels"] = ibis.array(used).filter(lambda x: x.notnull())
    n = sum((t[f"orders_{ch}"].fill_null(0) > 0).ifelse(1, 0) for ch in ORDER_CHANNELS)
    cols["n_channels"] = n
    cols["single_channel"] = n == 1
    # preferred: most orders, then most spend, then channel order in ORDER_CHANNELS
    best: ibis.Value = ibis.null("string")
    best_orders: ibis.Value = ibis.literal(0)
    best_spend: ibis.Value = ibis.literal(-1.0)
    for ch in ORDER_CHANNELS:
        o_ = t[f"orders_{ch}"].fill_null(0)
        s_ = t[f"spend_{ch}"].fill_null(0.0)
        better = (o_ > best_orders) | ((o_ == best_orders) & (o_ > 0) & (s_ > best_spend))
        best = ibis.ifelse(better, ch, best)
        best_spend = ibis.ifelse(better, s_, best_spend)
        best_orders = ibis.ifelse(better, o_, best_orders)
    cols["preferred_channel"] = best
    for ch in ORDER_CHANNELS:
        cols[f"orders_{ch}"] = t[f"orders_{ch}"].fill_null(0)
        cols[f"spend_{ch}"] = t[f"spend_{ch}"].fill_null(0.0)
    return cols


def preferred_service_channel(inputs: TraitInputs) -> ibis.Table:
    """The support channel each customer used most (ties: most recent contact)."""
    e = inputs.events
    contacts = e.filter((e.type == "support_contact") & e.channel.notnull())
    per = contacts.group_by(["customer_id", "channel"]).aggregate(
        n=contacts.count(), last=contacts.occurred_at.max()
    )
    w = ibis.window(group_by=per.customer_id, order_by=[per.n.desc(), per.last.desc(), per.channel])
    ranked = per.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select("customer_id", preferred_service_channel=ranked.channel)
