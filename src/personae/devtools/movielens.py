"""MovieLens ratings as the recommenders read them, straight from ``ratings.csv``.

The recommendation benchmark and the test that pins its figures read the file directly (not
through the database) so that the figures measure the models. Both read it here, the same way:
every rating is one purchase at its time, and its stars (0.5 to 5) are kept beside.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import scipy.sparse as sp

from personae.personalize.interactions import PURCHASE, Interactions, encode


def ratings_interactions(ratings: str | Path | IO[str]) -> tuple[Interactions, sp.csr_matrix]:
    """The interactions (one purchase per rating) and the stars (people × films, CSR) of a
    MovieLens ``ratings.csv`` (``userId,movieId,rating,timestamp``, Unix seconds).

    >>> import io
    >>> inter, stars = ratings_interactions(io.StringIO(
    ...     "userId,movieId,rating,timestamp\\n1,10,4.5,100\\n1,20,2.0,200\\n2,10,5.0,150\\n"))
    >>> inter.n_customers, inter.n_items, len(inter.customer)
    (2, 2, 3)
    >>> stars.toarray().tolist()
    [[4.5, 2.0], [5.0, 0.0]]
    """
    df = pd.read_csv(ratings)
    inter = encode(
        df.userId.to_numpy(), df.movieId.to_numpy(), df.timestamp.to_numpy(), np.full(len(df), PURCHASE)
    )
    cust = pd.Index(inter.customer_ids).get_indexer(df.userId.astype(str))
    item = pd.Index(inter.item_ids).get_indexer(df.movieId.astype(str))
    stars = sp.csr_matrix((df.rating.to_numpy(float), (cust, item)), shape=(inter.n_customers, inter.n_items))
    return inter, stars
