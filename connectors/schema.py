"""Configuration schemas: what a connector's pydantic ``Config`` model means to the product.

A connector declares its configuration as a pydantic model. This module reads that model
into ordered, typed field specifications (:class:`FieldSpec`) that the form layer turns into
form fields, and it splits a validated configuration into what is stored in the clear and
what is stored encrypted. It knows nothing of Django models or forms.

Supported field types (``X | None`` makes any of them optional):

========================================  ============  ==================================
annotation                                kind          notes
========================================  ============  ==================================
``str``                                   ``text``      ``max_length``/``min_length``
``SecretStr``                             ``password``  write-only; stored encrypted
``AnyUrl``/``AnyHttpUrl``/``HttpUrl``     ``url``       and any other ``AnyUrl`` subclass
``int``                                   ``integer``   ``ge``/``gt``/``le``/``lt``
``Decimal``                               ``decimal``   bounds, ``max_digits``, ``decimal_places``
``bool``                                  ``checkbox``  never required
``datetime``                              ``datetime``  a date and a time of day
``Literal[...]`` of str/int, ``Enum``     ``choice``    labels from ``choice_labels``
anything, with ``kind: "label"``          ``label``     static text; nothing is saved
========================================  ============  ==================================

``json_schema_extra`` keys read here: ``order`` (int, ascending; ties keep declaration
order), ``read_only`` (bool), ``choice_labels`` (``{value: label}``), ``kind`` (only
``"label"``, or the kind the type already has), ``group`` (the section the dialog shows
the field in; sections come in the order of their first field), ``visible_when``
(``{"field": value}`` or ``{"field": [values]}``: the field is shown, validated and stored
only while every named field has one of those values), ``choices_from`` (the name of a
connector method that returns ``[(value, label)]`` from the ERP) with ``depends_on`` (the
fields that must be filled before it is called). ``title`` is the label, ``description`` the
help text; both may be lazy translations and are passed on unevaluated. Anything else raises
:class:`UnsupportedFieldType`, which the registry turns into a refused registration.
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AnyUrl, BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

FieldKind = Literal[
    "text", "password", "url", "integer", "decimal", "checkbox", "choice", "datetime", "label"
]

_KNOWN_EXTRA_KEYS = frozenset(
    {
        "order",
        "read_only",
        "choice_labels",
        "kind",
        "text",
        "group",
        "visible_when",
        "choices_from",
        "depends_on",
    }
)


class UnsupportedFieldType(TypeError):
    """A ``Config`` field whose type or options the configuration dialog cannot represent."""


@dataclass(frozen=True)
class FieldSpec:
    """One configuration field as the dialog shows it.

    ``label``/``help_text`` may be lazy translation proxies: call ``str()`` at render time.
    ``default`` is ``None`` when the field has no default; for ``choice`` it is the raw
    value, for ``url`` a string. ``choices`` holds ``(value, label)`` pairs with the values
    as pydantic expects them. For a ``label`` field, ``text`` is the static text.
    """

    name: str
    kind: FieldKind
    label: Any
    help_text: Any
    order: int
    default: Any = None
    has_default: bool = False
    required: bool = False
    optional: bool = False
    read_only: bool = False
    max_length: int | None = None
    min_length: int | None = None
    min_value: int | Decimal | None = None
    max_value: int | Decimal | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    choices: tuple[tuple[Any, Any], ...] = ()
    text: Any = ""
    group: Any = None
    visible_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    choices_from: str = ""
    depends_on: tuple[str, ...] = ()

    def visible(self, values: Mapping[str, Any]) -> bool:
        """Whether the field applies, given the (raw or validated) values of the others."""
        return all(
            comparable(values.get(name)) in {comparable(v) for v in wanted}
            for name, wanted in self.visible_when
        )

    @property
    def secret(self) -> bool:
        return self.kind == "password"

    @property
    def stored(self) -> bool:
        """Whether a value of this field is saved (static labels are not)."""
        return self.kind != "label"


def comparable(value: Any) -> str:
    """A value as a visibility condition compares it (what a form posts for it)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def static_label(text: Any, order: int, *, title: Any = "") -> Any:
    """A pydantic ``Field`` for a static text in the dialog; nothing is saved.

    Use with a ``None`` annotation: ``about: None = static_label(_("..."), order=0)``.
    The text (may be lazy) is shown; the field is excluded from dumps and storage.
    """
    return Field(
        None,
        exclude=True,
        title=title or None,
        description=None,
        json_schema_extra={"kind": "label", "order": order, "text": text},
    )


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
        return annotation, False
    return annotation, False


