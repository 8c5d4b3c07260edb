from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("settings/no-access/", views.no_access_page, name="no_access"),
    path("settings/quote-sync/erp-connections/", views.connection_list, name="list"),
    path(
        "settings/quote-sync/erp-connections/delete/",
        views.connection_delete,
        name="delete",
    ),
    path(
        "settings/quote-sync/erp-connections/restore/",
        views.connection_restore,
        name="restore",
    ),
    path(
        "settings/quote-sync/erp-connections/delete/confirm/",
        views.connection_delete_confirm,
        name="delete_confirm",
    ),
    path("settings/quote-sync/erp-connections/add/", views.connection_add, name="add"),
    path(
        "settings/quote-sync/erp-connections/add/test/",
        views.connection_add_test,
        name="add_test",
    ),
    path(
        "settings/quote-sync/erp-connections/add/save/",
        views.connection_add_save,
        name="add_save",
    ),
    path(
        "settings/quote-sync/erp-connections/edit/",
        views.connection_edit_selected,
        name="edit_selected",
    ),
    path("settings/quote-sync/erp-connections/<int:pk>/edit/", views.connection_edit, name="edit"),
    path(
        "settings/quote-sync/erp-connections/<int:pk>/test/",
        views.connection_edit_test,
        name="edit_test",
    ),
    path(
        "settings/quote-sync/erp-connections/<int:pk>/save/",
        views.connection_edit_save,
        name="edit_save",
    ),
    path(
        "settings/quote-sync/erp-connections/<int:pk>/history/",
        views.connection_history,
        name="history",
    ),
    path(
        "settings/quote-sync/erp-connections/<int:pk>/history/entries/",
        views.connection_history_entries,
        name="history_entries",
    ),
    path(
        "settings/quote-sync/erp-connections/test/",
        views.connection_test_selected,
        name="test_selected",
    ),
    path(
        "settings/quote-sync/erp-connections/connector-fields/",
        views.connector_fields,
        name="connector_fields",
    ),
    path(
        "settings/quote-sync/erp-connections/connector-choices/",
        views.connector_choices,
        name="connector_choices",
    ),
    path(
        "settings/quote-sync/erp-connections/principals/",
        views.principal_search,
        name="principals",
    ),
    path(
        "settings/quote-sync/erp-connections/picks/",
        views.principal_picks,
        name="picks",
    ),
    path(
        "favicon.ico",
        views.favicon,
        name="favicon",
    ),
    path(
        "settings/quote-sync/erp-connections/preview/",
        views.connection_preview,
        name="preview",
    ),
    path(
        "settings/quote-sync/erp-connections/preview/users/",
        views.preview_user_search,
        name="preview_users",
    ),
    path(
        "settings/quote-sync/quote-connectors/",
        views.quote_connector_list,
        name="quote_connectors",
    ),
    path(
        "settings/quote-sync/sync-connections/",
        views.sync_connection_list,
        name="sync_connections",
    ),
]

auth_urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
