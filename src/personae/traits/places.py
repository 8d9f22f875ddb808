"""Where customers and stores are: coordinates, postcode centroids, distances, the nearest store.

A customer's or a store's place is its own ``latitude``/``longitude`` when the row has both;
otherwise the centroid of its postcode in the ``postcodes`` table the user loads (``personae
ingest postcodes FILE``: country, postcode, latitude, longitude). Nothing is looked up on the
network: a place the data does not give is unknown, and whatever is left out says why
(:func:`location_reasons`).

Postcodes match without case, spaces or hyphens, within the same country (also matched without
case or surrounding spaces): ``"SW1A 1AA"`` is ``"sw1a1aa"``. A customer with a postcode but no
country still matches when exactly one country of the table has that postcode.

Distances are great-circle distances on a sphere of the Earth's mean radius (haversine): within
0.5 % of the ellipsoid's, which is well inside the size of a postcode area. The same formula is
written once for Python (:func:`haversine_km`, the real-time evaluator) and once for Ibis
(:func:`haversine_expr`, DuckDB and Spark), so a rule gives the same answer everywhere.

>>> round(haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 1)  # London – Paris
343.6
>>> postcode_key(" gb ", "sw1a 1aa")
'GB|SW1A1AA'
"""

from __future__ import annotations

import math
import re

import ibis

#: The Earth's mean radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088
_BLANKS = re.compile(r"[\s\-]+")


def normal_postcode(postcode: str) -> str:
    """A postcode as it is matched: upper case, no spaces or hyphens.

    Example:
        >>> normal_postcode(" 75 001 "), normal_postcode("sw1a-1aa")
        ('75001', 'SW1A1AA')
    """
    return _BLANKS.sub("", postcode).upper()


def normal_country(country: str) -> str:
    """A country as it is matched: trimmed, upper case (``"fr"`` is ``"FR"``)."""
    return country.strip().upper()


def postcode_key(country: str, postcode: str) -> str:
    """The natural key of a row of the ``postcodes`` table (a re-ingest replaces by it)."""
    return f"{normal_country(country)}|{normal_postcode(postcode)}"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees.

    Example:
        >>> haversine_km(0.0, 0.0, 0.0, 0.0)
        0.0
        >>> round(haversine_km(40.7128, -74.0060, 34.0522, -118.2437))  # New York – Los Angeles
        3936
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def haversine_expr(
    lat1: ibis.NumericValue, lon1: ibis.NumericValue, lat2: ibis.NumericValue, lon2: ibis.NumericValue
) -> ibis.NumericValue:
    """:func:`haversine_km` as an Ibis expression (null when any coordinate is)."""
    p1, p2 = lat1.radians(), lat2.radians()
    dp, dl = p2 - p1, (lon2 - lon1).radians()
    a = (dp / 2).sin() ** 2 + p1.cos() * p2.cos() * (dl / 2).sin() ** 2
    # clamp rounding above 1 (antipodes) with a CASE, not LEAST: DuckDB's and Spark's LEAST
    # skip nulls, which would turn an unknown place into half the Earth's circumference
    return 2 * EARTH_RADIUS_KM * ibis.ifelse(a > 1.0, 1.0, a).sqrt().asin()


def _normal_postcode_expr(postcode: ibis.StringValue) -> ibis.StringValue:
    return postcode.re_replace(r"[\s\-]+", "").upper()


def _normal_country_expr(country: ibis.StringValue) -> ibis.StringValue:
    return country.strip().upper()


def centroids(postcodes: ibis.Table) -> tuple[ibis.Table, ibis.Table]:
    """The postcode table keyed for matching: by (country, postcode), and by postcode alone for
    postcodes only one country has (rows without a country's postcode in the table: none).

    Rows that differ only in spacing or case are one postcode: their centroids are averaged.
    """
    p = postcodes.select(
        _c=_normal_country_expr(postcodes.country),
        _p=_normal_postcode_expr(postcodes.postcode),
        _lat=postcodes.latitude,
        _lon=postcodes.longitude,
    )
    p = p.filter(p._c.notnull() & p._p.notnull() & (p._p != "") & p._lat.notnull() & p._lon.notnull())
    by_country = p.group_by(["_c", "_p"]).aggregate(_lat=p._lat.mean(), _lon=p._lon.mean())
    only = by_country.group_by("_p").aggregate(
        _n=by_country._c.count(), _lat=by_country._lat.mean(), _lon=by_country._lon.mean()
    )
    return by_country, only.filter(only._n == 1).drop("_n")


