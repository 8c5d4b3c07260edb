"""Reading connector Config models: field specs, storage split and canonical JSON."""

from __future__ import annotations

import enum
import json
from decimal import Decimal
from typing import Any, Literal

import pytest
from pydantic import AnyHttpUrl, AnyUrl, BaseModel, Field, HttpUrl, SecretStr, ValidationError

from connectors.schema import (
    UnsupportedFieldType,
    canonical_json,
    field_specs,
    merge_config,
    secret_fields,
    split_config,
    static_label,
)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class AllKinds(BaseModel):
    intro: None = static_label("Read this first.", order=0)
    name: str = Field(
        title="Name", description="Who", max_length=30, json_schema_extra={"order": 1}
    )
    token: SecretStr | None = Field(None, title="Token", json_schema_extra={"order": 2})
    base_url: AnyHttpUrl = Field(title="Base URL", json_schema_extra={"order": 3})
    timeout: int = Field(10, ge=1, le=60, title="Timeout", json_schema_extra={"order": 4})
    discount: Decimal = Field(
        Decimal("100"), ge=0, le=100, max_digits=5, decimal_places=2, json_schema_extra={"order": 5}
    )
    verify: bool = Field(True, json_schema_extra={"order": 6})
    auth: Literal["none", "bearer"] = Field(
        "none",
        json_schema_extra={"order": 7, "choice_labels": {"none": "None", "bearer": "Bearer"}},
    )
    colour: Colour = Field(Colour.GREEN, json_schema_extra={"order": 8})
    tenant: str = Field("main", json_schema_extra={"order": 9, "read_only": True})


def spec(name: str, model: type[BaseModel] = AllKinds) -> Any:
    return next(s for s in field_specs(model) if s.name == name)


def full(**overrides: Any) -> AllKinds:
    data: dict[str, Any] = {"name": "Acme", "token": "s3cret", "base_url": "https://erp.example"}
    return AllKinds(**{**data, **overrides})


def test_each_supported_type_gets_its_kind() -> None:
    assert {s.name: s.kind for s in field_specs(AllKinds)} == {
        "intro": "label",
        "name": "text",
        "token": "password",
        "base_url": "url",
        "timeout": "integer",
        "discount": "decimal",
        "verify": "checkbox",
        "auth": "choice",
        "colour": "choice",
        "tenant": "text",
    }


def test_specs_follow_the_order_key_not_the_declaration() -> None:
    class Reordered(BaseModel):
        b: str = Field("", json_schema_extra={"order": 2})
        a: str = Field("", json_schema_extra={"order": 1})

    assert [s.name for s in field_specs(Reordered)] == ["a", "b"]


def test_fields_without_order_keep_declaration_order_after_ordered_ones() -> None:
    class Mixed(BaseModel):
        z: str = ""
        y: str = ""
        first: str = Field("", json_schema_extra={"order": 1})

    assert [s.name for s in field_specs(Mixed)] == ["first", "z", "y"]


@pytest.mark.parametrize(
    "annotation", [AnyUrl, AnyHttpUrl, HttpUrl], ids=["AnyUrl", "AnyHttpUrl", "HttpUrl"]
)
def test_every_pydantic_url_type_is_a_url(annotation: Any) -> None:
    model = type("U", (BaseModel,), {"__annotations__": {"u": annotation}})
    assert spec("u", model).kind == "url"


def test_http_url_max_length_comes_from_the_type() -> None:
    class U(BaseModel):
        u: HttpUrl

    assert spec("u", U).max_length == 2083


def test_title_and_description_become_label_and_help_text() -> None:
    assert (spec("name").label, spec("name").help_text) == ("Name", "Who")


def test_label_defaults_to_the_field_name_in_words() -> None:
    assert spec("verify").label == "Verify"


def test_lazy_labels_are_kept_lazy() -> None:
    from django.utils.functional import Promise
    from django.utils.translation import gettext_lazy

    class Lazy(BaseModel):
        x: str = Field("", title=gettext_lazy("Name"))

    assert isinstance(spec("x", Lazy).label, Promise)


def test_bounds_and_lengths_are_read() -> None:
    assert (spec("timeout").min_value, spec("timeout").max_value) == (1, 60)
    assert spec("name").max_length == 30
    assert (spec("discount").max_digits, spec("discount").decimal_places) == (5, 2)
    assert spec("discount").max_value == Decimal("100")


def test_exclusive_integer_bounds_become_inclusive() -> None:
    class Exclusive(BaseModel):
        n: int = Field(5, gt=0, lt=10)

    assert (spec("n", Exclusive).min_value, spec("n", Exclusive).max_value) == (1, 9)


def test_defaults_are_read_in_form_terms() -> None:
    assert spec("timeout").default == 10
    assert spec("colour").default == "green"
    assert spec("base_url").has_default is False


def test_optional_fields_are_not_required() -> None:
    assert spec("token").optional
    assert not spec("token").required


