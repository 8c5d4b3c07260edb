"""Show times in the user's time zone: the browser's, sent in the ``tz`` cookie by app.js."""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

TIME_ZONE_COOKIE = "tz"


class TimeZoneMiddleware:
    """Activate the time zone named in the ``tz`` cookie; an unknown name is ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = unquote(request.COOKIES.get(TIME_ZONE_COOKIE, ""))[:64]
        timezone.deactivate()
        if name:
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
