"""MovieLens-shaped files into a store, the way the ratings tests ingest them (docs/real-data.md):
``ratings.csv`` (``userId,movieId,rating,timestamp``, Unix seconds) as orders — the ``rating``
column maps itself to the stars — and ``movies.csv`` (``movieId,title,genres``) as products.

Not a test module: tests in every directory import it (``tests`` is on ``sys.path`` under
pytest's default import mode, because tests/conftest.py lives there). Used on the real
MovieLens-small (tests/e2e/test_recommend_real_data.py) and on a hand-made crowd
(tests/integration/personalize/test_feedback.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from personae.app.ingest import ingest_file
from personae.app.reads import last_data_date
from personae.app.traits import build_affinities, build_traits
from personae.config.traits import TraitSettings
from personae.store import Store

#: A ratings file's columns as orders (no price: ``amount`` is the constant 0).
RATINGS_AS_ORDERS = {"customer_id": "userId", "product_id": "movieId", "ordered_at": "timestamp"}


def ingest_ratings_as_orders(store: Store, ratings_csv: Path) -> None:
    """Each rating (or watch) an order line of its film at its time, with no price."""
    ingest_file(store, "orders", ratings_csv, mapping=RATINGS_AS_ORDERS, constants={"amount": "0"})


def ingest_films(store: Store, movies_csv: Path) -> None:
    """The films as products: the title their name, the ``|``-separated genres their categories."""
    ingest_file(
        store,
        "products",
        movies_csv,
        mapping={"product_id": "movieId", "name": "title", "category": "genres"},
        list_sep="|",
    )


def build_profiles(store: Store) -> date:
    """Affinities and traits as of the last day of data (returned), with the default settings."""
    as_of = last_data_date(store)
    build_affinities(store, as_of, TraitSettings())
    build_traits(store, as_of, TraitSettings())
    return as_of
