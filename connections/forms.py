"""The *Define new ERP connection* / *Edit ERP connection* dialog form."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from connections import crypto, services
from connections.config_forms import (
    ConfigSection,
    add_config_fields,
    clean_config,
    config_bound_fields,
    config_sections,
)
from connections.models import ERPConnection, SyncConnection
from connections.names import validate_name
from connections.renderers import DIALOG_RENDERER, DialogFields
from connectors import registry
from connectors.base import Connector
from connectors.schema import secret_fields, upgraded_values

SYNC_DEPENDENT = ("connector", "sync_connection")


class ConnectionForm(forms.Form):
    """Name, connector, scope, sync connection, the connector's fields, description.

    ``connection`` is the connection being edited (None when adding). The form resolves
    its stored secrets itself: a bound form decrypts them once (a secret input left empty
    keeps the stored value); an unbound one only needs their names, so nothing is
    decrypted to show the dialog. After ``is_valid()``, ``config`` is the validated
    connector ``Config`` and ``kept_secrets`` the names of the secrets left unchanged.
    """

    default_renderer = DIALOG_RENDERER  # the same markup, the common widgets without templates

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    connector = forms.ChoiceField(label=_("Quote connector"))
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ERPConnection.Scope.choices,
        widget=forms.RadioSelect,
        initial=ERPConnection.Scope.ALL,
    )
    users = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.all(), required=False, widget=forms.MultipleHiddenInput
    )
    sync_connection = forms.ModelChoiceField(
        label=_("ERP connection"),
        queryset=SyncConnection.objects.filter(active=True),
        required=False,
        empty_label=_("No ERP connection"),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    proof = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        connection: ERPConnection | None = None,
        stored_secrets: dict[str, str] | None = None,
        stored_secret_names: set[str] | None = None,
        connector_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        if connection is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": connection.name,
                "connector": connection.connector_key,
                "scope": connection.scope,
                # Its users and groups are the dialog's chips (selectors.connection_principals).
                "sync_connection": connection.sync_connection_id,  # no query for the object
                "description": connection.description,
            }
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.secrets_unreadable = False
        if stored_secrets is None and self.is_bound:
            try:
                stored_secrets = services.connection_stored_secrets(connection=connection)
            except crypto.SecretsUnreadable:  # a lost key: blank secrets cannot be kept
                stored_secrets, self.secrets_unreadable = {}, True
        if stored_secret_names is None:
            stored_secret_names = services.connection_secret_names(connection=connection)
        self.stored_secrets = stored_secrets or {}
        self.stored_secret_names = set(self.stored_secrets) | stored_secret_names
        self.config: BaseModel | None = None
        self.kept_secrets: list[str] = []
        connector_field = cast(forms.ChoiceField, self.fields["connector"])
        if self.is_bound:  # validated, never shown: no labels to translate and sort
            connector_field.choices = [(key, key) for key in registry.connector_keys()]
        else:
            connector_field.choices = registry.connector_choices()
            # Changing the connector swaps only the config block (views.connector_fields).
            connector_field.widget.attrs.update(
                {
                    "hx-get": reverse("connections:connector_fields"),
                    "hx-target": "#config-fields",
                    "hx-swap": "outerHTML",
                    "hx-include": "this",
                    "aria-describedby": "error-connector",
                }
            )
            if connection is not None:
                pk = str(connection.pk)
                connector_field.widget.attrs["hx-vals"] = json.dumps({"connection": pk})
        key = connector_key or self._chosen_connector()
        self.connector_cls: type[Connector[Any]] | None = None
        # The connector of a saved connection may have been uninstalled since.
        self.missing_connector = ""
        try:
            self.connector_cls = registry.get_connector_class(key) if key else None
        except registry.UnknownConnector:
            self.missing_connector = str(key) if not self.is_bound else ""
        if self.connector_cls is None and connector_field.choices:
            first = connector_field.choices[0][0]
            self.connector_cls = registry.get_connector_class(first)
            self.initial["connector"] = first
        self._add_connector_fields()

    def _chosen_connector(self) -> str | None:
        if self.is_bound:
            return self.data.get("connector") or None
        return self.initial.get("connector")

    def _add_connector_fields(self) -> None:
        cls = self.connector_cls
        if cls is None:
            self.config_field_names: list[str] = []
            return
        usage = cls.sync_connection
        if usage == "none":
            del self.fields["sync_connection"]
        else:
            self.fields["sync_connection"].required = usage == "required"
        same_connector = self.connection is not None and self.connection.connector_key == cls.key
        initial: dict[str, Any] = {}
        if same_connector and self.connection is not None:
            try:  # an upgraded connector's migration runs here, on the next edit
                initial = upgraded_values(
                    cls, self.connection.config, self.connection.config_version
                )
            except Exception:  # a crashing migration: show what is stored
                initial = dict(self.connection.config)
        add_config_fields(
            self,
            cls,
            initial_public=initial,
            stored_secret_names=self.stored_secret_names if same_connector else (),
            before="description",
        )

    @property
    def uses_sync_connection(self) -> bool:
        return "sync_connection" in self.fields

    def config_fields(self) -> list[forms.BoundField]:
        return config_bound_fields(self)

    def config_sections(self) -> list[ConfigSection]:
        return config_sections(self)

    @property
    def dialog_fields(self) -> DialogFields:
        """``{{ form.dialog_fields.name }}``: the dialog's own fields, written in Python."""
        return DialogFields(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cls = self.connector_cls
        if cls is None:
            self.add_error("connector", _("Choose an installed quote connector."))
            return cleaned
        same_connector = self.connection is not None and self.connection.connector_key == cls.key
        stored = self.stored_secrets if same_connector else {}
        self.kept_secrets = [
            name
            for name in secret_fields(cls.Config)
            if name in stored and not cleaned.get(f"config__{name}")
        ]
        self.config = clean_config(self, cls, stored_secrets=stored)
        if self.secrets_unreadable and same_connector:
            for name in self.stored_secret_names:
                field = f"config__{name}"
                if field in self.fields and not self.data.get(field):
                    self.errors.pop(field, None)  # "required" says less than why
                    self.add_error(
                        field,
                        _("The stored value cannot be read with the current keys. Enter it again."),
                    )
                    self.config = None
        typed_name = cleaned.get("name")
        if typed_name and services.connection_name_taken(
            name=typed_name, connection=self.connection
        ):
            self.add_error("name", _("A connection with this name already exists."))
        # What was posted, not the cleaned querysets: an empty pick is a ``none()`` queryset,
        # and asking it whether it is empty runs the query compiler for nothing.
        picked = self["users"].data or self["groups"].data
        bad_pick = self.has_error("users") or self.has_error("groups")
        if cleaned.get("scope") == ERPConnection.Scope.SPECIFIC and not picked and not bad_pick:
            self.add_error("scope", _("Select at least one user or group, or choose All."))
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``connection_create``/``connection_update``."""
        assert self.config is not None and self.connector_cls is not None
        data = self.cleaned_data
        return {
            "name": data["name"],
            "connector_key": self.connector_cls.key,
            "config": self.config,
            "description": data.get("description", ""),
            "scope": data["scope"],
            "users": data.get("users") or [],
            "groups": data.get("groups") or [],
            "sync_connection": data.get("sync_connection"),
        }
