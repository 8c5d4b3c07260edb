"""Choices from the ERP for a configuration field (``choices_from``) while the dialog is open.

The dialog posts what is typed so far; once the fields the choice depends on are filled, the
connector's method is called with a configuration built from them (the other fields take
their defaults where what was typed does not validate yet) and its ``(value, label)`` pairs
come back. Every failure becomes a message shown in the field; nothing raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from pydantic import ValidationError

from connections.config_forms import config_field_name
from connectors.base import Connector, ConnectorError
from connectors.schema import FieldSpec, field_specs, validate_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChoicesOutcome:
    """The options of the select, and a message when they could not be fetched."""

    choices: list[tuple[str, str]] = field(default_factory=list)
    message: str = ""


def _labels(specs: list[FieldSpec], names: Any) -> str:
    by_name = {s.name: str(s.label) for s in specs}
    return ", ".join(by_name[n] for n in names)


def _posted_values(
    specs: list[FieldSpec], posted: Mapping[str, Any], stored_secrets: Mapping[str, str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        if not spec.stored:
            continue
        raw = posted.get(config_field_name(spec.name))
        if spec.kind == "checkbox":
            values[spec.name] = raw not in (None, "", "off", "false")
        elif raw not in (None, ""):
            values[spec.name] = raw
        elif spec.secret and spec.name in stored_secrets:
            values[spec.name] = stored_secrets[spec.name]
    return values


def config_choices(
    *,
    connector: Connector[Any],
    field_name: str,
    posted: Mapping[str, Any],
    stored_secrets: Mapping[str, str],
) -> ChoicesOutcome:
    """The choices of ``field_name`` from the ERP, given the posted dialog values."""
    specs = field_specs(connector.Config)
    spec = next((s for s in specs if s.name == field_name and s.choices_from), None)
    if spec is None:
        return ChoicesOutcome(message=_("This field has no choices from the ERP."))
    values = _posted_values(specs, posted, stored_secrets)
    missing = [name for name in spec.depends_on if name not in values]
    if missing:
        return ChoicesOutcome(
            message=_("Fill in %(fields)s to load the choices.")
            % {"fields": _labels(specs, spec.depends_on)}
        )
    values.pop(field_name, None)  # its own current value does not decide its choices
    for _attempt in range(3):
        try:
            config = validate_config(connector.Config, values)
            break
        except ValidationError as exc:
            wrong = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
            if wrong & set(spec.depends_on) or not wrong & set(values):
                names = [n for n in spec.depends_on if n in wrong] or spec.depends_on
                return ChoicesOutcome(
                    message=_("Correct %(fields)s to load the choices.")
                    % {"fields": _labels(specs, names)}
                )
            for name in wrong:  # not needed for the choices: let the default stand in
                values.pop(name, None)
    else:
        return ChoicesOutcome(message=_("The choices could not be loaded."))
    try:
        pairs = getattr(connector, spec.choices_from)(config)
        choices = [(str(value), str(label)) for value, label in pairs]
    except ConnectorError as exc:
        return ChoicesOutcome(
            message=str(format_lazy("{} {}", _("The choices could not be loaded:"), exc.message))
        )
    except Exception:  # a connector's bug must not break the dialog
        logger.exception("choices_from %r of %r crashed.", spec.choices_from, connector.key)
        return ChoicesOutcome(message=_("The choices could not be loaded."))
    if not choices:
        return ChoicesOutcome(message=_("The ERP offers no choices for this field."))
    return ChoicesOutcome(choices=choices)
