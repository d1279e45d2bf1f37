"""OpenAPI at /docs: every endpoint has an example and documents the error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _has_example(operation: dict) -> bool:
    bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
    for part in bodies:
        for media in part.get("content", {}).values():
            if media.get("example") is not None or media.get("examples"):
                return True
    return False


def test_every_endpoint_has_an_example_and_the_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]
    assert {p for p, _, _ in operations} >= {
        "/v1/routes",
        "/v1/allocations",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/result",
        "/v1/vroom",
        "/v1/health",
    }
    for path, method, op in operations:
        assert _has_example(op), f"{method.upper()} {path} has no example"
        if path != "/v1/health":
            ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), (path, method)
    assert "ErrorResponse" in schema["components"]["schemas"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def test_health_reports_the_store_and_job_counts(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert set(body["jobs"]) == {"queued", "running", "succeeded", "failed", "cancelled"}
