"""Accounts: registration, login, refresh, logout, e-mail flows, profile."""
import statistics
import time

import argon2
import pytest

from conftest import (PASSWORD, Client, assert_error, login, mail_token,
                      mails_to, psql, register, stack_env, unique_email)

REG = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def test_register_normalises_and_returns_user_tokens_and_personal_org():
    raw = f"  Mixed.Case-{time.time_ns()}@Example.COM "
    r = Client().post(REG, {"email": raw, "password": PASSWORD, "name": " Ann "})
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["user"]["email"] == raw.strip().split("@")[0] + "@example.com"
    assert b["user"]["name"] == "Ann" and b["user"]["role"] == "user"
    assert b["user"]["email_verified"] is False
    assert b["token_type"] == "Bearer" and b["expires_in"] == 900
    assert b["refresh_token"].startswith("lxr_") and b["refresh_expires_in"] == 30 * 86400
    assert "password" not in r.text and "hash" not in r.text
    me = Client(b["access_token"]).get("/api/v1/me").json()
    assert me["org"]["personal"] is True and me["org"]["role"] == "owner"
    assert me["org"]["name"] == "Ann's workspace"


def test_duplicate_email_is_409_whatever_the_case():
    c, _ = register()
    r = Client().post(REG, {"email": c.email.upper(), "password": PASSWORD})
    assert_error(r, 409, "email_taken")


@pytest.mark.parametrize("body,field,msg", [
    ({"password": PASSWORD}, "email", "is required"),
    ({"email": "not-an-email", "password": PASSWORD}, "email", "must be a valid e-mail address"),
    ({"email": "a@b", "password": PASSWORD}, "email", "must be a valid e-mail address"),
    ({"email": "x@example.com", "password": "short"}, "password", "must be at least 10 characters"),
    ({"email": "x@example.com", "password": "p" * 257}, "password", "must be at most 256 characters"),
    ({"email": "same.as.mail@example.com", "password": "same.as.mail@example.com"},
     "password", "must not be your e-mail address"),
    ({"email": 5, "password": PASSWORD}, "email", "must be a string"),
    ({"email": "x@example.com", "password": PASSWORD, "role": "admin"}, "role",
     "is not a known field"),
    ({"email": "x@example.com", "password": PASSWORD, "name": "a\nb"}, "name",
     "must not contain control characters"),
])
def test_register_validation_names_each_bad_field(body, field, msg):
    r = Client().post(REG, body)
    err = assert_error(r, 422, "validation_failed")
    assert err["fields"][field] == msg