def _unwrap_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        args = get_args(annotation)
        annotation = args[0]
        for item in args[1:]:
            if isinstance(item, FieldInfo):
                metadata.extend(item.metadata)
            else:
                metadata.append(item)
    return annotation, metadata


def _constraint(metadata: list[Any], name: str) -> Any:
    for item in metadata:
        value = getattr(item, name, None)
        if value is not None:
            return value
    return None


def _kind_of(name: str, annotation: Any) -> FieldKind:
    if annotation is bool:
        return "checkbox"
    if annotation is str:
        return "text"
    if annotation is SecretStr:
        return "password"
    if annotation is int:
        return "integer"
    if annotation is Decimal:
        return "decimal"
    if isinstance(annotation, type) and issubclass(annotation, AnyUrl):
        return "url"
    if annotation is datetime:
        return "datetime"
    if get_origin(annotation) is Literal:
        values = get_args(annotation)
        if values and all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            return "choice"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice"
    raise UnsupportedFieldType(
        f"Config field {name!r} has type {annotation!r}, which the configuration dialog "
        "does not support (str, SecretStr, URL, int, Decimal, bool, datetime, Literal, "
        "Enum, optionally '| None')."
    )


def _choices(name: str, annotation: Any, labels: Mapping[Any, Any]) -> tuple[tuple[Any, Any], ...]:
    if get_origin(annotation) is Literal:
        values: list[Any] = list(get_args(annotation))
        fallback = {v: str(v) for v in values}
    else:
        members = list(annotation)
        values = [m.value for m in members]
        fallback = {m.value: getattr(m, "label", m.name) for m in members}
        labels = {(k.value if isinstance(k, enum.Enum) else k): v for k, v in labels.items()}
    unknown = set(labels) - set(values)
    if unknown:
        raise UnsupportedFieldType(
            f"Config field {name!r} has choice_labels for unknown values "
            f"{sorted(map(str, unknown))}."
        )
    return tuple((v, labels.get(v, fallback[v])) for v in values)


