"""Customer lifetime value: BTYD summaries, BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, Gamma-Gamma, CLV, holdouts.

Pure NumPy/SciPy models plus Ibis expressions; no database I/O (the storage layer runs the
expressions). Typical use::

    summary = store.execute(btyd_summary(orders, observation_end=date(2024, 12, 31)))
    bg = BetaGeoModel().fit(summary.frequency, summary.recency, summary["T"])
    repeat = summary[summary.frequency > 0]
    gg = GammaGammaModel().fit(repeat.frequency, repeat.monetary_value)
    clv = customer_lifetime_value(bg, gg, summary.frequency, summary.recency, summary["T"],
                                  summary.monetary_value, horizon_months=12)
    clv["tier"] = value_tiers(clv["clv"])

References:
    P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy
    Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284.
    P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value",
    brucehardie.com/notes/025.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personae.clv.bgbb import BetaGeoBetaBinomModel
    from personae.clv.bgnbd import BetaGeoModel
    from personae.clv.gamma_gamma import GammaGammaModel
    from personae.clv.holdout import (
        HoldoutEvaluation,
        calibration_plot,
        calibration_table,
        evaluate_holdout,
        tracking_plot,
        tracking_table,
    )
    from personae.clv.mbgnbd import ModifiedBetaGeoModel
    from personae.clv.pareto_nbd import ParetoNBDModel
    from personae.clv.summary import (
        btyd_summary,
        btyd_summary_reference,
        holdout_summary,
    )
    from personae.clv.value import customer_lifetime_value, value_tiers

#: Where each public name lives. The names are loaded on first use (PEP 562), not on import of the
#: package: the models import scipy.special, and ``personae.clv.value`` (hence this package) is
#: imported at CLI start-up, where only its constants are needed.
_EXPORTS = {
    "BetaGeoBetaBinomModel": "bgbb",
    "BetaGeoModel": "bgnbd",
    "GammaGammaModel": "gamma_gamma",
    "ModifiedBetaGeoModel": "mbgnbd",
    "ParetoNBDModel": "pareto_nbd",
    "tracking_plot": "holdout",
    "tracking_table": "holdout",
    "HoldoutEvaluation": "holdout",
    "calibration_plot": "holdout",
    "calibration_table": "holdout",
    "evaluate_holdout": "holdout",
    "btyd_summary": "summary",
    "btyd_summary_reference": "summary",
    "holdout_summary": "summary",
    "customer_lifetime_value": "value",
    "value_tiers": "value",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutEvaluation",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "btyd_summary",
    "btyd_summary_reference",
    "calibration_plot",
    "calibration_table",
    "customer_lifetime_value",
    "evaluate_holdout",
    "holdout_summary",
    "tracking_plot",
    "tracking_table",
    "value_tiers",
]
