"""The dialog's richer configuration fields: sections, conditional fields, choices from the
ERP, tooltips, date/time; and the upgrade path of a connector whose Config changed."""

from __future__ import annotations

import html as html_module
import json
import re
import socket
from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr

from connections import crypto, selectors
from connections.forms import ConnectionForm
from connections.models import ConnectionEvent, ERPConnection
from connectors import registry
from connectors.base import Connector, TestResult, TestStatus
from tests.connections.test_dialog_views import HTMX, edit_url, rest_values

pytestmark = pytest.mark.django_db
CHOICES_URL = "/settings/quote-sync/erp-connections/connector-choices/"


def block(client: Any, connector: str) -> str:
    url = reverse("connections:connector_fields")
    return client.get(url, {"connector": connector}, headers=HTMX).content.decode()


def wrapper_of(html: str, name: str) -> str:
    """The opening tag of the field wrapper that holds ``name``."""
    position = html.index(f'name="{name}"')
    start = html.rindex('<div id="field-', 0, position)
    return html[start : html.index(">", start) + 1]


# --------------------------------------------------------------------------- sections


def test_sections_are_fieldsets_in_the_connectors_order(manager_client):
    html = block(manager_client, "rest_json")
    legends = re.findall(r'<fieldset class="config-section"><legend>([^<]+)</legend>', html)
    assert legends == ["Connection", "Authentication", "Business rules"]
    connection = html.index("<legend>Connection</legend>")
    authentication = html.index("<legend>Authentication</legend>")
    for name in ("config__base_url", "config__timeout", "config__verify_tls"):
        assert connection < html.index(f'name="{name}"') < authentication


def test_tryton_groups_company_and_price_list_under_quotes(manager_client):
    legends = re.findall(r"<legend>([^<]+)</legend>", block(manager_client, "tryton"))
    assert legends == ["Connection", "Quotes", "Business rules"]


# --------------------------------------------------------------------------- help tooltips


def test_help_text_is_a_tooltip_on_an_info_button_described_by_it(manager_client):
    html = block(manager_client, "rest_json")
    assert 'class="help"' not in html
    button = re.search(r'<button type="button" class="info-button"[^>]*>', html).group(0)
    assert 'aria-label="More information"' in button
    assert 'aria-describedby="id_config__base_url_helptext"' in button
    assert re.search(r'role="tooltip" id="id_config__base_url_helptext">Address of the ERP', html)
    url_input = re.search(r'<input[^>]*name="config__base_url"[^>]*>', html).group(0)
    assert 'aria-describedby="id_config__base_url_helptext"' in url_input


# --------------------------------------------------------------------------- conditional fields


def test_token_and_basic_fields_are_hidden_while_authentication_is_none(manager_client):
    html = block(manager_client, "rest_json")
    token = wrapper_of(html, "config__api_token")
    assert " hidden" in token
    assert "data-visible-when=" in token and "config__authentication" in token
    assert "bearer" in token
    assert " hidden" in wrapper_of(html, "config__username")
    assert " hidden" in wrapper_of(html, "config__password")
    assert " hidden" not in wrapper_of(html, "config__base_url")


def test_the_token_field_is_shown_for_a_saved_bearer_connection(manager_client, make_connection):
    connection = make_connection(
        config={"base_url": "https://erp.example.com/", "authentication": "bearer"}
    )
    html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    assert " hidden" not in wrapper_of(html, "config__api_token")
    assert " hidden" in wrapper_of(html, "config__username")


def test_a_hidden_field_is_neither_validated_nor_stored():
    values = rest_values(
        "https://erp.example.com",
        **{"config__authentication": "none", "config__api_token": "bad\r\ntoken"},
        config__username="has:colon",
    )
    form = ConnectionForm(values)
    assert form.is_valid(), form.errors
    assert form.config.api_token is None and form.config.username == ""


def test_a_shown_conditional_field_is_required_by_the_connector():
    values = rest_values("https://erp.example.com", config__api_token="")
    form = ConnectionForm(values)
    assert not form.is_valid()
    assert form.errors["config__api_token"] == [
        "Enter the API token for Bearer token authentication."
    ]


def test_basic_authentication_needs_username_and_password():
    values = rest_values(
        "https://erp.example.com", config__authentication="basic", config__api_token=None
    )
    form = ConnectionForm(values)
    assert not form.is_valid()
    assert {"config__username", "config__password"} <= set(form.errors)


# --------------------------------------------------------------------------- choices from the ERP


def tryton_values(**overrides: str) -> dict[str, str]:
    values = {
        "connector": "tryton",
        "field": "company",
        "config__server_url": "",
        "config__database": "",
        "config__api_key": "",
        "config__company": "1",
    }
    return {**values, **overrides}