def field_spec(name: str, info: FieldInfo, position: int) -> FieldSpec:
    """The :class:`FieldSpec` of one pydantic field; raises :class:`UnsupportedFieldType`."""
    extra = info.json_schema_extra
    if callable(extra):
        raise UnsupportedFieldType(f"Config field {name!r}: json_schema_extra must be a dict.")
    extra = dict(extra or {})
    unknown_keys = set(extra) - _KNOWN_EXTRA_KEYS
    if unknown_keys:
        raise UnsupportedFieldType(
            f"Config field {name!r} has unknown json_schema_extra keys {sorted(unknown_keys)}."
        )
    order = extra.get("order", 1000 + position)
    if not isinstance(order, int) or isinstance(order, bool):
        raise UnsupportedFieldType(f"Config field {name!r}: 'order' must be an integer.")
    label = info.title if info.title is not None else name.replace("_", " ").capitalize()
    help_text = info.description or ""
    has_default = info.default is not PydanticUndefined or info.default_factory is not None

    if extra.get("kind") == "label":
        if info.is_required():
            raise UnsupportedFieldType(f"Static label {name!r} must have a default (use None).")
        return FieldSpec(
            name=name,
            kind="label",
            label=info.title or "",
            help_text=help_text,
            order=order,
            text=extra.get("text", help_text),
        )

    annotation, optional = _unwrap_optional(info.annotation)
    annotation, inner_metadata = _unwrap_annotated(annotation)
    metadata = [*info.metadata, *inner_metadata]
    kind = _kind_of(name, annotation)
    if "kind" in extra and extra["kind"] != kind:
        raise UnsupportedFieldType(
            f"Config field {name!r} declares kind {extra['kind']!r} but its type is {kind!r}."
        )

    default: Any = None
    if info.default is not PydanticUndefined:
        default = info.default
    elif info.default_factory is not None:
        default = info.default_factory()  # type: ignore[call-arg]
    if isinstance(default, enum.Enum):
        default = default.value
    elif isinstance(default, AnyUrl):
        default = str(default)
    elif isinstance(default, SecretStr):
        default = None  # a secret default is never shown

    max_length = _constraint(metadata, "max_length")
    if kind == "url" and max_length is None:
        url_constraints = getattr(annotation, "_constraints", None)
        max_length = getattr(url_constraints, "max_length", None)
    min_length = _constraint(metadata, "min_length")

    min_value = _constraint(metadata, "ge")
    max_value = _constraint(metadata, "le")
    gt, lt = _constraint(metadata, "gt"), _constraint(metadata, "lt")
    if kind == "integer":
        if gt is not None:
            min_value = max(min_value, gt + 1) if min_value is not None else gt + 1
        if lt is not None:
            max_value = min(max_value, lt - 1) if max_value is not None else lt - 1
    elif kind == "decimal":
        # Exclusive decimal bounds cannot be shown as min/max; pydantic still enforces them.
        min_value = Decimal(str(min_value)) if min_value is not None else None
        max_value = Decimal(str(max_value)) if max_value is not None else None
    else:
        min_value = max_value = None

    choices: tuple[tuple[Any, Any], ...] = ()
    labels = extra.get("choice_labels") or {}
    if kind == "choice":
        if not isinstance(labels, Mapping):
            raise UnsupportedFieldType(f"Config field {name!r}: choice_labels must be a dict.")
        choices = _choices(name, annotation, labels)
    elif labels:
        raise UnsupportedFieldType(f"Config field {name!r} has choice_labels but no choices.")

    if kind == "checkbox":
        required = False
    elif kind in ("text", "password"):
        required = not optional and (info.is_required() or bool(min_length))
    else:
        required = not optional

    read_only = extra.get("read_only", False)
    if not isinstance(read_only, bool):
        raise UnsupportedFieldType(f"Config field {name!r}: 'read_only' must be a bool.")
    visible_when = _visible_when(name, extra.get("visible_when") or {})
    if visible_when and kind != "checkbox":
        required = False  # required only while shown; the connector's validators say so
    choices_from = extra.get("choices_from") or ""
    depends_on = extra.get("depends_on") or ()
    if not isinstance(choices_from, str) or not (
        isinstance(depends_on, list | tuple) and all(isinstance(d, str) for d in depends_on)
    ):
        raise UnsupportedFieldType(
            f"Config field {name!r}: 'choices_from' must be a method name and 'depends_on' "
            "a list of field names."
        )
    if depends_on and not choices_from:
        raise UnsupportedFieldType(f"Config field {name!r} has depends_on but no choices_from.")

    return FieldSpec(
        name=name,
        kind=kind,
        label=label,
        help_text=help_text,
        order=order,
        default=default,
        has_default=has_default,
        required=required,
        optional=optional,
        read_only=read_only,
        max_length=max_length if kind in ("text", "password", "url") else None,
        min_length=min_length if kind in ("text", "password") else None,
        min_value=min_value,
        max_value=max_value,
        max_digits=_constraint(metadata, "max_digits") if kind == "decimal" else None,
        decimal_places=_constraint(metadata, "decimal_places") if kind == "decimal" else None,
        choices=choices,
        group=extra.get("group"),
        visible_when=visible_when,
        choices_from=choices_from,
        depends_on=tuple(str(d) for d in depends_on),
    )


def _visible_when(name: str, condition: Any) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if not isinstance(condition, Mapping) or not all(isinstance(k, str) for k in condition):
        raise UnsupportedFieldType(
            f"Config field {name!r}: 'visible_when' must map field names to values."
        )
    return tuple(
        (key, tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,))
        for key, value in condition.items()
    )


@cache
def _field_specs(config_cls: type[BaseModel]) -> tuple[FieldSpec, ...]:
    specs = [
        field_spec(name, info, position)
        for position, (name, info) in enumerate(config_cls.model_fields.items())
    ]
    names = {spec.name for spec in specs}
    for spec in specs:
        unknown = {n for n, _v in spec.visible_when} | set(spec.depends_on)
        unknown -= names - {spec.name}
        if unknown:
            raise UnsupportedFieldType(
                f"Config field {spec.name!r} names unknown fields {sorted(unknown)} in "
                "visible_when or depends_on."
            )
    return tuple(sorted(specs, key=lambda s: s.order))  # stable: ties keep declaration order


def field_specs(config_cls: type[BaseModel]) -> list[FieldSpec]:
    """Every field of ``config_cls`` as a :class:`FieldSpec`, sorted by ``order``.

    Raises :class:`UnsupportedFieldType` for the first field the dialog cannot represent.
    Cached per class (a ``Config`` does not change at run time).
    """
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        raise UnsupportedFieldType(f"{config_cls!r} is not a pydantic model.")
    return list(_field_specs(config_cls))


def hidden_fields(config_cls: type[BaseModel], values: Mapping[str, Any]) -> set[str]:
    """Names of the conditional fields whose condition ``values`` do not meet."""
    return {s.name for s in field_specs(config_cls) if s.visible_when and not s.visible(values)}


