"""Login throttling backend: django-axes for every login that comes with a request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottlingBackend(AxesStandaloneBackend):
    """django-axes' check, for logins made over HTTP (both login pages pass the request).

    ``authenticate()`` without a request (the shell, the test client's ``login()``) is no
    attempt anyone can repeat from outside, so it is left to the next backend instead of
    failing as axes' own backend does.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
