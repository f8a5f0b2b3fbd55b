"""Google sign-in against the local fake: state cookie, PKCE, one-time code."""
import urllib.parse
import uuid

import requests

from conftest import FAKES_URL, URL, Client, assert_error, register


def start(profile):
    requests.post(FAKES_URL + "/_control/google/next", json=profile)
    s = requests.Session()
    r = s.get(URL + "/api/v1/auth/google", allow_redirects=False)
    assert r.status_code == 302
    loc = r.headers["Location"]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert q["code_challenge_method"] == "S256" and q["state"] and q["code_challenge"]
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Lax" in r.headers["Set-Cookie"]
    g = requests.get(loc, allow_redirects=False)          # the user consents at "Google"
    assert g.status_code == 302
    return s, g.headers["Location"]


def finish(s, callback):
    r = s.get(callback, allow_redirects=False)
    assert r.status_code == 302
    return urllib.parse.urlsplit(r.headers["Location"])


def test_new_user_signs_in_and_never_sees_a_token_in_a_url():
    email = f"g-{uuid.uuid4().hex[:10]}@gmail.com"
    s, cb = start({"sub": uuid.uuid4().hex, "email": email, "email_verified": True,
                   "name": "Gee"})
    u = finish(s, cb)
    assert u.netloc == "app.lexar.test" and u.path == "/auth/callback"
    code = dict(urllib.parse.parse_qsl(u.query))["code"]
    assert "eyJ" not in u.query
    r = Client().post("/api/v1/auth/exchange", {"code": code})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["user"]["email"] == email and b["user"]["email_verified"] is True
    assert Client(b["access_token"]).get("/api/v1/me").status_code == 200
    assert_error(Client().post("/api/v1/auth/exchange", {"code": code}), 401, "invalid_token")


def test_existing_account_is_linked_by_verified_email():
    c, _ = register()
    sub = uuid.uuid4().hex
    s, cb = start({"sub": sub, "email": c.email, "email_verified": True, "name": "X"})
    code = dict(urllib.parse.parse_qsl(finish(s, cb).query))["code"]
    b = Client().post("/api/v1/auth/exchange", {"code": code}).json()
    assert b["user"]["id"] == c.user["id"]


def test_state_must_come_back_in_the_browser_that_started():
    s, cb = start({"sub": uuid.uuid4().hex, "email": "x@gmail.com", "email_verified": True})
    r = requests.get(cb, allow_redirects=False)             # no cookie
    assert r.status_code == 302 and "error=invalid_state" in r.headers["Location"]
    r = s.get(cb.replace("state=", "state=x"), allow_redirects=False)
    assert "error=invalid_state" in r.headers["Location"]


def test_unverified_google_email_and_google_failures_are_refused():
    s, cb = start({"sub": uuid.uuid4().hex, "email": "u@gmail.com", "email_verified": False})
    assert "error=unverified_email" in finish(s, cb).query
    requests.post(FAKES_URL + "/_control/google/fail", json={"where": "token"})
    try:
        s, cb = start({"sub": uuid.uuid4().hex, "email": "v@gmail.com", "email_verified": True})
        assert "error=google_error" in finish(s, cb).query
    finally:
        requests.post(FAKES_URL + "/_control/google/fail", json={"where": None})
