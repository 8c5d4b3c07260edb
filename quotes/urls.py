from __future__ import annotations

from django.urls import path

from quotes import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/connection/", views.quote_select_connection, name="select_connection"),
    path("<int:pk>/price-list/", views.quote_price_list, name="price_list"),
    path("<int:pk>/lines/", views.quote_lines_update, name="lines"),
    path("<int:pk>/lines/add/", views.quote_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.quote_line_remove, name="line_remove"),
]