def test_a_text_without_default_is_required_and_with_default_is_not() -> None:
    assert spec("name").required
    assert not spec("tenant").required


def test_a_number_with_a_default_is_still_required() -> None:
    assert spec("timeout").required


def test_a_checkbox_is_never_required() -> None:
    assert not spec("verify").required


def test_read_only_comes_from_json_schema_extra() -> None:
    assert spec("tenant").read_only
    assert not spec("name").read_only


def test_literal_choices_carry_their_labels() -> None:
    assert spec("auth").choices == (("none", "None"), ("bearer", "Bearer"))


def test_enum_choices_use_values_and_fall_back_to_member_names() -> None:
    assert spec("colour").choices == (("red", "RED"), ("green", "GREEN"))


def test_static_label_is_shown_and_never_dumped() -> None:
    intro = spec("intro")
    assert (intro.kind, intro.text, intro.stored) == ("label", "Read this first.", False)
    assert "intro" not in full().model_dump()


@pytest.mark.parametrize(
    "annotation",
    [float, list[str], dict[str, str], int | str, Literal[True, False], bytes],
    ids=["float", "list", "dict", "union", "bool-literal", "bytes"],
)
def test_unsupported_types_are_refused(annotation: Any) -> None:
    model = type("Bad", (BaseModel,), {"__annotations__": {"bad": annotation}})
    with pytest.raises(UnsupportedFieldType, match="bad"):
        field_specs(model)


def test_an_unknown_json_schema_extra_key_is_refused() -> None:
    class Typo(BaseModel):
        x: str = Field("", json_schema_extra={"ordre": 1})

    with pytest.raises(UnsupportedFieldType, match="ordre"):
        field_specs(Typo)


def test_a_kind_that_contradicts_the_type_is_refused() -> None:
    class Lie(BaseModel):
        x: str = Field("", json_schema_extra={"kind": "password"})

    with pytest.raises(UnsupportedFieldType, match="password"):
        field_specs(Lie)


def test_choice_labels_for_values_that_do_not_exist_are_refused() -> None:
    class Stale(BaseModel):
        x: Literal["a"] = Field("a", json_schema_extra={"choice_labels": {"b": "B"}})

    with pytest.raises(UnsupportedFieldType, match="unknown values"):
        field_specs(Stale)


def test_a_static_label_without_default_is_refused() -> None:
    class NoDefault(BaseModel):
        x: None = Field(json_schema_extra={"kind": "label"})

    with pytest.raises(UnsupportedFieldType, match="default"):
        field_specs(NoDefault)


def test_secret_fields_lists_secret_str_fields() -> None:
    assert secret_fields(AllKinds) == ["token"]


def test_split_config_keeps_secrets_out_of_the_public_part() -> None:
    public, secrets = split_config(full())
    assert secrets == {"token": "s3cret"}
    assert "token" not in public
    assert "s3cret" not in json.dumps(public)


def test_split_config_public_part_is_json_safe() -> None:
    public, _secrets = split_config(full(discount=Decimal("12.50")))
    assert json.loads(json.dumps(public)) == public
    assert public["discount"] == "12.50"
    assert public["colour"] == "green"


def test_split_config_leaves_out_static_labels_and_unset_secrets() -> None:
    public, secrets = split_config(full(token=None))
    assert "intro" not in public
    assert secrets == {}


def test_merge_config_rebuilds_the_split_model() -> None:
    original = full(timeout=30, auth="bearer", colour=Colour.RED)
    assert merge_config(AllKinds, *split_config(original)) == original


def test_merge_config_ignores_keys_the_model_no_longer_has() -> None:
    public, secrets = split_config(full())
    model = merge_config(AllKinds, {**public, "retired_field": 1}, secrets)
    assert model == full()


def test_merge_config_ignores_a_secret_smuggled_into_the_public_part() -> None:
    public, _secrets = split_config(full())
    assert merge_config(AllKinds, {**public, "token": "leaked"}, {}).token is None


def test_merge_config_raises_when_stored_values_no_longer_validate() -> None:
    public, secrets = split_config(full())
    with pytest.raises(ValidationError):
        merge_config(AllKinds, {**public, "timeout": 999}, secrets)


def test_canonical_json_has_sorted_keys_and_resolved_secrets() -> None:
    text = canonical_json(full())
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["token"] == "s3cret"
    assert "intro" not in data


def test_canonical_json_changes_when_a_secret_changes() -> None:
    assert canonical_json(full(token="a")) != canonical_json(full(token="b"))


def test_canonical_json_is_the_same_for_equal_decimals() -> None:
    assert canonical_json(full(discount=Decimal("50"))) == canonical_json(
        full(discount=Decimal("50.00"))
    )


def test_canonical_json_is_the_same_after_a_storage_round_trip() -> None:
    original = full(discount=Decimal("7.5"))
    assert canonical_json(merge_config(AllKinds, *split_config(original))) == canonical_json(
        original
    )
