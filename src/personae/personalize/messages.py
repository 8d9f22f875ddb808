"""Rendering a playbook's per-channel template for one customer (Jinja, sandboxed).

Templates come from configuration a marketer edits, so they run in Jinja's sandbox (no
attribute tricks reaching Python internals) with strict undefined variables: a typo in a
template is an error naming the playbook and channel, not a message with a blank in it.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from personae.errors import InputError
from personae.personalize.playbooks import Incentive, Playbook

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def incentive_offer(incentive: Incentive, playbook: str, customer_id: str, day: date) -> dict[str, Any]:
    """The offer as the template sees it: text, a personal code and its expiry date.

    The code is derived from playbook, customer and date, so re-rendering gives the same code
    and a code cannot be guessed from another customer's.
    """
    if incentive.kind == "none":
        return {"text": "", "code": "", "valid_until": ""}
    digest = hashlib.sha256(f"{playbook}/{customer_id}/{day.isoformat()}".encode()).hexdigest()[:8].upper()
    return {
        "text": incentive.describe(),
        "code": f"{playbook.split('_')[0][:6].upper()}-{digest}",
        "valid_until": (day + timedelta(days=incentive.valid_days)).isoformat(),
        "kind": incentive.kind,
        "value": incentive.value,
    }


def render(playbook: Playbook, channel: str, context: dict[str, Any]) -> dict[str, str]:
    """``{"subject": ..., "body": ...}`` for ``channel`` (subject empty where there is none)."""
    template = playbook.templates.get(channel)
    if template is None:
        raise InputError(f"playbook {playbook.name} has no template for {channel}")
    try:
        subject = _ENV.from_string(template.subject).render(**context).strip() if template.subject else ""
        body = _ENV.from_string(template.body).render(**context).strip()
    except TemplateError as exc:
        raise InputError(
            f"playbook {playbook.name}, {channel} template: {exc}",
            hint="variables: " + ", ".join(sorted(context)),
        ) from None
    return {"subject": subject, "body": body}
