"""ML segmentation: clusters that explain themselves, and per-customer preference profiles.

Domain code (no I/O): :mod:`features` (what customers are clustered on, and the scaling),
:mod:`model` (k-means on a sample, k by silhouette with the one-standard-error rule),
:mod:`quality` (silhouette, Davies-Bouldin, bootstrap stability, recovery of a truth),
:mod:`profiles` and :mod:`naming` (readable profiles and names), :mod:`projection` (the 2-D
map) and :mod:`preferences` (micro-segments). :mod:`personae.app.clusters` runs them on the store.
"""

from personae.clusters.features import DEFAULT_FEATURES, FEATURES, Preprocessor, select_features
from personae.clusters.model import ClusterModel
from personae.clusters.preferences import PreferenceProfile, preference_profile
from personae.clusters.profiles import ClusterProfile, profile_clusters

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "ClusterModel",
    "ClusterProfile",
    "PreferenceProfile",
    "Preprocessor",
    "preference_profile",
    "profile_clusters",
    "select_features",
]
