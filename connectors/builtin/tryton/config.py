"""The Tryton connection's configuration, error codes and error class."""

from __future__ import annotations

import re
from enum import StrEnum

from django.utils.translation import gettext, gettext_lazy as _
from pydantic import AnyHttpUrl, ConfigDict, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from connectors.base import ConnectorError
from connectors.rules import BusinessRulesConfig
from connectors.support import CONNECTION, check_plain_url, timeout_field, verify_tls_field

_DATABASE_NAME = re.compile(r"^[^/\\\s?#%]+$")
#: The section of the company and the price list.
QUOTES = _("Quotes")
_CREDENTIALS = ["server_url", "database", "api_key"]


class ErrorCode(StrEnum):
    """One stable code per cause of failure (the ``error_code`` of a test result)."""

    UNREACHABLE = "unreachable"  # no connection (refused, unknown host, server stopped)
    ADDRESS_NOT_ALLOWED = "address_not_allowed"  # the guarded client refused the address
    TLS_CERTIFICATE = "tls_certificate"  # certificate or TLS handshake failed
    TIMEOUT = "timeout"  # no answer within the timeout
    NOT_TRYTON = "not_tryton"  # something answers, but not as Tryton
    UNKNOWN_DATABASE = "unknown_database"  # HTTP 404 on the database's REST routes
    KEY_REFUSED = "key_refused"  # HTTP 401: wrong, cancelled or not a REST key
    COMPANY_MISSING = "company_missing"  # no such company, or not readable with the key
    PRICE_LIST_MISSING = "price_list_missing"  # the price list for quotes was not found
    PRODUCT_NOT_FOUND = "product_not_found"
    MODULE_MISSING = "module_missing"  # the model is unknown: module not activated
    ACCESS_DENIED = "access_denied"  # HTTP 403
    TRYTON_REFUSED = "tryton_refused"  # HTTP 400 with Tryton's own message
    SERVER_ERROR = "server_error"  # HTTP 5xx
    UNEXPECTED_RESPONSE = "unexpected_response"  # not the JSON Tryton sends
    INVALID_LIMIT = "invalid_limit"


class TrytonError(ConnectorError):
    """A failure of a Tryton call."""


class TrytonConfig(BusinessRulesConfig):
    """Configuration of a Tryton connection; the rule fields come after these."""

    model_config = ConfigDict(hide_input_in_errors=True)

    server_url: AnyHttpUrl = Field(
        title=_("Server URL"),
        description=_("Address of the Tryton server, for example https://tryton.example.com."),
        json_schema_extra={"order": 10, "group": CONNECTION},
    )
    database: str = Field(
        min_length=1,
        max_length=100,
        title=_("Database"),
        description=_("Name of the Tryton database."),
        json_schema_extra={"order": 20, "group": CONNECTION},
    )
    api_key: SecretStr = Field(
        min_length=1,
        max_length=512,
        title=_("API key"),
        description=_(
            "Key of a Tryton user application for the REST API (User > Applications), "
            "validated in Tryton."
        ),
        json_schema_extra={"order": 30, "group": CONNECTION},
    )
    company: int = Field(
        1,
        ge=1,
        title=_("Company"),
        description=_("Id of the Tryton company whose prices and price lists are used."),
        json_schema_extra={
            "order": 40,
            "group": QUOTES,
            "choices_from": "company_choices",
            "depends_on": _CREDENTIALS,
        },
    )
    price_list: str = Field(
        "",
        max_length=100,
        title=_("Price list for quotes"),
        description=_(
            "Id or name of the Tryton price list that prices quotes. Leave empty to use list "
            "prices."
        ),
        json_schema_extra={
            "order": 50,
            "group": QUOTES,
            "choices_from": "price_list_choices",
            "depends_on": [*_CREDENTIALS, "company"],
        },
    )
    timeout: int = timeout_field(_("How long to wait for an answer from Tryton."))
    verify_tls: bool = verify_tls_field(
        _("Check the Tryton server's certificate. Switch off only for testing.")
    )

    @field_validator("server_url")
    @classmethod
    def _plain_server_url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        return check_plain_url(
            value,
            credentials=gettext("Put the API key in its own field, not in the Server URL."),
            query=gettext("The Server URL cannot contain a query or a fragment."),
        )

    @field_validator("database")
    @classmethod
    def _plain_database(cls, value: str) -> str:
        value = value.strip()
        if not _DATABASE_NAME.match(value):
            raise PydanticCustomError(
                "database_name",
                gettext(
                    "A database name cannot contain spaces, slashes, question marks, hash "
                    "signs or percent signs."
                ),
            )
        return value

    @field_validator("api_key")
    @classmethod
    def _printable_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if not key or not all(33 <= ord(char) <= 126 for char in key):
            raise PydanticCustomError(
                "api_key", gettext("An API key consists of letters, digits and symbols only.")
            )
        return SecretStr(key)

    @field_validator("price_list")
    @classmethod
    def _strip_price_list(cls, value: str) -> str:
        return value.strip()

    def secret_values(self) -> list[str]:
        """Every string that must never appear in a message."""
        return [self.api_key.get_secret_value()]
