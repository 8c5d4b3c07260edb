from django.contrib import admin
from django.urls import include, path

from connections.urls import auth_urlpatterns
from quotes.api import api as quote_api, not_found_view as quote_api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *auth_urlpatterns,
    path("quote/", include("quotes.urls")),
    path("api/quote/", quote_api.urls),
    path("api/quote/<path:rest>", quote_api_not_found),
    path("", include("connections.urls")),
]

handler403 = "connections.views.no_access"
