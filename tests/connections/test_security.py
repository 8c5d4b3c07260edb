"""Content-Security-Policy, login throttling and the proxy header (issue 8, finding 7)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LIST = "/settings/quote-sync/erp-connections/"


def _pages(connection_pk: int) -> list[str]:
    return [
        "/accounts/login/",
        LIST,
        f"{LIST}?deleted=1",
        f"{LIST}add/",
        f"{LIST}{connection_pk}/edit/",
        "/settings/quote-sync/sync-connections/",
        "/settings/quote-sync/quote-connectors/",
        "/admin/",
        "/admin/connections/erpconnection/",
        f"/admin/connections/erpconnection/{connection_pk}/change/",
        "/admin/connections/syncconnection/add/",
        "/quote/",
        "/api/quote/docs",
        "/api/quote/openapi.json",
        "/healthz",
        "/no-such-page/",
    ]


def test_every_page_sends_the_content_security_policy(admin_client, make_connection):
    connection = make_connection("Shown")
    for url in _pages(connection.pk):
        response = admin_client.get(url)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, url
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, url


INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                found.append(f"{template.relative_to(ROOT)}: {what}: {match.group(0)}")
    assert not found


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    html = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in html


# --- login throttling (django-axes) --------------------------------------------------------


def _fail(client, url: str, username: str, times: int) -> None:
    """Wrong passwords: the form again with its error, the fifth one locks."""
    for attempt in range(1, times + 1):
        response = client.post(url, {"username": username, "password": "wrong"})
        assert response.status_code == (429 if attempt >= 5 else 200)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_five_failures_lock_the_login_even_for_the_right_password(client, manager, password, url):
    _fail(client, url, "manager", 5)
    response = client.post(url, {"username": "manager", "password": password})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed login attempts" in html and "15 minutes" in html
    assert "ask Support to unlock" in html
    assert "_auth_user_id" not in client.session


def test_four_failures_still_let_the_right_password_in(client, manager, password):
    _fail(client, "/accounts/login/", "manager", 4)
    response = client.post("/accounts/login/", {"username": "manager", "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_the_lock_is_per_username_and_address(client, manager, make_user, password):
    make_user("other")
    _fail(client, "/accounts/login/", "manager", 5)
    other = client.post("/accounts/login/", {"username": "other", "password": password})
    assert other.status_code == 302
    from django.test import Client

    elsewhere = Client(REMOTE_ADDR="127.0.0.2").post(
        "/accounts/login/", {"username": "manager", "password": password}
    )
    assert elsewhere.status_code == 302


def test_the_lock_ends_after_the_cool_off(client, manager, password, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    _fail(client, "/accounts/login/", "manager", 5)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = client.post("/accounts/login/", {"username": "manager", "password": password})
    assert response.status_code == 302


def test_support_unlocks_a_login_in_the_admin(client, manager, make_user, password):
    from axes.models import AccessAttempt
    from django.test import Client

    _fail(client, "/accounts/login/", "manager", 5)
    support = make_user("helpdesk", staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    helpdesk = Client()
    helpdesk.force_login(support)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "manager" in helpdesk.get(changelist).content.decode()
    attempt = AccessAttempt.objects.get(username="manager")
    response = helpdesk.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    response = client.post("/accounts/login/", {"username": "manager", "password": password})
    assert response.status_code == 302


def _setting(name: str, **env: str) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(repr(getattr(settings, {name!r}, None)))"
    )
    base = {
        "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
        "DEBUG": "true",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_throttling_is_configured_from_the_environment():
    assert _setting("AXES_FAILURE_LIMIT", AXES_FAILURE_LIMIT="3") == "3"
    assert (
        _setting("AXES_COOLOFF_TIME", AXES_COOLOFF_MINUTES="60")
        == "datetime.timedelta(seconds=3600)"
    )
    assert _setting("AXES_LOCKOUT_PARAMETERS") == "[['username', 'ip_address']]"
    assert _setting("AXES_LOCKOUT_PARAMETERS", AXES_LOCKOUT_PARAMETERS="username,ip_address") == (
        "['username', 'ip_address']"
    )


def test_the_proxy_header_is_trusted_only_when_told():
    assert _setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert _setting("SECURE_PROXY_SSL_HEADER", TRUST_X_FORWARDED_PROTO="false") == "None"
    assert _setting("SECURE_PROXY_SSL_HEADER", TRUST_X_FORWARDED_PROTO="true") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_a_forged_forwarded_proto_does_not_make_a_request_secure(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert not request.is_secure()


def test_a_login_without_a_request_is_not_throttled_but_still_checked(client, manager, password):
    assert client.login(username="manager", password=password)
    assert not client.login(username="manager", password="wrong")


# --- the signed-in user (erpsettings.auth.UserBackend) -------------------------------------


def test_the_signed_in_user_is_read_in_one_plain_query_with_its_types(
    client, manager, django_assert_num_queries
):
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    client.force_login(manager)
    request = RequestFactory().get("/")
    request.session = client.session
    with django_assert_num_queries(1) as captured:
        user = get_user(request)
    assert "LIMIT" not in captured.captured_queries[0]["sql"]  # the raw statement, not .get()
    assert user.pk == manager.pk and user.username == "manager"
    assert user.date_joined == manager.date_joined and user.date_joined.tzinfo is not None
    assert user.has_perm("connections.change_erpconnection") is manager.has_perm(
        "connections.change_erpconnection"
    )


def test_an_unknown_or_deactivated_user_is_signed_out(client, manager):
    from erpsettings.auth import UserBackend

    assert UserBackend().get_user(manager.pk + 1000) is None
    client.force_login(manager)
    assert client.get(LIST).status_code == 200
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    assert UserBackend().get_user(manager.pk) is None
    assert client.get(LIST).status_code == 302  # to the login page
