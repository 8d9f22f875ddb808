"""Privacy by design: what identifies a person in the store, erasure, access and pseudonyms.

Domain logic only (no I/O): which columns of which tables hold a person's identity, how a
table is treated when a person is erased, how pseudonyms and tombstones are derived. The
application layer (:mod:`personae.app.privacy`, :mod:`personae.app.audit`) applies it to a store.
"""

from personae.privacy.policy import (
    DIRECT_IDENTIFIERS,
    Subject,
    TableAction,
    erasure_plan,
    pseudonym,
    tombstone_hash,
)

__all__ = [
    "DIRECT_IDENTIFIERS",
    "Subject",
    "TableAction",
    "erasure_plan",
    "pseudonym",
    "tombstone_hash",
]
