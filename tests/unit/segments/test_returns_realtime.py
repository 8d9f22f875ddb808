"""Real-time segment functions read a return line as the batch side does: no order, negative spend."""

from __future__ import annotations

from datetime import datetime

from personae.schema import line_is_return, line_net
from personae.segments.realtime import _order_line


def test_a_return_line_has_no_order_key_and_nets_spend() -> None:
    bought = _order_line(
        {"order_id": "536365", "ordered_at": datetime(2010, 12, 1), "amount": 12.6, "quantity": 6}
    )
    back = _order_line(
        {
            "order_id": "C536379",
            "ordered_at": datetime(2010, 12, 9),
            "amount": -4.2,
            "quantity": -2,
            "returned": True,
        }
    )
    refunded = _order_line(
        {"order_id": "9", "ordered_at": datetime(2010, 12, 9), "amount": 5.0, "returned": True}
    )
    assert (bought["_key"], bought["_net"]) == ("536365", 12.6)
    assert (back["_key"], back["_net"]) == (None, -4.2)
    assert (refunded["_key"], refunded["_net"]) == ("9", 0.0)  # a purchase later refunded: an order


def test_line_rules() -> None:
    assert line_is_return(-1.0, None) and line_is_return(0.0, -3) and not line_is_return(0.0, 0)
    assert line_net(None, None, None) == 0.0
