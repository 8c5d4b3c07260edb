"""The connector configuration as Django form fields (STYLE.md convention 7).

The connector's ``Config`` model is read by :mod:`connectors.schema`; each field becomes a
form field named ``config__<name>``, in the connector's order:

=========  ======================================================================
kind       form field
=========  ======================================================================
text       ``CharField`` (max/min length)
password   ``CharField`` with ``PasswordInput(render_value=False)``; never echoed
url        ``URLField`` without Django's URL validator (pydantic decides, so hosts
           such as ``http://erp:8000`` are accepted)
integer    ``IntegerField`` (min/max value)
decimal    ``DecimalField`` (min/max value, max digits, decimal places)
checkbox   ``BooleanField(required=False)``
choice     ``TypedChoiceField`` giving back the values pydantic expects
datetime   ``DateTimeField`` with a ``datetime-local`` input
label      :class:`StaticTextField`: the text is shown, nothing is posted or saved
=========  ======================================================================

A field with ``choices_from`` keeps its kind's form field (pydantic and the connection
test judge the value) but is shown as a select whose options the dialog fetches from the
ERP (:mod:`connections.config_choices`). Fields come in sections (``group``), and a field
with ``visible_when`` is hidden, not validated and not stored while its condition is false.

The lead's connection form calls :func:`add_config_fields` in ``__init__`` and
:func:`clean_config` in ``clean()``. Labels, help texts and choice labels are translated
when the fields of a form to show are made, in the language of the request the form is
made for: a lazy translation is translated again at every use, and the dialog uses each
several times (about a hundred translations of the REST/JSON fields per dialog otherwise).
A posted form is never shown, so its labels and help texts stay lazy (never translated).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.core.validators import (
    DecimalValidator,
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    URLValidator,
)
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError

from connections.renderers import MORE_INFORMATION, config_item_html
from connectors.base import Connector
from connectors.schema import FieldSpec, field_specs, hidden_fields

logger = logging.getLogger(__name__)

CONFIG_PREFIX = "config__"

UNCHANGED_NOTE = _("Unchanged — leave empty to keep the stored value.")
UNCHANGED_PLACEHOLDER = _("(unchanged)")
CONFIG_UNCHECKABLE = _("The configuration could not be checked. Please review the values.")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def config_field_name(name: str) -> str:
    """The form field name of the configuration field ``name``."""
    return f"{CONFIG_PREFIX}{name}"


class StaticTextWidget(forms.Widget):
    """Renders a fixed text as a paragraph; takes nothing from the posted data."""

    is_static_text = True

    def __init__(self, text: Any = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.text = text

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        for name_ in ("disabled", "required"):  # not attributes of a paragraph
            final.pop(name_, None)
        final.setdefault("class", "config-static-text")
        return format_html("<p{}>{}</p>", flatatt(final), self.text)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> None:
        return None

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class StaticTextField(forms.Field):
    """A static label in the dialog: shown, never posted, never saved."""

    widget = StaticTextWidget

    def __init__(self, *, text: Any, **kwargs: Any) -> None:
        kwargs.update(required=False, disabled=True, widget=StaticTextWidget(text))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> None:
        return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


class ConfigURLField(forms.URLField):
    """A URL input whose validity pydantic judges (Django's validator wants a dotted host)."""

    default_validators: list[Any] = []


def _initial(spec: FieldSpec, initial_public: Mapping[str, Any]) -> Any:
    if spec.secret:
        return None  # a secret is never put into a form
    if spec.name in initial_public:
        return initial_public[spec.name]
    return spec.default if spec.has_default else None


def _translated(text: Any) -> Any:
    """A lazy translation as text in the active language (None stays). One translation:
    even asking a lazy text whether it is empty translates it."""
    return None if text is None else str(text)


def form_field(
    spec: FieldSpec, *, initial: Any = None, secret_stored: bool = False, shown: bool = True
) -> forms.Field:
    """The Django form field of one configuration field.

    ``secret_stored``: a secret has a stored value, so the input may stay empty (keep it).
    ``shown``: the form will be rendered, so its texts are translated now. A posted form is
    only validated: its labels stay lazy (an error names its field by them) and it has no
    help texts, which a bound field would translate just to see whether they are empty.
    """
    label, help_text = spec.label, spec.help_text
    if shown:
        label, help_text = _translated(label), _translated(help_text)
    else:
        help_text = ""
    common: dict[str, Any] = {
        "label": label,
        "help_text": help_text,
        "required": spec.required,
        "initial": initial,
        "disabled": spec.read_only,
    }
    field: forms.Field
    if spec.kind == "label":
        text = _translated(spec.text) if shown else spec.text
        field = StaticTextField(text=text, label=label, help_text=help_text)
        setattr(field, "config_spec", spec)  # noqa: B010 - read by config_sections
        return field
    if spec.kind == "text":
        field = forms.CharField(
            max_length=spec.max_length, min_length=spec.min_length, empty_value="", **common
        )
    elif spec.kind == "password":
        attrs: dict[str, Any] = {"autocomplete": "new-password"}
        if secret_stored:
            common["required"] = False
            if shown:
                note = str(UNCHANGED_NOTE)
                common["help_text"] = f"{help_text} {note}" if help_text else note
                attrs["placeholder"] = str(UNCHANGED_PLACEHOLDER)
        common["initial"] = None
        field = forms.CharField(
            widget=forms.PasswordInput(render_value=False, attrs=attrs),
            strip=False,
            max_length=spec.max_length,
            min_length=spec.min_length,
            **common,
        )
    elif spec.kind == "url":
        field = ConfigURLField(max_length=spec.max_length, assume_scheme="https", **common)
    elif spec.kind == "integer":
        field = forms.IntegerField(
            min_value=None if spec.min_value is None else int(spec.min_value),
            max_value=None if spec.max_value is None else int(spec.max_value),
            **common,
        )
    elif spec.kind == "decimal":
        field = forms.DecimalField(
            min_value=spec.min_value,
            max_value=spec.max_value,
            max_digits=spec.max_digits,
            decimal_places=spec.decimal_places,
            **common,
        )
    elif spec.kind == "checkbox":
        common["required"] = False
        common["initial"] = bool(initial)
        field = forms.BooleanField(**common)
    elif spec.kind == "choice":
        by_text = {str(value): value for value, _label in spec.choices}

        def coerce(text: str) -> Any:
            try:
                return by_text[str(text)]
            except KeyError:
                raise ValueError(text) from None

        choices: list[tuple[str, Any]] = [
            (str(v), _translated(text) if shown else text) for v, text in spec.choices
        ]
        if spec.optional:
            choices.insert(0, ("", "---------"))
        field = forms.TypedChoiceField(
            choices=choices,
            coerce=coerce,
            empty_value=None,
            **common,
        )
    elif spec.kind == "datetime":
        field = forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
            input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"],
            **common,
        )
    else:  # pragma: no cover - field_specs only yields the kinds above
        raise ValueError(f"No form field for kind {spec.kind!r}.")
    if spec.choices_from:
        # Until the ERP answers, the only option is the current value.
        current = [] if initial in (None, "") else [(str(initial), str(initial))]
        field.widget = forms.Select(choices=current)
    setattr(field, "config_spec", spec)  # noqa: B010 - read by config_sections
    return field


