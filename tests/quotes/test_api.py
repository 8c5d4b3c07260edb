"""The quote JSON API: every endpoint, every error, the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from connections import services as connection_services
from tests.connectors.fake_erp import Reply, closed_port

pytestmark = pytest.mark.django_db

API = "/api/quote"


@pytest.fixture
def connections(register_connection, rest_connection, demo_erp, register_lists, sales):
    """The register (EUR 2 products, USD) for all; the demo ERP for sam only (max 15 %)."""
    return {
        "register": register_connection("Register", max_discount="20"),
        "demo": rest_connection("Demo ERP", demo_erp, users=[sales]),
    }


def test_connections_in_a_currency_with_select_required(sales_client, connections):
    body = sales_client.get(f"{API}/connections/?currency=EUR").json()
    assert body["select_required"] is True
    demo, register = body["connections"]
    assert demo == {
        "id": connections["demo"].pk,
        "name": "Demo ERP",
        "description": "",
        "connector": "rest_json",
        "capabilities": ["price_calculation", "price_lists", "product_search"],
        "price_list_count": 2,
        "available": True,
        "message": "",
    }
    assert (register["name"], register["price_list_count"]) == ("Register", 1)


def test_one_connection_in_the_currency_needs_no_selection(
    sales_client, register_connection, register_lists
):
    register_connection()
    body = sales_client.get(f"{API}/connections/?currency=USD").json()
    assert body["select_required"] is False and len(body["connections"]) == 1


def test_connections_outside_the_scope_are_not_listed(client, connections, make_user):
    client.force_login(make_user("olga"))
    body = client.get(f"{API}/connections/?currency=EUR").json()
    assert [c["name"] for c in body["connections"]] == ["Register"]


def test_price_lists_of_a_connection(sales_client, connections):
    body = sales_client.get(
        f"{API}/connections/{connections['demo'].pk}/price-lists/?currency=EUR"
    ).json()
    assert [pl["id"] for pl in body["price_lists"]] == ["EUR-STD", "EUR-SPRING"]
    assert body["price_lists"][1] == {
        "id": "EUR-SPRING",
        "name": "Spring promotion (EUR)",
        "currency": "EUR",
        "valid_from": "2026-03-01",
        "valid_to": "2026-05-31",
    }


def test_products_with_prices_as_rounded_decimal_strings(sales_client, connections):
    body = sales_client.get(
        f"{API}/connections/{connections['demo'].pk}/products/?q=monitor&price_list=EUR-STD&limit=5"
    ).json()
    assert body["notice"] == ""
    assert body["products"][0] == {
        "code": "MON-27Q",
        "name": "Monitor 27 inch QHD",
        "price": "319.48",
        "currency": "EUR",
        "vat": "21",
        "unit": "pcs",
    }


def test_products_with_the_fallback_notice(sales_client, sales, rest_connection, register_lists):
    down = rest_connection(
        "Down", f"http://127.0.0.1:{closed_port()}/", users=[sales], fallback_to_register=True
    )
    body = sales_client.get(f"{API}/connections/{down.pk}/products/?q=desk").json()
    assert body["notice"] == "The ERP cannot be reached; prices come from the product register."
    assert body["products"] == [
        {
            "code": "DSK-1",
            "name": "Desk",
            "price": "100.01",
            "currency": "EUR",
            "vat": "21",
            "unit": "pcs",
        }
    ]


def test_price_lines_with_discount_and_totals(sales_client, connections, register_lists):
    response = sales_client.post(
        f"{API}/connections/{connections['register'].pk}/price/",
        {
            "price_list": str(register_lists["EUR"].pk),
            "lines": [{"code": "CHR-1", "quantity": "2", "discount_percent": "10"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "lines": [
            {
                "code": "CHR-1",
                "name": "Chair",
                "quantity": "2",
                "unit_price": "12.50",
                "discount_percent": "10",
                "total": "22.50",
            }
        ],
        "total": "22.50",
        "currency": "EUR",
    }


def test_price_through_the_demo_erp(sales_client, connections):
    response = sales_client.post(
        f"{API}/connections/{connections['demo'].pk}/price/",
        {
            "price_list": "EUR-STD",
            "lines": [
                {"code": "MSE-WL", "quantity": "3"},
                {"code": "COF-1KG", "discount_percent": "15"},
            ],
        },
        content_type="application/json",
    )
    body = response.json()
    assert [line["total"] for line in body["lines"]] == ["73.50", "15.94"]
    assert body["total"] == "89.44"


def test_a_discount_above_the_maximum_is_400_with_the_field(sales_client, connections):
    response = sales_client.post(
        f"{API}/connections/{connections['demo'].pk}/price/",
        {"lines": [{"code": "MSE-WL", "quantity": "1", "discount_percent": "15.5"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "discount_too_high",
            "message": "The maximum discount for this connection is 15 %.",
            "field": "lines.0.discount_percent",
        }
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"code": "X", "quantity": "0"}]}, "lines.0.quantity"),
        ({"lines": [{"code": "X", "discount_percent": "ten"}]}, "lines.0.discount_percent"),
        ({"lines": [{"code": "X", "discount_percent": "-1"}]}, "lines.0.discount_percent"),
        ({"lines": []}, "lines"),
        ({"lines": [{"quantity": "1"}]}, "lines.0.code"),
        ({}, "lines"),
    ],
)
def test_bad_input_is_400_invalid_with_the_field(sales_client, connections, body, field):
    response = sales_client.post(
        f"{API}/connections/{connections['register'].pk}/price/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field) and error["message"]


def test_a_bad_limit_or_currency_is_400(sales_client, connections):
    pk = connections["demo"].pk
    response = sales_client.get(f"{API}/connections/{pk}/products/?limit=1000")
    assert response.status_code == 400 and response.json()["error"]["field"] == "limit"
    response = sales_client.get(f"{API}/connections/?currency=EURO")
    assert response.status_code == 400 and response.json()["error"]["field"] == "currency"


def test_malformed_json_is_400(sales_client, connections):
    response = sales_client.post(
        f"{API}/connections/{connections['register'].pk}/price/",
        "{not json",
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("path", ["price-lists/", "products/?q=a"])
def test_outside_scope_deleted_and_unknown_are_404(client, connections, make_user, manager, path):
    client.force_login(make_user("olga"))
    for pk in (connections["demo"].pk, 999999):
        response = client.get(f"{API}/connections/{pk}/{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    connection_services.connection_delete(actor=manager, connection=connections["register"])
    response = client.get(f"{API}/connections/{connections['register'].pk}/{path}")
    assert response.status_code == 404


def test_a_connector_failure_is_502_with_its_code_and_message(
    sales_client, sales, rest_connection, fake_erp
):
    fake_erp.reply("/products", Reply(status=401, json={}))
    connection = rest_connection("Locked", fake_erp.url, users=[sales])
    response = sales_client.get(f"{API}/connections/{connection.pk}/products/?q=a")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "authentication_failed" and error["message"].startswith(
        "Authentication failed"
    )


def test_an_uninstalled_connector_is_502_unavailable(sales_client, connections):
    from connections.models import ERPConnection

    ERPConnection.objects.filter(pk=connections["demo"].pk).update(connector_key="gone")
    body = sales_client.get(f"{API}/connections/?currency=EUR").json()
    assert [c["available"] for c in body["connections"]] == [False, True]
    assert body["select_required"] is False
    response = sales_client.get(f"{API}/connections/{connections['demo'].pk}/price-lists/")
    assert response.status_code == 502 and response.json()["error"]["code"] == "unavailable"


def test_anonymous_requests_are_401(client, connections):
    response = client.get(f"{API}/connections/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_writes_need_the_csrf_token(sales, connections, password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    url = f"{API}/connections/{connections['register'].pk}/price/"
    body = {"lines": [{"code": "CHR-1"}]}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    client.get("/quote/")  # sets the CSRF cookie, as a page of the application does
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200


def test_unknown_api_paths_are_json_404(sales_client):
    response = sales_client.get(f"{API}/nothing/here/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_docs_are_for_logged_in_users(client, sales_client):
    assert Client().get(f"{API}/docs").status_code == 302
    assert sales_client.get(f"{API}/docs").status_code == 200


# --- the OpenAPI document ----------------------------------------------------------------


@pytest.fixture
def openapi(sales_client) -> dict[str, Any]:
    response = sales_client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_is_valid(openapi):
    from openapi_spec_validator import validate

    validate(openapi)


def test_the_openapi_document_describes_every_endpoint_and_error(openapi):
    operations = {
        (path, method): operation
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("/api/quote/connections/", "get"),
        ("/api/quote/connections/{connection_id}/price-lists/", "get"),
        ("/api/quote/connections/{connection_id}/products/", "get"),
        ("/api/quote/connections/{connection_id}/price/", "post"),
    }
    for (_path, method), operation in operations.items():
        expected = {"200", "400", "401", "404", "502"} | ({"403"} if method == "post" else set())
        assert set(operation["responses"]) == expected
    price = operations[("/api/quote/connections/{connection_id}/price/", "post")]
    assert "requestBody" in price


def _validate(openapi: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    from openapi_schema_validator import OAS31Validator
    from referencing import Registry, Resource

    schema = openapi["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"
    ]["schema"]
    # "#/components/schemas/..." references resolve inside the document itself.
    document = {**schema, "components": openapi["components"]}
    registry = Registry().with_resource("", Resource.opaque(document))
    OAS31Validator(document, registry=registry).validate(body)


def test_the_responses_match_the_openapi_document(sales_client, connections, openapi):
    demo, register = connections["demo"].pk, connections["register"].pk
    calls = [
        ("/api/quote/connections/", "get", f"{API}/connections/?currency=EUR", None),
        (
            "/api/quote/connections/{connection_id}/price-lists/",
            "get",
            f"{API}/connections/{demo}/price-lists/",
            None,
        ),
        (
            "/api/quote/connections/{connection_id}/products/",
            "get",
            f"{API}/connections/{demo}/products/?q=a",
            None,
        ),
        (
            "/api/quote/connections/{connection_id}/products/",
            "get",
            f"{API}/connections/999/products/",
            None,
        ),
        (
            "/api/quote/connections/{connection_id}/price/",
            "post",
            f"{API}/connections/{register}/price/",
            {"lines": [{"code": "CHR-1"}]},
        ),
        (
            "/api/quote/connections/{connection_id}/price/",
            "post",
            f"{API}/connections/{register}/price/",
            {"lines": [{"code": "CHR-1", "discount_percent": "50"}]},
        ),
        (
            "/api/quote/connections/{connection_id}/price/",
            "post",
            f"{API}/connections/{register}/price/",
            {"lines": [{"code": "NOPE"}]},
        ),
    ]
    seen = set()
    for path, method, url, body in calls:
        if method == "get":
            response = sales_client.get(url)
        else:
            response = sales_client.post(url, body, content_type="application/json")
        _validate(openapi, path, method, response.status_code, response.json())
        seen.add(response.status_code)
    assert seen == {200, 400, 404, 502}


def test_the_response_check_catches_a_body_that_breaks_the_document(openapi):
    from jsonschema.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _validate(openapi, "/api/quote/connections/", "get", 200, {"connections": []})
    with pytest.raises(ValidationError):
        _validate(openapi, "/api/quote/connections/", "get", 404, {"error": {"message": "no code"}})
