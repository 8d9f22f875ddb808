"""Voice of the customer: sentiment, language, themes and voice traits from customers' texts.

Domain code, free of I/O: :mod:`sources` builds the Ibis expression that gathers survey
comments, reviews, support contacts and social posts; :mod:`analyse` scores each text
(:mod:`language`, :mod:`sentiment` with :mod:`lexicon`, :mod:`themes`, :mod:`competitors`);
:mod:`traits` turns the scored texts into per-customer traits; :mod:`report`, :mod:`painpoints`
and :mod:`charts` summarise them. ``personae.app.voice`` wires them to the store.
"""

from personae.config.voice import VoiceSettings

__all__ = ["VoiceSettings"]
