"""Identifiers in URLs are validated names: traversal attempts get 404 or 422, never a file."""

import pytest
from admin_support import AUTH

ATTEMPTS = [
    "..",
    "../ACTIVE",
    "..%2FACTIVE",
    "%2e%2e%2fACTIVE",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",
    "....//....//etc",
    "x" * 5000,
    "default%00.npz",
    "a%5C..%5C..",
]


@pytest.mark.parametrize("ident", ATTEMPTS)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("POST", "/api/admin/models/{}/activate"),
        ("DELETE", "/api/admin/models/{}"),
        ("GET", "/api/admin/jobs/{}"),
        ("GET", "/api/admin/jobs/{}/events"),
        ("POST", "/api/admin/jobs/{}/cancel"),
        ("PATCH", "/api/admin/feedback/{}"),
        ("DELETE", "/api/admin/feedback/{}"),
    ],
)
def test_traversal_in_an_identifier_is_refused(admin, home, method, template, ident):
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    kwargs = {"json": {"label": 3}} if method == "PATCH" else {}
    response = admin.request(method, template.format(ident), headers=AUTH, **kwargs)
    assert response.status_code in (404, 405, 422), (response.status_code, response.text)
    assert response.json()["error"]["code"]
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before
    assert admin.get("/readyz").status_code == 200