def test_hostile_bodies_get_4xx_never_500():
    c = Client()
    assert_error(c.call("POST", REG, raw=b'{"email": "a@b.c", "password":',
                        headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert_error(c.call("POST", REG, raw=b'{"email": "\xff\xfe@x.com", "password": "0123456789"}',
                        headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert_error(c.call("POST", REG, raw=b"email=a@b.c",
                        headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "unsupported_media_type")
    assert_error(c.call("POST", REG, raw=b"[1,2]",
                        headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert_error(c.call("POST", REG, raw=b"", headers={"Content-Type": "application/json"}),
                 400, "invalid_json")
    r = c.post(REG, {"email": "x" * 100000 + "@example.com", "password": PASSWORD})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = c.post(REG, {"email": "y" * 300 + "@example.com", "password": "p" * 5000})
    err = assert_error(r, 422, "validation_failed")
    assert set(err["fields"]) == {"email", "password"}
    r = c.post(LOGIN, {"email": None, "password": ["x"]})
    assert_error(r, 422, "validation_failed")
    r = c.post(LOGIN, {"email": "a\u0000b@example.com", "password": PASSWORD})
    assert r.status_code in (401, 422)


def test_app_body_limit_is_413_json_below_nginx_limit():
    c, _ = register()
    r = c.post("/api/v1/orgs", {"name": "x" * (1536 * 1024)})
    assert_error(r, 413, "payload_too_large")


def test_verification_mail_and_single_use_token():
    c, _ = register()
    tok = mail_token(c.email, "verify-email")
    m = mails_to(c.email)[-1]
    assert "Subject: Confirm your e-mail for Lexar" in m["data"]
    assert "From: Lexar <no-reply@lexar.test>" in m["data"]
    r = Client().post("/api/v1/auth/verify", {"token": tok})
    assert r.status_code == 200 and r.json() == {"email_verified": True}
    assert c.get("/api/v1/me").json()["email_verified"] is True
    err = assert_error(Client().post("/api/v1/auth/verify", {"token": tok}), 422,
                       "validation_failed")
    assert "token" in err["fields"]
    assert_error(c.post("/api/v1/auth/verify/resend"), 409, "already_verified")


def test_login_ok_and_the_same_401_for_unknown_email_and_wrong_password():
    c, _ = register()
    ok = Client().post(LOGIN, {"email": c.email.upper(), "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"]["id"] == c.user["id"]
    wrong = Client().post(LOGIN, {"email": c.email, "password": "not the password"})
    unknown = Client().post(LOGIN, {"email": unique_email("nobody"), "password": PASSWORD})
    for r in (wrong, unknown):
        assert_error(r, 401, "invalid_credentials")
        assert r.json()["error"]["message"] == "wrong e-mail or password"


def test_unknown_email_costs_a_password_hash_too():
    c, _ = register()

    def t(email, pw):
        s = time.perf_counter()
        Client().post(LOGIN, {"email": email, "password": pw})
        return time.perf_counter() - s
    wrong = statistics.median(t(c.email, f"wrong-password-{i}") for i in range(3))
    unknown = statistics.median(t(unique_email("ghost"), PASSWORD) for i in range(3))
    # An argon2id verification (tens of ms) happens in both cases.
    assert unknown > wrong * 0.4, (unknown, wrong)


def test_repeated_failures_back_off_for_known_and_unknown_addresses_alike():
    c, _ = register()
    ghost = unique_email("ghost")
    for email in (c.email, ghost):
        codes = [Client().post(LOGIN, {"email": email, "password": "bad password!"}).status_code
                 for _ in range(5)]
        assert codes == [401] * 5
        r = Client().post(LOGIN, {"email": email, "password": PASSWORD})
        assert_error(r, 429, "too_many_attempts")
        assert int(r.headers["Retry-After"]) >= 1
    time.sleep(2.2)
    assert Client().post(LOGIN, {"email": c.email, "password": PASSWORD}).status_code == 200
    # Success clears the counter.
    assert Client().post(LOGIN, {"email": c.email, "password": "bad"}).status_code == 401
    assert Client().post(LOGIN, {"email": c.email, "password": PASSWORD}).status_code == 200


def test_weak_hash_is_upgraded_at_the_next_login():
    c, _ = register()
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1).hash(PASSWORD)
    psql(f"UPDATE users SET password_hash = '{weak}' WHERE id = '{c.user['id']}'")
    assert login(c.email)
    stored = psql(f"SELECT password_hash FROM users WHERE id = '{c.user['id']}'")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(c.email)


def test_stored_password_is_argon2id_with_its_parameters():
    c, _ = register()
    stored = psql(f"SELECT password_hash FROM users WHERE id = '{c.user['id']}'")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_refresh_rotates_and_a_reused_token_revokes_the_family():
    c, _ = register()
    r1 = Client().post("/api/v1/auth/refresh", {"refresh_token": c.refresh})
    assert r1.status_code == 200
    b1 = r1.json()
    assert b1["refresh_token"] != c.refresh
    assert Client(b1["access_token"]).get("/api/v1/me").status_code == 200
    # The old one again: the whole session dies.
    assert_error(Client().post("/api/v1/auth/refresh", {"refresh_token": c.refresh}),
                 401, "invalid_token")
    assert_error(Client(b1["access_token"]).get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client().post("/api/v1/auth/refresh", {"refresh_token": b1["refresh_token"]}),
                 401, "invalid_token")
    assert_error(Client().post("/api/v1/auth/refresh", {"refresh_token": "lxr_nope"}),
                 401, "invalid_token")
    # Other sessions of the user are untouched.
    assert login(c.email).get("/api/v1/me").status_code == 200


def test_logout_kills_the_token_at_once_and_logout_all_every_session():
    a = login(register()[0].email)
    b = login(a.email)
    assert a.post("/api/v1/auth/logout").status_code == 204
    assert_error(a.get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client().post("/api/v1/auth/refresh", {"refresh_token": a.refresh}),
                 401, "invalid_token")
    assert b.get("/api/v1/me").status_code == 200
    c = login(a.email)
    assert c.post("/api/v1/auth/logout-all").status_code == 204
    for x in (b, c):
        assert_error(x.get("/api/v1/me"), 401, "invalid_token")


def test_missing_or_malformed_authorization_is_401():
    assert_error(Client().get("/api/v1/me"), 401, "unauthorized")
    r = Client().get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(Client("garbage").get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client("a.b.c").get("/api/v1/me"), 401, "invalid_token")


def test_patch_me_changes_name_and_locale_only():
    c, _ = register()
    r = c.patch("/api/v1/me", {"name": "New Name", "locale": "pt-BR"})
    assert r.status_code == 200
    assert r.json()["name"] == "New Name" and r.json()["locale"] == "pt-BR"
    for evil in ({"role": "admin"}, {"email_verified": True}, {"org": "x"},
                 {"email": "other@example.com"}, {"id": "x"}):
        err = assert_error(c.patch("/api/v1/me", evil), 422, "validation_failed")
        assert list(err["fields"]) == list(evil)
    me = c.get("/api/v1/me").json()
    assert me["role"] == "user" and me["email_verified"] is False and me["email"] == c.email
    assert_error(c.patch("/api/v1/me", {"locale": "english!"}), 422, "validation_failed")


def test_password_change_revokes_other_sessions_only():
    c, _ = register()
    other = login(c.email)
    bad = c.post("/api/v1/me/password", {"current_password": "wrong one!", "new_password": "another long password"})
    err = assert_error(bad, 422, "validation_failed")
    assert err["fields"] == {"current_password": "is not correct"}
    r = c.post("/api/v1/me/password", {"current_password": PASSWORD,
                                        "new_password": "another long password"})
    assert r.status_code == 204
    assert c.get("/api/v1/me").status_code == 200
    assert_error(other.get("/api/v1/me"), 401, "invalid_token")
    assert login(c.email, "another long password")


def test_forgot_is_always_202_and_reset_works_once():
    c, _ = register()
    other = login(c.email)
    for email in (c.email, unique_email("nobody")):
        r = Client().post("/api/v1/auth/forgot", {"email": email})
        assert r.status_code == 202 and r.json() == {"status": "accepted"}
    assert Client().post("/api/v1/auth/forgot", {"email": "not an address"}).status_code == 202
    tok = mail_token(c.email, "reset-password")
    assert_error(Client().post("/api/v1/auth/reset", {"token": tok, "password": "short"}),
                 422, "validation_failed")
    r = Client().post("/api/v1/auth/reset", {"token": tok, "password": "a brand new password"})
    assert r.status_code == 200
    assert_error(other.get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client().post(LOGIN, {"email": c.email, "password": PASSWORD}), 401,
                 "invalid_credentials")
    assert login(c.email, "a brand new password")
    err = assert_error(Client().post("/api/v1/auth/reset",
                                     {"token": tok, "password": "yet another password"}),
                       422, "validation_failed")
    assert "token" in err["fields"]


def test_answers_do_not_wait_for_the_mail_server():
    """Mail goes out after the answer: a slow mail server delays no one, and
    /forgot takes as long for an account as for no account."""
    email = unique_email("slow-smtp")
    t = time.monotonic()
    register(email)
    r = Client().post("/api/v1/auth/forgot", {"email": email})
    assert r.status_code == 202
    assert time.monotonic() - t < 2.5          # the fake takes 3 s a message
    assert mail_token(email, "verify-email") and mail_token(email, "reset-password")


def test_delete_me_checks_the_password_and_anonymises():
    c, _ = register()
    uid = c.user["id"]
    key = c.post("/api/v1/api-keys", {"name": "k"}).json()["key"]
    assert_error(c.delete("/api/v1/me", {"password": "wrong password"}), 422,
                 "validation_failed")
    assert c.delete("/api/v1/me", {"password": PASSWORD}).status_code == 204
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client(key).get("/api/v1/me"), 401, "invalid_token")
    assert_error(Client().post(LOGIN, {"email": c.email, "password": PASSWORD}), 401,
                 "invalid_credentials")
    row = psql(f"SELECT email, name, password_hash IS NULL, deleted_at IS NOT NULL "
               f"FROM users WHERE id = '{uid}'")
    assert row == f"deleted-{uid}@deleted.invalid||t|t"
    assert psql(f"SELECT count(*) FROM org_members WHERE user_id = '{uid}'") == "0"
    # The address is free again.
    register(email=c.email)


def test_sessions_are_listed_with_the_current_one_marked():
    c, _ = register()
    login(c.email)
    r = c.get("/api/v1/me/sessions")
    items = r.json()["items"]
    assert len(items) == 2 and sum(s["current"] for s in items) == 1
    page = c.get("/api/v1/me/sessions?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    page2 = c.get("/api/v1/me/sessions?limit=1&cursor=" + page["next_cursor"]).json()
    assert page2["items"][0]["id"] != page["items"][0]["id"] and page2["next_cursor"] is None
    assert_error(c.get("/api/v1/me/sessions?cursor=bogus"), 422, "validation_failed")
    assert_error(c.get("/api/v1/me/sessions?limit=0"), 422, "validation_failed")


def test_admin_is_created_from_the_environment():
    env = stack_env()
    a = login(env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"])
    assert a.user["role"] == "admin" and a.user["email_verified"] is True
