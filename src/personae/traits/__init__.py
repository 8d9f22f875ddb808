"""Customer traits: one row per customer as of a date, computed as Ibis expressions.

Modules, one concept each: ``value`` (RFM inputs, rhythm), ``channels``, ``occasions``,
``behaviour`` (abandonment, engagement, support), ``journey``, ``experience``, ``consent``,
``affinities``, ``rfm``, ``lifecycle``; ``build`` wires them into one query and ``registry``
describes every trait for the docs and the segment language.
"""

from personae.config.traits import TraitSettings
from personae.traits.inputs import TraitInputs, prepare

__all__ = ["TraitInputs", "TraitSettings", "prepare"]