def test_the_company_field_loads_its_choices_with_htmx(manager_client):
    html = block(manager_client, "tryton")
    container = re.search(r'<div id="choices-config__company"[^>]*>', html).group(0)
    assert f'hx-post="{CHOICES_URL}"' in container
    assert "change from:#field-config__server_url" in container
    assert "change from:#field-config__api_key" in container
    price_lists = re.search(r'<div id="choices-config__price_list"[^>]*>', html).group(0)
    assert "change from:#field-config__company" in price_lists
    assert re.search(r'<select name="config__company"', html)


def test_choices_ask_for_the_fields_they_depend_on_first(manager_client):
    html = manager_client.post(CHOICES_URL, tryton_values(), headers=HTMX).content.decode()
    assert "Fill in Server URL, Database, API key to load the choices." in html
    assert '<option value="1" selected>1</option>' in html  # the current value stays


def test_choices_say_clearly_when_the_erp_cannot_be_reached(manager_client, settings):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    values = tryton_values(
        config__server_url=f"http://127.0.0.1:{port}",
        config__database="demo",
        config__api_key="key",
    )
    html = manager_client.post(CHOICES_URL, values, headers=HTMX).content.decode()
    assert "The choices could not be loaded: Cannot reach 127.0.0.1" in html
    assert 'class="choices-message warning"' in html


def test_choices_of_an_unknown_connector_are_refused(manager_client):
    response = manager_client.post(CHOICES_URL, tryton_values(connector="nope"), headers=HTMX)
    assert response.status_code == 400


def test_choices_need_the_manage_permission(client, make_user, password):
    make_user("viewer", staff=True)
    client.login(username="viewer", password=password)
    assert client.post(CHOICES_URL, tryton_values(), headers=HTMX).status_code == 403


@pytest.mark.tryton
def test_company_choices_come_from_the_real_tryton_server(manager_client, settings, tryton_server):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    values = tryton_values(
        config__server_url=tryton_server.url,
        config__database=tryton_server.database,
        config__api_key=tryton_server.api_key,
    )
    html = manager_client.post(CHOICES_URL, values, headers=HTMX).content.decode()
    assert "Demo Office Supplies (EUR)</option>" in html
    assert "could not be loaded" not in html


# --------------------------------------------------------------------------- date/time, upgrades


class Versioned(BaseModel):
    base_url: AnyHttpUrl = Field(title="Base URL")
    valid_from: datetime | None = Field(None, title="Valid from")


class VersionedConnector(Connector[Versioned]):
    key = "versioned_test"
    label = "Versioned (test)"
    vendor = "Tests"
    description = "Config v2 renamed host to base_url."
    Config = Versioned
    config_version = 2

    def check(self, config: Versioned) -> TestResult:
        return TestResult(TestStatus.OK, "fine")

    @classmethod
    def migrate_config(cls, values: dict[str, Any], from_version: int) -> dict[str, Any]:
        if from_version < 2 and "host" in values:
            values["base_url"] = f"https://{values.pop('host')}/"
        return values


class Unmigrated(VersionedConnector):
    key = "unmigrated_test"
    label = "Unmigrated (test)"

    @classmethod
    def migrate_config(cls, values: dict[str, Any], from_version: int) -> dict[str, Any]:
        return values


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(registry, "_connectors", dict(registry._connectors))
    registry.register(VersionedConnector)
    registry.register(Unmigrated)


def test_a_datetime_field_is_a_datetime_local_input(manager_client, installed):
    html = block(manager_client, "versioned_test")
    assert re.search(r'<input type="datetime-local" name="config__valid_from"', html)


