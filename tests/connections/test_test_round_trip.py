"""The dialog's *Test ERP connection* round trip reads no more than it needs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_test_of_new_values_reads_only_the_user_and_the_name(
    manager_client: Any, demo_erp: str, settings: Any
) -> None:
    """With the per-user limit off (it claims a slot in the shared cache), the database
    sees the user and their permissions (the view's access check) and the name check (the
    session comes from the cache); the test itself writes nothing."""
    settings.ERP_TESTS_PER_MINUTE = None
    values = {
        "name": "Demo ERP",
        "connector": "rest_json",
        "scope": "all",
        "config__base_url": demo_erp,
        "config__authentication": "bearer",
        "config__api_token": "demo-token",
        "config__timeout": "10",
        "config__price_decimals": "2",
        "config__rounding_mode": "half_up",
        "config__max_discount": "100",
    }
    url = reverse("connections:add_test")
    manager_client.post(url, values, headers={"HX-Request": "true"})  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.post(url, values, headers={"HX-Request": "true"})
    assert "Connection OK" in response.content.decode()
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0].strip('"') for q in queries]
    assert tables == [
        "auth_user",
        "auth_permission",  # the user's own permissions
        "auth_permission",  # those of their groups
        "connections_erpconnection",  # is the name taken?
    ]
