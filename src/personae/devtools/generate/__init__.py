"""Synthetic omnichannel retail data: customers, orders, events, surveys and consents.

The data every demo, test and benchmark of personae runs on. People belong to latent
behavioural groups (written to ``truth.csv``) that drive what they do, and the data
carries the problems real data has: duplicate profiles, placeholder identifiers,
anonymous browsing, national phone formats. See ``generate_dataset``.

Modules, one concept each::

    dataset      generate_dataset: orchestration, seeding, chunking
    groups       the latent behavioural groups and their parameters
    seasonality  the data window, seasonal demand, times of day
    catalogue    geography, stores and products
    population   people: group, join date, geography, demographics, tastes
    identities   names, e-mails, phones, loyalty cards, customer ids, duplicates
    customers    the customers table (profiles) and the truth table
    consent      the consent ledger and messaging windows
    purchases    orders and order lines
    sessions     web/app browsing sessions and abandonments
    behaviour    messaging, store visits, service, reviews, referrals, visitors
    eventlog     event rows as codes, property vocabulary, identity modes
    experience   survey answers driven by what customers lived
    columns      fast Arrow column builders (ids, timestamps, lookups)
    vocabulary   word lists
    writer       CSV/Parquet output with the data model's conventions
"""

from personae.devtools.generate.dataset import KINDS, generate_dataset
from personae.devtools.generate.groups import GROUP_NAMES

__all__ = ["GROUP_NAMES", "KINDS", "generate_dataset"]