def config_form_fields(
    connector_cls: type[Connector[Any]],
    *,
    initial_public: Mapping[str, Any] | None = None,
    stored_secret_names: Iterable[str] = (),
    shown: bool = True,
) -> dict[str, forms.Field]:
    """``{"config__<name>": field}`` for every configuration field, in connector order.

    ``initial_public`` holds stored non-secret values (defaults fill the rest);
    ``stored_secret_names`` the secrets that have a stored value (blank keeps them);
    ``shown``: the fields will be rendered (see :func:`form_field`).
    """
    initial_public = initial_public or {}
    stored = set(stored_secret_names)
    return {
        config_field_name(spec.name): form_field(
            spec,
            initial=_initial(spec, initial_public),
            secret_stored=spec.secret and spec.name in stored,
            shown=shown,
        )
        for spec in field_specs(connector_cls.Config)
    }


def add_config_fields(
    form: forms.BaseForm,
    connector_cls: type[Connector[Any]],
    *,
    initial_public: Mapping[str, Any] | None = None,
    stored_secret_names: Iterable[str] = (),
    before: str | None = None,
) -> list[str]:
    """Add the connector's configuration fields to ``form``; return their names in order.

    They go before the field ``before`` when given (e.g. ``"description"``), else at the
    end. The names are also kept in ``form.config_field_names`` for templates.
    """
    new = config_form_fields(
        connector_cls,
        initial_public=initial_public,
        stored_secret_names=stored_secret_names,
        shown=not form.is_bound,  # a posted form is validated, never shown
    )
    if before is not None and before in form.fields:
        fields = list(form.fields.items())
        position = [name for name, _f in fields].index(before)
        form.fields = dict([*fields[:position], *new.items(), *fields[position:]])
    else:
        form.fields.update(new)
    names = list(new)
    form.config_field_names = names  # type: ignore[attr-defined]
    return names