def locate(rows: ibis.Table, key: str, postcodes: ibis.Table | None) -> ibis.Table:
    """``key, latitude, longitude, location_source`` for each row of ``rows`` (customers or stores).

    ``location_source`` is ``"coordinates"`` (the row's own), ``"postcode"`` (its postcode's
    centroid) or null (unknown: then so are the coordinates).
    """
    own = rows.latitude.notnull() & rows.longitude.notnull()
    base = rows.select(
        key,
        _own=own,
        _olat=rows.latitude,
        _olon=rows.longitude,
        _c=_normal_country_expr(rows.country),
        _p=_normal_postcode_expr(rows.postcode),
    )
    if postcodes is None:
        return base.select(
            key,
            latitude=base._own.ifelse(base._olat, ibis.null("float64")),
            longitude=base._own.ifelse(base._olon, ibis.null("float64")),
            location_source=base._own.ifelse(ibis.literal("coordinates"), ibis.null("string")),
        )
    by_country, by_postcode = centroids(postcodes)
    a = by_country.rename(_clat="_lat", _clon="_lon")
    b = by_postcode.rename(_plat="_lat", _plon="_lon", _pp="_p")
    j = base.left_join(a, [base._c == a._c, base._p == a._p]).select(*base.columns, "_clat", "_clon")
    # an equality join only (a join condition on `_c IS NULL` makes DuckDB loop over pairs)
    j = j.left_join(b, j._p == b._pp).select(*j.columns, "_plat", "_plon")
    no_country = j._c.isnull()
    lat = ibis.coalesce(j._clat, no_country.ifelse(j._plat, ibis.null("float64")))
    lon = ibis.coalesce(j._clon, no_country.ifelse(j._plon, ibis.null("float64")))
    found = lat.notnull()
    return j.select(
        key,
        latitude=j._own.ifelse(j._olat, lat),
        longitude=j._own.ifelse(j._olon, lon),
        location_source=j._own.ifelse(
            ibis.literal("coordinates"), found.ifelse(ibis.literal("postcode"), ibis.null("string"))
        ),
    )


def nearest_stores(customers: ibis.Table, stores: ibis.Table) -> ibis.Table:
    """``customer_id, nearest_store_id, nearest_store_km`` for every located customer.

    ``customers``: ``customer_id, latitude, longitude``; ``stores``: ``store_id, latitude,
    longitude`` (located ones). Distances are computed once per distinct *place*, not per
    customer (everyone placed by the same postcode shares one), against every store: a cross
    join that stays small because shops have stores by the hundred, not the million. The
    nearest is found with two grouped minimums (the distance, then the smallest store id at
    that distance, so every engine breaks ties alike) rather than a ranking window, which would
    sort every place × store pair.
    """
    located = customers.filter(customers.latitude.notnull() & customers.longitude.notnull())
    places = located.select(_plat=located.latitude, _plon=located.longitude).distinct()
    s = stores.filter(stores.latitude.notnull() & stores.longitude.notnull()).select(
        _sid=stores.store_id, _slat=stores.latitude, _slon=stores.longitude
    )
    pairs = places.cross_join(s)
    pairs = pairs.mutate(_km=haversine_expr(pairs._plat, pairs._plon, pairs._slat, pairs._slon))
    best = pairs.group_by(["_plat", "_plon"]).aggregate(_best=pairs._km.min())
    at_best = pairs.join(
        best, [pairs._plat == best._plat, pairs._plon == best._plon, pairs._km == best._best]
    )
    nearest = at_best.group_by(["_plat", "_plon"]).aggregate(
        nearest_store_id=at_best._sid.min(), nearest_store_km=at_best._km.min()
    )
    out = located.join(nearest, [located.latitude == nearest._plat, located.longitude == nearest._plon])
    return out.select("customer_id", "nearest_store_id", "nearest_store_km")


def customer_places(
    customers: ibis.Table, stores: ibis.Table | None, postcodes: ibis.Table | None
) -> ibis.Table:
    """The place traits of every profile: ``location_latitude``, ``location_longitude``,
    ``location_source`` and, when stores are located, ``nearest_store_id``/``nearest_store_km``."""
    here = locate(customers, "customer_id", postcodes)
    out = here.select(
        "customer_id",
        location_latitude=here.latitude,
        location_longitude=here.longitude,
        location_source=here.location_source,
    )
    placed = located_stores(stores, postcodes)
    near = nearest_stores(here, placed) if placed is not None else None
    if near is None:
        return out.mutate(nearest_store_id=ibis.null("string"), nearest_store_km=ibis.null("float64"))
    return out.left_join(near, "customer_id").select(*out.columns, "nearest_store_id", "nearest_store_km")


def located_stores(stores: ibis.Table | None, postcodes: ibis.Table | None) -> ibis.Table | None:
    """``store_id, latitude, longitude`` of the stores that have a place (``None``: no stores)."""
    if stores is None:
        return None
    placed = locate(stores, "store_id", postcodes)
    placed = placed.filter(placed.latitude.notnull() & placed.store_id.notnull())
    return placed.select("store_id", "latitude", "longitude")


#: Why a customer has no place, in the order :func:`location_reasons` counts them.
NO_PLACE = "without coordinates or a postcode"
UNKNOWN_POSTCODE = "whose postcode is not in the postcodes table (personae ingest postcodes FILE)"


def location_reasons(traits: ibis.Table) -> dict[str, ibis.Value]:
    """Aggregates over the ``traits`` table counting the customers with no place, by reason
    (the coverage line of the build and of ``personae traits show``)."""
    unknown = traits.location_source.isnull()
    return {
        NO_PLACE: (unknown & traits.postcode.isnull()).sum(),
        UNKNOWN_POSTCODE: (unknown & traits.postcode.notnull()).sum(),
    }
