"""GET /api/examples/{digit}: a digit drawn by the app's own hand, as strokes /api/read takes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(Settings(home=tmp_path_factory.mktemp("home")))) as c:
        yield c


def test_each_digit_is_drawn_on_the_canvas_and_read_back_as_itself(client):
    read_right = 0
    for digit in range(10):
        for seed in range(5):
            answer = client.get(f"/api/examples/{digit}", params={"seed": seed})
            assert answer.status_code == 200
            body = answer.json()
            assert body["digit"] == digit
            drawing = body["drawing"]
            assert drawing["width"] == drawing["height"] == 280
            points = [p for stroke in drawing["strokes"] for p in stroke]
            assert len(points) >= 2 and all(0 <= x <= 280 and 0 <= y <= 280 for x, y in points)
            ys = [y for _, y in points]
            assert 0.45 * 280 < max(ys) - min(ys) < 0.75 * 280  # about 60 % of the pad tall
            number = client.post("/api/read", json=drawing).json()["number"]
            read_right += number == str(digit)
    assert read_right >= 48, f"{read_right} of 50 examples read as the digit drawn"


def test_a_seed_gives_the_same_drawing_and_none_a_new_one(client):
    first = client.get("/api/examples/4", params={"seed": 7}).json()
    assert client.get("/api/examples/4", params={"seed": 7}).json() == first
    fresh = [client.get("/api/examples/4").json()["drawing"] for _ in range(3)]
    assert len({str(d) for d in fresh}) == 3


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/api/examples/10", "path.digit: Input should be less than or equal to 9"),
        ("/api/examples/-1", "path.digit: Input should be greater than or equal to 0"),
        ("/api/examples/seven", "path.digit: Input should be a valid integer"),
        ("/api/examples/3?seed=-2", "query.seed: Input should be greater than or equal to 0"),
    ],
)
def test_what_is_not_a_digit_gets_a_422_that_says_what_is(client, path, said):
    answer = client.get(path)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"
    assert answer.json()["error"]["message"].startswith(said)