def config_bound_fields(form: forms.BaseForm) -> list[forms.BoundField]:
    """The bound configuration fields of ``form``, in order (for the config block)."""
    return [form[name] for name in getattr(form, "config_field_names", [])]


def _value(spec: FieldSpec, value: Any, stored_secrets: Mapping[str, str]) -> tuple[bool, Any]:
    """``(present, value)`` for the model data; absent lets pydantic use the default."""
    if spec.kind == "checkbox":
        return True, bool(value)
    if value is None or value == "":
        if spec.secret and spec.name in stored_secrets:
            return True, stored_secrets[spec.name]
        if spec.optional:
            return True, None
        if spec.kind == "text":
            return True, ""
        return False, None
    return True, value


def _max_length_params(ctx: Mapping[str, Any], value: Any) -> dict[str, Any]:
    return {"limit_value": ctx.get("max_length"), "show_value": len(value or "")}


def _min_length_params(ctx: Mapping[str, Any], value: Any) -> dict[str, Any]:
    return {"limit_value": ctx.get("min_length"), "show_value": len(value or "")}


def error_message(error: Mapping[str, Any], *, secret: bool = False) -> str:
    """The message for one pydantic error, in the request's language where Django has one.

    A ``ValueError`` raised by a validator shows its own text. Input values are never
    shown, except the rejected value of a choice.
    """
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    try:
        if kind in ("value_error", "assertion_error") and "error" in ctx:
            return str(ctx["error"])
        if kind == "missing":
            return str(forms.Field.default_error_messages["required"])
        if kind.startswith("url_"):
            return str(URLValidator.message)
        if kind in ("int_parsing", "int_type", "int_from_float"):
            return str(forms.IntegerField.default_error_messages["invalid"])
        if kind in ("decimal_parsing", "decimal_type"):
            return str(forms.DecimalField.default_error_messages["invalid"])
        if kind == "less_than_equal":
            return str(MaxValueValidator.message % {"limit_value": ctx["le"]})
        if kind == "greater_than_equal":
            return str(MinValueValidator.message % {"limit_value": ctx["ge"]})
        if kind in ("string_too_long", "too_long") and isinstance(value, str | type(None)):
            return str(MaxLengthValidator.message % _max_length_params(ctx, value))
        if kind in ("string_too_short", "too_short") and isinstance(value, str | type(None)):
            return str(MinLengthValidator.message % _min_length_params(ctx, value))
        if kind == "decimal_max_digits":
            return str(DecimalValidator.messages["max_digits"] % {"max": ctx["max_digits"]})
        if kind == "decimal_max_places":
            return str(
                DecimalValidator.messages["max_decimal_places"] % {"max": ctx["decimal_places"]}
            )
        if kind in ("literal_error", "enum") and not secret:
            return str(
                forms.ChoiceField.default_error_messages["invalid_choice"] % {"value": value}
            )
    except (KeyError, TypeError, ValueError):
        pass
    return str(error.get("msg", CONFIG_UNCHECKABLE))


def _target(error: Mapping[str, Any], names: set[str]) -> str | None:
    loc = error.get("loc") or ()
    if loc and loc[0] in names:
        return str(loc[0])
    named = (error.get("ctx") or {}).get("field")  # model validators may name their field
    return named if named in names else None


