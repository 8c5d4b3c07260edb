"""The project's URLs plus a stand-in for the quote side at /quote/ (built elsewhere)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from erpsettings.urls import urlpatterns as project_urlpatterns


def quote_home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("quotes")


urlpatterns = [path("quote/", quote_home), *project_urlpatterns]