@pytest.mark.usefixtures("installed")
def test_a_config_that_no_longer_validates_needs_attention_on_the_list(
    manager_client, make_connection
):
    make_connection("Old", connector_key="unmigrated_test", config={"host": "erp.example.com"})
    make_connection("Fine", connector_key="versioned_test", config={"host": "erp.example.com"})
    response = manager_client.get(reverse("connections:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Needs attention: the connector changed; edit and test again.") == 1
    fine_row = html[html.index(">Fine<") : html.index(">Old<")]  # sorted by name
    assert "Needs attention" not in fine_row
    assert "Needs attention" in html[html.index(">Old<") :]


@pytest.mark.usefixtures("installed")
def test_the_migration_runs_on_the_next_edit_and_is_recorded(manager_client, make_connection):
    connection = make_connection(
        "Old", connector_key="versioned_test", config={"host": "erp.example.com"}
    )
    html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    assert 'value="https://erp.example.com/"' in html
    connection.refresh_from_db()
    assert connection.config == {"host": "erp.example.com"}  # nothing changes until saved
    values = {
        "name": "Old",
        "connector": "versioned_test",
        "scope": "all",
        "config__base_url": "https://erp.example.com/",
        "config__valid_from": "",
        "description": "",
    }
    save_url = reverse("connections:edit_save", args=[connection.pk])
    response = manager_client.post(save_url, values, headers=HTMX)
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.config_version == 2
    assert connection.config["base_url"] == "https://erp.example.com/"
    event = ConnectionEvent.objects.filter(connection=connection).latest("pk")
    assert event.changes["config_version"] == [1, 2]
    assert not selectors.connection_row(pk=connection.pk).needs_attention


class SiteConfig(BaseModel):
    base_url: AnyHttpUrl = Field(title="Base URL")
    token: SecretStr | None = Field(None, title="Token")
    site: str = Field(
        "", title="Site", json_schema_extra={"choices_from": "sites", "depends_on": ["base_url"]}
    )


class SitesConnector(Connector[SiteConfig]):
    key = "sites_test"
    label = "Sites (test)"
    Config = SiteConfig

    def check(self, config: SiteConfig) -> TestResult:
        return TestResult(TestStatus.OK, "fine")

    def sites(self, config: SiteConfig) -> list[tuple[str, str]]:
        return [("main", "with the stored token" if config.token else "without a token")]


@pytest.fixture
def sites_connection(monkeypatch, make_connection):
    monkeypatch.setattr(registry, "_connectors", dict(registry._connectors))
    registry.register(SitesConnector)
    return make_connection(
        "Sites",
        connector_key="sites_test",
        config={"base_url": "https://erp.example.com/"},
        secrets=crypto.encrypt_secrets({"token": "s3cret"}),
    )


def site_choices(client: Any, connection: ERPConnection, base_url: str) -> str:
    values = {
        "connector": "sites_test",
        "field": "site",
        "connection": str(connection.pk),
        "config__base_url": base_url,
        "config__token": "",
    }
    return client.post(CHOICES_URL, values, headers=HTMX).content.decode()


def test_choices_of_a_saved_connection_use_its_stored_secret(manager_client, sites_connection):
    html = site_choices(manager_client, sites_connection, "https://erp.example.com/")
    assert "with the stored token" in html


def test_a_stored_secret_never_follows_a_changed_server_address(manager_client, sites_connection):
    html = site_choices(manager_client, sites_connection, "https://elsewhere.example.net/")
    assert "without a token" in html and "s3cret" not in html


def test_the_list_asks_the_installed_class_not_a_remembered_answer(monkeypatch):
    """The list keeps needs-attention answers per connector class: a connector installed
    anew under the same key is asked again."""
    from connections import list_rows

    monkeypatch.setattr(registry, "_connectors", dict(registry._connectors))
    registry.register(VersionedConnector)
    stored = {"host": "erp.example.com"}
    assert not list_rows.needs_attention("versioned_test", stored, 1, "")

    class Replaced(Unmigrated):
        key = "versioned_test"

    registry._connectors["versioned_test"] = Replaced
    assert list_rows.needs_attention("versioned_test", stored, 1, "")


# --------------------------------------------------------------------------- the markup


class Hostile(BaseModel):
    note: str = Field("", title='<b>"Note"</b>', description="Say <i>what</i> & 'why'")
    flag: bool = Field(False, title="<Flag>", description="a & b")


class HostileConnector(VersionedConnector):
    key = "hostile_test"
    label = "Hostile (test)"
    Config = Hostile  # type: ignore[assignment]
    config_version = 1


def test_a_connectors_labels_and_help_texts_are_escaped(manager_client, monkeypatch):
    monkeypatch.setattr(registry, "_connectors", dict(registry._connectors))
    registry.register(HostileConnector)
    html = block(manager_client, "hostile_test")
    assert "<b>" not in html and "<i>" not in html and "<Flag>" not in html
    assert "&lt;b&gt;&quot;Note&quot;&lt;/b&gt;" in html
    assert "Say &lt;i&gt;what&lt;/i&gt; &amp; &#x27;why&#x27;" in html
    checkbox = r'<label for="id_config__flag"><input type="checkbox"[^>]*> &lt;Flag&gt;'
    assert re.search(checkbox, html)


def test_choices_of_a_saved_connection_name_it_in_their_request(manager_client, make_connection):
    connection = make_connection("Tryton", connector_key="tryton", config={"company": 1})
    html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    container = re.search(r'<div id="choices-config__company"[^>]*>', html).group(0)
    values = json.loads(html_module.unescape(re.search(r'hx-vals="([^"]*)"', container).group(1)))
    assert values == {"field": "company", "described": "1", "connection": str(connection.pk)}
