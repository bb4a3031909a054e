"""Hostile input: oversized bodies and hammering clients get a 4xx, never a 500."""

from api.limits import RateLimit


async def test_an_oversized_body_is_413(api, tokens):
    r = await api.post("/appeals", content=b"{" + b" " * (2 << 20) + b"}", headers=tokens["op"] | {"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


async def test_login_is_rate_limited_with_retry_after(api):
    for _ in range(10):
        assert (await api.post("/auth/token", json={"username": "nobody-x", "password": "guess"})).status_code == 401
    r = await api.post("/auth/token", json={"username": "nobody-x", "password": "guess"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_the_window_slides():
    limit = RateLimit(2, 60)
    limit.hit("a", now=0)
    limit.hit("a", now=1)
    try:
        limit.hit("a", now=2)
        raise AssertionError("third call allowed")
    except Exception as e:
        assert getattr(e, "status", None) == 429 and e.details["retry_after"] == 58
    limit.hit("a", now=61)  # the first call has left the window
    limit.hit("b", now=2)  # another client is not affected


async def test_a_nul_character_is_refused_not_a_server_error(api, tokens):
    for method, path, kwargs in [
        ("get", "/units", {"params": {"q": "\x00"}}),
        ("get", "/appeals", {"params": {"category": "\x00"}, "headers": tokens["op"]}),
        ("post", "/auth/token", {"json": {"username": "\x00", "password": "x"}}),
        ("post", "/appeals", {"json": {"appeal_type": "complaint", "category": "MUNI", "content": "a\x00b"},
                              "headers": tokens["op"]}),
    ]:
        r = await getattr(api, method)(path, **kwargs)
        assert r.status_code == 422, (path, r.text)