def clean_config(
    form: forms.BaseForm,
    connector_cls: type[Connector[Any]],
    *,
    stored_secrets: Mapping[str, str] | None = None,
) -> BaseModel | None:
    """Build and validate the configuration from ``form.cleaned_data``; call in ``clean()``.

    Blank secret inputs keep ``stored_secrets`` (clear values of the connection being
    edited). Each pydantic error goes to its ``config__<name>`` field (errors without a
    field location, or naming ``ctx["field"]``, go there or to the form). Returns the
    validated ``Config`` instance, or ``None`` when any configuration field has an error.
    Never raises for bad input.
    """
    stored_secrets = stored_secrets or {}
    cleaned = getattr(form, "cleaned_data", {})
    hidden = hidden_fields(connector_cls.Config, _raw_values(form, connector_cls))
    for hidden_name in hidden:  # not shown, so neither checked nor kept
        form.errors.pop(config_field_name(hidden_name), None)
        cleaned.pop(config_field_name(hidden_name), None)
    specs = [s for s in field_specs(connector_cls.Config) if s.stored and s.name not in hidden]
    by_name = {s.name: s for s in specs}
    data: dict[str, Any] = {}
    failed = False
    for spec in specs:
        key = config_field_name(spec.name)
        if key not in form.fields:
            continue
        if form.has_error(key):
            failed = True
            continue
        present, value = _value(spec, cleaned.get(key), stored_secrets)
        if present:
            data[spec.name] = value
    try:
        model = connector_cls.Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name = _target(error, set(by_name))
            if name is None:
                form.add_error(None, error_message(error))
                continue
            key = config_field_name(name)
            if key not in form.fields:
                form.add_error(None, error_message(error, secret=by_name[name].secret))
            elif not form.has_error(key):
                form.add_error(key, error_message(error, secret=by_name[name].secret))
        return None
    except Exception:  # a connector's validator bug must not break the dialog
        logger.exception("Config validation of connector %r crashed.", connector_cls.key)
        form.add_error(None, CONFIG_UNCHECKABLE)
        return None
    return None if failed else model


def _raw_values(form: forms.BaseForm, connector_cls: type[Connector[Any]]) -> dict[str, Any]:
    """The values a visibility condition looks at: cleaned where valid, else as posted."""
    cleaned = getattr(form, "cleaned_data", {})
    values: dict[str, Any] = {}
    for spec in field_specs(connector_cls.Config):
        key = config_field_name(spec.name)
        if key in cleaned:
            values[spec.name] = cleaned[key]
        elif form.is_bound:
            values[spec.name] = form.data.get(key)
        else:
            values[spec.name] = form[key].value() if key in form.fields else None
    return values


@dataclass(frozen=True)
class ConfigItem:
    """One configuration field as the dialog's config block renders it."""

    field: forms.BoundField
    spec: FieldSpec
    hidden: bool
    more_information: str = ""  # the (i) button's name, translated once per block

    @cached_property
    def layout(self) -> str:
        """How the block lays the field out: "checkbox" (the box inside its label),
        "static" (a text, no input) or "input"."""
        widget = self.field.field.widget
        if getattr(widget, "is_static_text", False):
            return "static"
        return "checkbox" if getattr(widget, "input_type", "") == "checkbox" else "input"

    @cached_property
    def label(self) -> str:
        """The label, translated once (the block shows and tests it more than once)."""
        return str(self.field.label or "")

    @cached_property
    def help_text(self) -> str:
        """The help text, translated once."""
        return str(self.field.help_text or "")

    @property
    def visible_when(self) -> str:
        """The condition as JSON for ``config_fields.js`` (``{"config__x": [values]}``)."""
        return json.dumps(
            {
                config_field_name(name): [str(v) for v in values]
                for name, values in self.spec.visible_when
            }
        )

    @property
    def choices_trigger(self) -> str:
        """The htmx trigger that (re)loads the choices: on load and when a dependency changes."""
        # The wrappers stay while a choices field's select is swapped, so listen there.
        sources = [f"change from:#field-{config_field_name(n)}" for n in self.spec.depends_on]
        return ", ".join(["load", *sources])

    def __str__(self) -> str:
        """``{{ item }}`` in a template: the field as the config block shows it."""
        return config_item_html(self)

    __html__ = __str__


@dataclass(frozen=True)
class ConfigSection:
    """A fieldset of the config block (``legend`` empty for fields without a group)."""

    legend: Any
    items: list[ConfigItem]


def config_sections(form: forms.BaseForm) -> list[ConfigSection]:
    """The bound configuration fields grouped in sections, in the connector's order: a
    section comes where its first field comes."""
    connector_cls = getattr(form, "connector_cls", None)
    if connector_cls is None:
        return []
    hidden = hidden_fields(connector_cls.Config, _raw_values(form, connector_cls))
    more_information = str(MORE_INFORMATION)
    sections: dict[str, ConfigSection] = {}
    for bound in config_bound_fields(form):
        spec: FieldSpec = bound.field.config_spec  # type: ignore[attr-defined]
        legend = "" if spec.group is None else str(spec.group)
        section = sections.setdefault(legend, ConfigSection(legend, []))
        section.items.append(ConfigItem(bound, spec, spec.name in hidden, more_information))
    return list(sections.values())