def validate_config(config_cls: type[BaseModel], values: Mapping[str, Any]) -> BaseModel:
    """``config_cls`` validated from ``values``, hidden conditional fields left out (so they
    take their defaults and are neither checked nor kept). Raises ``ValidationError``."""
    hidden = hidden_fields(config_cls, values)
    return config_cls.model_validate({k: v for k, v in values.items() if k not in hidden})


def check_config_schema(config_cls: type[BaseModel]) -> None:
    """Raise :class:`UnsupportedFieldType` unless every field of ``config_cls`` is supported."""
    field_specs(config_cls)


def stored_specs(config_cls: type[BaseModel]) -> list[FieldSpec]:
    """The specs of the fields whose values are saved (every kind but ``label``)."""
    return [s for s in field_specs(config_cls) if s.stored]


def secret_fields(config_cls: type[BaseModel]) -> list[str]:
    """Names of the ``SecretStr`` fields, in dialog order."""
    return [s.name for s in field_specs(config_cls) if s.secret]


def split_config(model: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a validated configuration into ``(public, secrets)``.

    ``public`` is JSON-safe (decimals and URLs as strings, enums as values) and holds every
    non-secret stored field; ``secrets`` maps secret field names to their clear values and
    leaves out secrets that are ``None``. Static labels appear in neither.
    """
    hidden = hidden_fields(type(model), dict(model))
    specs = [s for s in stored_specs(type(model)) if s.name not in hidden]
    public_names = {s.name for s in specs if not s.secret}
    public = model.model_dump(mode="json", include=public_names)
    secrets: dict[str, str] = {}
    for spec in specs:
        if spec.secret:
            value = getattr(model, spec.name)
            if value is not None:
                secrets[spec.name] = value.get_secret_value()
    return public, secrets


def merge_config(
    config_cls: type[BaseModel], public: Mapping[str, Any], secrets: Mapping[str, str]
) -> BaseModel:
    """Rebuild a validated configuration from stored ``public`` values and clear ``secrets``.

    Keys the model no longer has are ignored (a connector may drop a field in a new
    version); a secret name in ``public`` is ignored too. Raises pydantic's
    ``ValidationError`` when the stored values do not validate any more.
    """
    specs = stored_specs(config_cls)
    secret_names = {s.name for s in specs if s.secret}
    public_names = {s.name for s in specs if not s.secret}
    data: dict[str, Any] = {k: v for k, v in public.items() if k in public_names}
    data.update({k: v for k, v in secrets.items() if k in secret_names})
    return validate_config(config_cls, data)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Decimal):
        # 100, 100.0 and 1E+2 are the same configuration.
        return format(value.normalize(), "f")
    if isinstance(value, enum.Enum):
        return _canonical_value(value.value)
    if isinstance(value, AnyUrl):
        return str(value)
    return value


def canonical_dict(model: BaseModel) -> dict[str, Any]:
    """Every stored field with its value, secrets resolved to clear text (``None`` kept)."""
    return {
        spec.name: _canonical_value(getattr(model, spec.name)) for spec in stored_specs(type(model))
    }


def canonical_json(value: BaseModel | Mapping[str, Any]) -> str:
    """A deterministic JSON text of a configuration (or of a dict holding one's
    :func:`canonical_dict`) for fingerprints.

    Sorted keys, no whitespace, secrets resolved, decimals normalised, static labels
    left out. Contains secret values: hash it, never store or show it.
    """
    data = canonical_dict(value) if isinstance(value, BaseModel) else value
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def upgraded_values(
    connector_cls: Any, values: Mapping[str, Any], from_version: int
) -> dict[str, Any]:
    """Stored public ``values`` of ``from_version`` in the shape of the connector's current
    ``config_version``: its ``migrate_config`` runs when the stored version is older."""
    if from_version < connector_cls.config_version:
        return dict(connector_cls.migrate_config(dict(values), from_version))
    return dict(values)


def stored_config_problems(
    connector_cls: Any, values: Mapping[str, Any], from_version: int, secret_names: set[str]
) -> list[str]:
    """Why stored values no longer make a valid ``Config`` (after any migration): the names
    of the failing fields (``"(config)"`` for a model-wide error); empty when they do.

    Secrets are not decrypted for this: a stored secret's own checks are skipped.
    """
    try:
        values = upgraded_values(connector_cls, values, from_version)
    except Exception:  # a migration that crashes leaves the connection to be edited
        return ["(migration)"]
    placeholders = dict.fromkeys(secret_names, "x")
    try:
        merge_config(connector_cls.Config, values, placeholders)
    except ValidationError as exc:
        failing = {str(e["loc"][0]) if e.get("loc") else "(config)" for e in exc.errors()}
        return sorted(failing - secret_names)
    except Exception:
        return ["(config)"]
    return []
