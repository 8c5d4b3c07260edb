"""Browser tests: real headless Chromium against the live server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.quotes.conftest import (  # noqa: F401  (the quote side's fixtures, for test_quote)
    register_connection,
    register_lists,
    rest_connection,
    sales,
)

LIST_PATH = "/settings/quote-sync/erp-connections/"


@pytest.fixture
def log_in(live_server: Any, password: str) -> Callable[[Page, str], None]:
    """Log in through the login page, as a person does."""

    def log_in(page: Page, username: str) -> None:
        page.goto(f"{live_server.url}{LIST_PATH}")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        page.locator("form button[type=submit]").click()
        expect(page.locator("#connection-table")).to_be_visible()
        # htmx (deferred) is set up by "load": a click before that would go unheard.
        page.wait_for_load_state("load")

    return log_in


@pytest.fixture(params=["en", "nl"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any], language: str) -> dict[str, Any]:
    """The browser's language decides the UI language (Accept-Language)."""
    return {**browser_context_args, "locale": {"en": "en-US", "nl": "nl-NL"}[language]}


@pytest.fixture(autouse=True)
def no_console_errors(page: Page) -> Any:
    """Every browser test fails on a console error or an uncaught exception in the page
    (a 404 favicon, an htmx oobErrorNoTarget, a CSP refusal, a script error...)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield errors
    assert not errors, f"console errors: {errors}"


@pytest.fixture(autouse=True)
def no_native_boxes(page: Page) -> Any:
    """alert(), confirm() and prompt() are never used: a native box fails the test."""
    boxes: list[str] = []

    def refuse(dialog: Any) -> None:
        boxes.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", refuse)
    yield
    assert not boxes, f"native boxes: {boxes}"
