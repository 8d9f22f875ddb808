"""Every top-level ``personae`` command, in one table (dagster's CLI keeps its groups the same way).

One module per top-level command, named like the feature it serves in ``personae.app`` and the
domain. A command module defines a function (a single command) or a Typer app (a group of
sub-commands) and registers nothing itself: :mod:`personae.cli.app` adds each entry of
:data:`COMMANDS` to the root app, in this order (``personae --help`` lists single commands first,
then groups).

To add a command: write ``cli/<feature>.py`` and add one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from personae.cli import (
    actions,
    activate,
    audit,
    build,
    clusters,
    clv,
    customers,
    demo,
    experience,
    generate,
    impact,
    ingest,
    journeys,
    keys,
    maintenance,
    preferences,
    recommend,
    rejects,
    report,
    retention,
    segments,
    serve,
    survey,
    traits,
    voice,
    warehouse,
    webhooks,
)


@dataclass(frozen=True)
class Command:
    """A single command: ``personae NAME [OPTIONS]``."""

    name: str
    run: Callable[..., Any]


@dataclass(frozen=True)
class Group:
    """A group of sub-commands: ``personae NAME SUBCOMMAND [OPTIONS]``."""

    name: str
    app: typer.Typer


COMMANDS: tuple[Command | Group, ...] = (
    Command("ingest", ingest.ingest),
    Command("generate", generate.generate),
    Command("demo", demo.demo),
    Command("build", build.build),
    Command("activate", activate.activate),
    Command("impact", impact.impact),
    Command("audit", audit.audit),
    Command("retention", retention.retention),
    Command("report", report.report),
    Command("serve", serve.serve),
    Group("rejects", rejects.rejects_app),
    Group("clusters", clusters.clusters_app),
    Group("preferences", preferences.preferences_app),
    Group("clv", clv.clv_app),
    Group("customers", customers.customers_app),
    Group("segments", segments.segments_app),
    Group("experience", experience.experience_app),
    Group("survey", survey.survey_app),
    Group("journey", journeys.journey_app),
    Group("traits", traits.traits_app),
    Group("recommend", recommend.recommend_app),
    Group("actions", actions.actions_app),
    Group("webhooks", webhooks.webhooks_app),
    Group("keys", keys.keys_app),
    Group("voice", voice.voice_app),
    Group("warehouse", warehouse.warehouse_app),
    Group("maintenance", maintenance.maintenance_app),
)
