"""From a connector's Config schema to form fields and back to a validated config."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, Literal

import pytest
from django import forms
from django.utils import translation
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from connections.config_forms import (
    ConfigURLField,
    StaticTextField,
    add_config_fields,
    clean_config,
    config_bound_fields,
)
from connectors import base
from connectors.schema import UnsupportedFieldType, static_label


class Region(enum.Enum):
    EU = "eu"
    US = "us"


class EveryKindConfig(BaseModel):
    about: None = static_label("Talks to the Acme ERP.", order=0)
    company: str = Field(
        title="Company", description="Company code", max_length=20, json_schema_extra={"order": 1}
    )
    api_token: SecretStr = Field(title="API token", json_schema_extra={"order": 2})
    password: SecretStr | None = Field(None, title="Password", json_schema_extra={"order": 3})
    base_url: AnyHttpUrl = Field(title="Base URL", json_schema_extra={"order": 4})
    timeout: int = Field(10, ge=1, le=60, title="Timeout", json_schema_extra={"order": 5})
    max_discount: Decimal = Field(
        Decimal("100"), ge=0, le=100, decimal_places=2, json_schema_extra={"order": 6}
    )
    verify_tls: bool = Field(True, json_schema_extra={"order": 7})
    auth: Literal["none", "bearer"] = Field(
        "none",
        json_schema_extra={"order": 8, "choice_labels": {"none": "No auth", "bearer": "Bearer"}},
    )
    region: Region | None = Field(None, json_schema_extra={"order": 9})
    tenant: str = Field("main", json_schema_extra={"order": 10, "read_only": True})


class EveryKindConnector(base.Connector):
    key = "every_kind"
    label = "Every kind"
    Config = EveryKindConfig

    def test_connection(self, config: BaseModel) -> base.TestResult:
        return base.TestResult(base.TestStatus.OK, "ok")


class ConnectionForm(forms.Form):
    """Shaped like the lead's connection form: own fields around the config block."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False)

    def __init__(
        self,
        *args: Any,
        connector_cls: type[base.Connector] = EveryKindConnector,
        initial_public: dict[str, Any] | None = None,
        stored_secrets: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connector_cls = connector_cls
        self.stored_secrets = stored_secrets or {}
        self.config: BaseModel | None = None
        add_config_fields(
            self,
            connector_cls,
            initial_public=initial_public or {},
            stored_secret_names=set(self.stored_secrets),
            before="description",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.config = clean_config(self, self.connector_cls, stored_secrets=self.stored_secrets)
        return cleaned


def post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Acme",
        "config__company": "ACME",
        "config__api_token": "tok-123",
        "config__password": "",
        "config__base_url": "https://erp.example.com",
        "config__timeout": "15",
        "config__max_discount": "25.50",
        "config__verify_tls": "on",
        "config__auth": "bearer",
        "config__region": "eu",
        "config__tenant": "main",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_config_fields_are_prefixed_in_connector_order_before_description() -> None:
    assert list(ConnectionForm().fields) == [
        "name",
        "config__about",
        "config__company",
        "config__api_token",
        "config__password",
        "config__base_url",
        "config__timeout",
        "config__max_discount",
        "config__verify_tls",
        "config__auth",
        "config__region",
        "config__tenant",
        "description",
    ]


def test_each_kind_maps_to_its_django_field() -> None:
    fields = ConnectionForm().fields
    assert isinstance(fields["config__about"], StaticTextField)
    assert type(fields["config__company"]) is forms.CharField
    assert isinstance(fields["config__api_token"].widget, forms.PasswordInput)
    assert isinstance(fields["config__base_url"], ConfigURLField)
    assert isinstance(fields["config__timeout"], forms.IntegerField)
    assert isinstance(fields["config__max_discount"], forms.DecimalField)
    assert isinstance(fields["config__verify_tls"], forms.BooleanField)
    assert isinstance(fields["config__auth"], forms.TypedChoiceField)
    assert isinstance(fields["config__region"], forms.TypedChoiceField)


def test_secret_inputs_never_render_their_value() -> None:
    assert ConnectionForm().fields["config__api_token"].widget.render_value is False


def test_labels_help_texts_and_choices_come_from_the_schema() -> None:
    fields = ConnectionForm().fields
    assert fields["config__company"].label == "Company"
    assert fields["config__company"].help_text == "Company code"
    assert list(fields["config__auth"].choices) == [("none", "No auth"), ("bearer", "Bearer")]
    assert list(fields["config__region"].choices)[0] == ("", "---------")


def test_defaults_are_the_initial_values_of_a_new_connection() -> None:
    fields = ConnectionForm().fields
    assert fields["config__timeout"].initial == 10
    assert fields["config__max_discount"].initial == Decimal("100")
    assert fields["config__verify_tls"].initial is True


def test_stored_values_are_the_initial_values_when_editing() -> None:
    form = ConnectionForm(initial_public={"timeout": 42, "company": "OLD"})
    assert form.fields["config__timeout"].initial == 42
    assert form.fields["config__company"].initial == "OLD"


def test_limits_reach_the_rendered_inputs() -> None:
    html = str(ConnectionForm()["config__timeout"]) + str(ConnectionForm()["config__company"])
    assert 'min="1"' in html
    assert 'max="60"' in html
    assert 'maxlength="20"' in html


def test_mandatory_fields_are_required_and_optional_ones_are_not() -> None:
    fields = ConnectionForm().fields
    assert fields["config__company"].required
    assert fields["config__api_token"].required
    assert not fields["config__password"].required
    assert not fields["config__verify_tls"].required


def test_a_read_only_field_is_disabled() -> None:
    assert ConnectionForm().fields["config__tenant"].disabled


def test_every_kind_round_trips_to_the_validated_config() -> None:
    form = ConnectionForm(data=post())
    assert form.is_valid(), form.errors
    assert form.config == EveryKindConfig(
        company="ACME",
        api_token="tok-123",
        password=None,
        base_url="https://erp.example.com",
        timeout=15,
        max_discount=Decimal("25.50"),
        verify_tls=True,
        auth="bearer",
        region=Region.EU,
        tenant="main",
    )


def test_an_unticked_checkbox_gives_false() -> None:
    form = ConnectionForm(data=post(config__verify_tls=None))
    assert form.is_valid(), form.errors
    assert form.config is not None
    assert form.config.verify_tls is False


def test_an_empty_optional_choice_gives_none() -> None:
    form = ConnectionForm(data=post(config__region=""))
    assert form.is_valid(), form.errors
    assert form.config is not None
    assert form.config.region is None


def test_a_read_only_field_ignores_a_posted_value() -> None:
    form = ConnectionForm(data=post(config__tenant="hacked"), initial_public={"tenant": "main"})
    assert form.is_valid(), form.errors
    assert form.config is not None
    assert form.config.tenant == "main"


def test_a_host_without_dots_is_accepted_as_pydantic_accepts_it() -> None:
    form = ConnectionForm(data=post(config__base_url="http://erp:8000"))
    assert form.is_valid(), form.errors


def test_the_static_label_renders_its_text_and_saves_nothing() -> None:
    form = ConnectionForm(data=post(config__about="ignored"))
    assert "Talks to the Acme ERP." in str(form["config__about"])
    assert form.is_valid(), form.errors
    assert "about" not in form.config.model_dump()  # type: ignore[union-attr]


def test_the_static_label_renders_as_a_plain_paragraph() -> None:
    html = str(ConnectionForm()["config__about"])
    assert html.startswith("<p")
    assert "disabled" not in html
    assert "<input" not in html


def test_a_pydantic_error_appears_on_its_field() -> None:
    form = ConnectionForm(data=post(config__base_url="ftp://files.example.com"))
    assert not form.is_valid()
    assert list(form.errors) == ["config__base_url"]
    assert form.errors["config__base_url"] == ["Enter a valid URL."]


def test_a_django_bound_error_is_not_repeated_by_pydantic() -> None:
    form = ConnectionForm(data=post(config__timeout="99"))
    assert not form.is_valid()
    assert form.errors["config__timeout"] == ["Ensure this value is less than or equal to 60."]
    assert form.config is None


def test_pydantic_errors_are_shown_in_the_active_language() -> None:
    with translation.override("nl"):
        form = ConnectionForm(data=post(config__base_url="ftp://files.example.com"))
        assert not form.is_valid()
        assert form.errors["config__base_url"] == ["Voer een geldige URL in."]


class CrossFieldConfig(BaseModel):
    low: int = Field(1, json_schema_extra={"order": 1})
    high: int = Field(2, json_schema_extra={"order": 2})

    @model_validator(mode="after")
    def check(self) -> CrossFieldConfig:
        if self.low > self.high:
            raise ValueError("Low must not exceed high.")
        if self.low == self.high:
            raise PydanticCustomError("same", "High must differ from low.", {"field": "high"})
        return self


class CrossFieldConnector(EveryKindConnector):
    key = "cross"
    Config = CrossFieldConfig


def test_a_model_level_error_without_field_goes_to_the_form() -> None:
    form = ConnectionForm(
        data={"name": "x", "config__low": "5", "config__high": "1"},
        connector_cls=CrossFieldConnector,
    )
    assert not form.is_valid()
    assert form.non_field_errors() == ["Low must not exceed high."]


def test_a_model_level_error_naming_a_field_goes_to_that_field() -> None:
    form = ConnectionForm(
        data={"name": "x", "config__low": "3", "config__high": "3"},
        connector_cls=CrossFieldConnector,
    )
    assert not form.is_valid()
    assert form.errors["config__high"] == ["High must differ from low."]


class CrashingConfig(BaseModel):
    x: int = 1

    @model_validator(mode="after")
    def crash(self) -> CrashingConfig:
        raise RuntimeError("connector bug")


class CrashingConnector(EveryKindConnector):
    key = "crashing"
    Config = CrashingConfig


def test_a_crashing_validator_becomes_a_form_error_not_an_exception() -> None:
    form = ConnectionForm(data={"name": "x", "config__x": "1"}, connector_cls=CrashingConnector)
    assert not form.is_valid()
    assert form.non_field_errors()


def test_garbage_in_every_field_is_refused_without_raising() -> None:
    garbage = dict.fromkeys(post(), "\x00<script>💥")
    form = ConnectionForm(data=garbage)
    assert not form.is_valid()
    assert form.config is None


def test_a_secret_is_never_in_the_html_of_a_rejected_form() -> None:
    form = ConnectionForm(data=post(config__api_token="tok-SECRET", config__timeout="0"))
    assert not form.is_valid()
    assert "tok-SECRET" not in form.as_div()


def test_a_stored_secret_is_never_in_the_html_of_the_edit_form() -> None:
    form = ConnectionForm(stored_secrets={"api_token": "stored-SECRET"})
    assert "stored-SECRET" not in form.as_div()


def test_a_stored_secret_field_is_optional_and_says_unchanged() -> None:
    field = ConnectionForm(stored_secrets={"api_token": "stored"}).fields["config__api_token"]
    assert not field.required
    assert "Unchanged" in str(field.help_text)
    assert "Unchanged" not in str(ConnectionForm().fields["config__api_token"].help_text)


def test_a_blank_secret_on_edit_keeps_the_stored_value() -> None:
    form = ConnectionForm(data=post(config__api_token=""), stored_secrets={"api_token": "kept"})
    assert form.is_valid(), form.errors
    assert form.config.api_token.get_secret_value() == "kept"  # type: ignore[union-attr]


def test_a_typed_secret_on_edit_replaces_the_stored_value() -> None:
    form = ConnectionForm(data=post(config__api_token="new"), stored_secrets={"api_token": "old"})
    assert form.is_valid(), form.errors
    assert form.config.api_token.get_secret_value() == "new"  # type: ignore[union-attr]


def test_a_blank_mandatory_secret_without_stored_value_is_required() -> None:
    form = ConnectionForm(data=post(config__api_token=""))
    assert not form.is_valid()
    assert form.errors["config__api_token"] == ["This field is required."]


def test_config_bound_fields_lists_the_config_block_in_order() -> None:
    form = ConnectionForm()
    names = [bound.name for bound in config_bound_fields(form)]
    assert names[0] == "config__about"
    assert names[-1] == "config__tenant"


class FloatConfig(BaseModel):
    ratio: float = 0.5


class FloatConnector(EveryKindConnector):
    key = "float"
    Config = FloatConfig


def test_an_unsupported_field_type_fails_loudly() -> None:
    with pytest.raises(UnsupportedFieldType, match="ratio"):
        ConnectionForm(connector_cls=FloatConnector)


def test_the_product_register_config_round_trips() -> None:
    from connectors.builtin.product_register import ProductRegisterConnector

    form = ConnectionForm(
        data={
            "name": "Register",
            "config__price_decimals": "3",
            "config__rounding_mode": "down",
            "config__max_discount": "10",
        },
        connector_cls=ProductRegisterConnector,
    )
    assert form.is_valid(), form.errors
    assert form.config.price_decimals == 3  # type: ignore[union-attr]
    assert form.config.rounding_mode == "down"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_shown_form_translates_its_texts_once_and_a_posted_one_leaves_them_lazy() -> None:
    from django.utils.functional import Promise

    from connections.forms import ConnectionForm as DialogForm

    with translation.override("nl"):
        shown = DialogForm(connector_key="rest_json").fields["config__base_url"]
        posted = DialogForm({"connector": "rest_json"}).fields["config__base_url"]
    assert type(shown.label) is str and shown.label == "Basis-URL"
    assert isinstance(posted.label, Promise) and posted.help_text == ""  # never shown
    assert shown.help_text and type(shown.help_text) is str
    with translation.override("nl"):
        form = DialogForm({"connector": "rest_json", "config__rounding_mode": "nope"})
        form.is_valid()  # validating translates no label, help text or choice
        choices = form.fields["config__rounding_mode"].choices
    assert all(isinstance(label, Promise) for _value, label in choices if _value)
    assert "config__rounding_mode" in form.errors
    with translation.override("nl"):
        assert str(posted.label) == "Basis-URL"  # still in the language it is shown in
