"""An example quote connector plugin (entry point ``example_erp``).

It reaches no system: its test only checks its own configuration and answers ``ok``. It
shows the plugin contract: a ``Connector`` subclass with ``key``, ``label``, ``Config``,
``capabilities`` and ``sync_connection``, found through the entry point group
``erpsettings.quote_connectors`` and registered by the host's registry (a plugin does not
call ``register`` itself).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy as _
from pydantic import BaseModel, Field

from connectors.base import Capability, Connector, PriceList, TestResult, TestStatus
from connectors.schema import static_label

__version__ = "0.1.0"


class ExampleERPConfig(BaseModel):
    """The example's settings: a text, an integer, a checkbox and a static label."""

    about: None = static_label(
        _("This example connector talks to no system; it works through the sync connection."),
        order=0,
    )
    company: str = Field(
        min_length=1,
        max_length=50,
        title=_("Company code"),
        description=_("The company in the example ERP whose prices are used."),
        json_schema_extra={"order": 10},
    )
    page_size: int = Field(
        50,
        ge=1,
        le=500,
        title=_("Page size"),
        description=_("How many products one request fetches."),
        json_schema_extra={"order": 20},
    )
    include_inactive: bool = Field(
        False,
        title=_("Include inactive products"),
        description=_("Also offer products that are no longer sold."),
        json_schema_extra={"order": 30},
    )


class ExampleERPConnector(Connector[ExampleERPConfig]):
    """A connector that needs a sync connection and always passes its test."""

    key = "example_erp"
    label = _("Example ERP (plugin)")
    vendor = "Example Software B.V."
    version = __version__
    description = _("An installed example plugin that uses a sync connection.")
    Config = ExampleERPConfig
    capabilities = frozenset({Capability.PRICE_LISTS})
    sync_connection = "required"

    def test_connection(self, config: ExampleERPConfig) -> TestResult:
        """Always ``ok``: there is nothing to reach; reports the configured company."""
        assert isinstance(config, ExampleERPConfig)
        return TestResult(
            TestStatus.OK,
            gettext("Example ERP OK: company %(company)s") % {"company": config.company},
            technical_message=f"example connector, company={config.company!r}",
            details={"company": config.company, "page_size": config.page_size},
        )

    def price_lists(
        self, config: ExampleERPConfig, *, currency: str | None = None
    ) -> list[PriceList]:
        """One fixed price list per company (the example has no system to ask)."""
        lists = [PriceList(id=f"{config.company}-std", name="Standard", currency="EUR")]
        return [pl for pl in lists if currency is None or pl.currency == currency.upper()]
