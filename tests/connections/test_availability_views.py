"""Availability on the list (icon, message, *Unavailable* filter) and in the admin."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from connections import health, tasks
from connections.models import ERPConnection

pytestmark = pytest.mark.django_db

LIST_URL = "/settings/quote-sync/erp-connections/"


def _mark_unavailable(connection: ERPConnection, message: str) -> None:
    ERPConnection.objects.filter(pk=connection.pk).update(
        available=False,
        availability_message=message,
        last_test_at=timezone.now(),
        last_test_status="error",
        last_test_message=message,
        last_test_automatic=True,
    )


def _row(html: str, connection: ERPConnection) -> str:
    match = re.search(rf'<tr id="connection-{connection.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {connection.name}"
    return match.group(0)


def test_unavailable_row_shows_an_icon_and_the_message(manager_client, make_connection):
    down = make_connection("Down ERP")
    up = make_connection("Up ERP")
    _mark_unavailable(down, "The ERP server reported an error (HTTP 503).")
    html = manager_client.get(LIST_URL).content.decode()
    row = _row(html, down)
    assert 'class="connection-row unavailable"' in row
    assert 'class="unavailable-icon" role="img" aria-label="Unavailable"' in row
    assert "The ERP server reported an error (HTTP 503)." in row
    assert "automatic check" in row
    assert "unavailable-icon" not in _row(html, up)


def test_unavailable_filter_lists_only_unavailable_connections(manager_client, make_connection):
    down = make_connection("Down ERP")
    up = make_connection("Up ERP")
    _mark_unavailable(down, "down")
    html = manager_client.get(LIST_URL, {"unavailable": "1"}).content.decode()
    assert f'id="connection-{down.pk}"' in html
    assert f'id="connection-{up.pk}"' not in html
    assert 'id="show-unavailable" name="unavailable" value="1" checked' in html
    # The filter is part of the list's state: sort links and actions keep it.
    assert "unavailable=1" in html


def test_unavailable_filter_says_when_there_are_none(manager_client, make_connection):
    make_connection("Up ERP")
    response = manager_client.get(LIST_URL, {"unavailable": "1"}, headers={"HX-Request": "true"})
    assert "No unavailable connections." in response.content.decode()


def test_unavailable_filter_in_dutch(client, manager, make_connection):
    client.force_login(manager)
    html = client.get(LIST_URL, headers={"Accept-Language": "nl"}).content.decode()
    assert "Niet beschikbaar" in html


def test_admin_changelist_shows_availability_and_the_last_check(client, make_connection):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    down = make_connection("Down ERP")
    _mark_unavailable(down, "down")
    html = client.get("/admin/connections/erpconnection/").content.decode()
    assert "Last check" in html and "automatic check" in html
    filtered = client.get("/admin/connections/erpconnection/", {"available": "no"})
    assert "Down ERP" in filtered.content.decode()
    assert (
        "Down ERP"
        not in client.get(
            "/admin/connections/erpconnection/", {"available": "yes"}
        ).content.decode()
    )


def test_admin_change_page_shows_the_health_check_task_results(client, make_connection):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    connection = make_connection("Checked", connector_key="not_installed", config={})
    other = make_connection("Other", connector_key="not_installed", config={})
    health.connections_claim()
    result = tasks.connection_health_check.enqueue(connection_id=connection.pk)
    tasks.connection_health_check.enqueue(connection_id=other.pk)
    db_result = result.db_result  # type: ignore[attr-defined]
    db_result.set_successful(tasks.connection_health_check.call(connection_id=connection.pk))
    html = client.get(f"/admin/connections/erpconnection/{connection.pk}/change/").content.decode()
    assert "Health check tasks" in html
    assert f"/admin/django_tasks_database/dbtaskresult/{db_result.pk}/change/" in html
    assert len(re.findall(r"/admin/django_tasks_database/dbtaskresult/[^/]+/change/", html)) == 1
    assert "The quote connector of this connection is not installed." in html
