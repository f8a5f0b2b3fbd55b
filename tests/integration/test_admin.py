"""Admin API: access, users, limits, plans, usage, moderation, providers, audit."""
import csv
import io
import re
import time
import uuid

import pytest
import requests

from conftest import (FAKES_URL, PASSWORD, Client, assert_error, login, mail_token,
                      psql, register, stack_env, unique_email, wait_for)

ENV = stack_env()
API_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def admin():
    return Client_with_key(ENV["ADMIN_API_KEY"])


class Client_with_key(Client):
    def __init__(self, key):
        super().__init__()
        self.key = key

    def call(self, method, path, body=None, headers=None, **kw):
        h = dict(headers or {})
        h["X-Admin-Key"] = self.key
        return super().call(method, path, body, h, **kw)


def audit(action, target=None):
    q = {"action": action}
    if target:
        q["target"] = target
    return admin().get("/admin/audit", params=q).json()["items"]


ROUTES = [("GET", "/admin/users", None), ("POST", "/admin/users", {"email": "x@example.com"}),
          ("GET", "/admin/users/%s", None), ("PATCH", "/admin/users/%s", {"name": "x"}),
          ("DELETE", "/admin/users/%s", None), ("POST", "/admin/users/%s/ban", {"reason": "x"}),
          ("POST", "/admin/users/%s/unban", None), ("POST", "/admin/users/%s/revoke-sessions", None),
          ("POST", "/admin/users/%s/password-reset", None),
          ("PUT", "/admin/users/%s/limits", {}), ("DELETE", "/admin/users/%s/limits", None),
          ("GET", "/admin/users/%s/chats", None), ("GET", "/admin/chats/%s", None),
          ("POST", "/admin/messages/%s/hide", None), ("GET", "/admin/moderation/flags", None),
          ("POST", "/admin/moderation/flags/%s/review", None), ("GET", "/admin/plans", None),
          ("POST", "/admin/plans", {"name": "p"}), ("GET", "/admin/plans/%s", None),
          ("PATCH", "/admin/plans/%s", {}), ("DELETE", "/admin/plans/%s", None),
          ("GET", "/admin/usage?from=2026-01-01&to=2026-01-02", None),
          ("GET", "/admin/providers", None), ("PUT", "/admin/model-prices", {"model": "m"}),
          ("DELETE", "/admin/model-prices?model=m", None), ("POST", "/admin/models/refresh", None),
          ("GET", "/admin/audit", None)]


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_every_admin_route_needs_an_admin(method, path, body):
    path = path.replace("%s", str(uuid.uuid4()))
    r = Client().call(method, path, body)
    assert_error(r, 401, "unauthorized")
    r = Client_with_key("wrong-key").call(method, path, body)
    assert_error(r, 401, "invalid_admin_key")
    user, _ = register()
    assert_error(user.call(method, path, body), 403, "forbidden")
    # Method switching does not help either.
    assert user.call("GET" if method != "GET" else "DELETE", path).status_code in (403, 405)


def test_admin_user_token_works_like_the_key():
    a = login(ENV["ADMIN_EMAIL"], ENV["ADMIN_PASSWORD"])
    r = a.get("/admin/users", params={"email": ENV["ADMIN_EMAIL"]})
    assert r.status_code == 200 and r.json()["items"][0]["role"] == "admin"
    c, _ = register()
    a.post(f"/admin/users/{c.user['id']}/ban", {"reason": "by an admin user"})
    assert audit("user.ban", c.user["id"])[0]["actor"] == a.user["id"]


def test_list_search_filter_sort_paginate():
    tag = uuid.uuid4().hex[:8]
    made = [register(email=f"zed-{tag}-{i}@example.com", name=f"Zed {tag} {i}")[0] for i in range(3)]
    r = admin().get("/admin/users", params={"search": f"zed-{tag}"}).json()
    assert sorted(u["email"] for u in r["items"]) == sorted(c.email for c in made)
    r = admin().get("/admin/users", params={"search": f"ZED {tag}"}).json()   # names, any case
    assert len(r["items"]) == 3
    page = admin().get("/admin/users", params={"search": tag, "sort": "email", "limit": 2}).json()
    assert [u["email"] for u in page["items"]] == [made[0].email, made[1].email]
    nxt = admin().get("/admin/users", params={"search": tag, "sort": "email", "limit": 2,
                                              "cursor": page["next_cursor"]}).json()
    assert [u["email"] for u in nxt["items"]] == [made[2].email] and nxt["next_cursor"] is None
    r = admin().get("/admin/users", params={"role": "admin"}).json()
    assert ENV["ADMIN_EMAIL"] in [u["email"] for u in r["items"]]
    r = admin().get("/admin/users", params={"email": made[1].email.upper()}).json()
    assert [u["id"] for u in r["items"]] == [made[1].user["id"]]
    assert admin().get("/admin/users", params={"search": "%"}).status_code == 200
    for bad in ({"role": "god"}, {"banned": "maybe"}, {"sort": "age"},
                {"created_from": "yesterday"}, {"cursor": "x"}, {"limit": "0"}):
        assert_error(admin().get("/admin/users", params=bad), 422, "validation_failed")
    # Well-formed but impossible dates are the client's error too.
    assert_error(admin().get("/admin/users", params={"created_from": "2026-13-45"}), 422,
                 "invalid_value")
    assert_error(admin().get("/admin/audit", params={"to": "2026-02-30"}), 422, "invalid_value")


def test_view_create_update_with_audit():
    c, _ = register()
    key = c.post("/api/v1/api-keys", {"name": "k", "scopes": ["read"]}).json()
    v = admin().get(f"/admin/users/{c.user['id']}").json()
    assert v["plan"] == "free" and v["messages_today"] == 0
    assert len(v["sessions"]) == 1 and v["api_keys"][0]["prefix"] == key["key"][:11]
    assert API_TIME.fullmatch(v["sessions"][0]["created_at"])
    assert API_TIME.fullmatch(v["api_keys"][0]["created_at"])
    assert key["key"] not in str(v)
    email = unique_email("made")
    r = admin().post("/admin/users", {"email": email, "password": PASSWORD, "name": "Made"})
    assert r.status_code == 201 and r.json()["email_verified"] is True
    uid = r.json()["id"]
    assert login(email)
    assert_error(admin().post("/admin/users", {"email": email}), 409, "email_taken")
    assert_error(admin().post("/admin/users", {"email": "bad"}), 422, "validation_failed")
    assert audit("user.create", uid)[0]["after"]["role"] == "user"
    r = admin().patch(f"/admin/users/{uid}", {"name": "Renamed"})
    assert r.json()["name"] == "Renamed"
    row = audit("user.update", uid)[0]
    assert row["before"]["name"] == "Made" and row["after"]["name"] == "Renamed"
    assert_error(admin().patch(f"/admin/users/{uid}", {"role": "god"}), 422, "validation_failed")
    assert_error(admin().patch(f"/admin/users/{uuid.uuid4()}", {"name": "x"}), 404, "not_found")


def test_role_change_ends_tokens_of_the_old_role():
    c, _ = register()
    admin().patch(f"/admin/users/{c.user['id']}", {"role": "admin"})
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")
    a = login(c.email)
    assert a.get("/admin/plans").status_code == 200


def test_ban_is_immediate_with_reason_and_unban_restores_login():
    c, _ = register()
    key = Client(c.post("/api/v1/api-keys", {"name": "k", "scopes": ["read"]}).json()["key"])
    r = admin().post(f"/admin/users/{c.user['id']}/ban", {"reason": "spam"})
    assert r.status_code == 200 and r.json()["ban_reason"] == "spam"
    err = assert_error(c.get("/api/v1/me"), 403, "account_banned")
    assert "spam" in err["message"]
    assert_error(key.get("/api/v1/me"), 403, "account_banned")
    assert_error(Client().post("/api/v1/auth/login", {"email": c.email, "password": PASSWORD}),
                 403, "account_banned")
    assert psql(f"SELECT count(*) FROM sessions WHERE user_id = '{c.user['id']}' "
                f"AND revoked_at IS NULL") == "0"
    assert_error(admin().post(f"/admin/users/{c.user['id']}/ban", {}), 422, "validation_failed")
    admin().post(f"/admin/users/{c.user['id']}/unban")
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")      # sessions stay revoked
    assert login(c.email).get("/api/v1/me").status_code == 200
    assert key.get("/api/v1/me").status_code == 200
    assert [a["action"] for a in audit("user", c.user["id"])][:2] == ["user.unban", "user.ban"]


def test_admin_delete_keeps_shared_orgs_owned():
    owner, _ = register()
    org = owner.post("/api/v1/orgs", {"name": "Shared"}).json()
    email = unique_email("member")
    owner.post(f"/api/v1/orgs/{org['id']}/invitations", {"email": email})
    m, _ = register(email=email)
    m.post("/api/v1/invitations/accept", {"token": mail_token(email, "invitations/accept")})
    assert_error(admin().delete(f"/admin/users/{owner.user['id']}"), 409, "transfer_ownership")
    assert owner.get("/api/v1/me").status_code == 200


def test_revoke_sessions_reset_and_delete():
    c, _ = register()
    r = admin().post(f"/admin/users/{c.user['id']}/revoke-sessions")
    assert r.json() == {"revoked_sessions": 1}
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")
    assert admin().post(f"/admin/users/{c.user['id']}/password-reset").status_code == 202
    tok = mail_token(c.email, "reset-password")
    assert Client().post("/api/v1/auth/reset", {"token": tok, "password": "a new long password"}).status_code == 200
    assert admin().delete(f"/admin/users/{c.user['id']}").status_code == 204
    r = Client().post("/api/v1/auth/login", {"email": c.email, "password": "a new long password"})
    assert_error(r, 401, "invalid_credentials")
    assert admin().get(f"/admin/users/{c.user['id']}").json()["deleted_at"] is not None


def test_limits_override_applies_then_expires():
    c, _ = register()
    uid = c.user["id"]
    r = admin().put(f"/admin/users/{uid}/limits", {"daily_message_limit": 500,
                                                   "allowed_models": ["gpt-4o"]})
    assert r.status_code == 200 and r.json()["limits"]["daily_message_limit"] == 500
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 500
    ch = c.post("/api/v1/chats", {"model": "grok-2"}).json()
    assert_error(c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "x"}), 422,
                 "validation_failed")
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    admin().put(f"/admin/users/{uid}/limits", {"daily_message_limit": 7, "expires_at": exp})
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 7
    time.sleep(3)
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 40        # the plan again
    assert audit("limits.set", uid)[0]["before"]["daily_message_limit"] == 500
    assert API_TIME.fullmatch(audit("limits.set", uid)[0]["after"]["updated_at"])
    assert admin().delete(f"/admin/users/{uid}/limits").status_code == 204
    assert_error(admin().delete(f"/admin/users/{uid}/limits"), 404, "not_found")
    for bad in ({"daily_message_limit": -1}, {"allowed_models": "gpt-4o"},
                {"expires_at": "soon"}, {"color": "red"}):
        assert_error(admin().put(f"/admin/users/{uid}/limits", bad), 422, "validation_failed")


def test_plans_crud_and_assignment():
    name = "pro-" + uuid.uuid4().hex[:6]
    r = admin().post("/admin/plans", {"name": name, "daily_message_limit": 1000,
                                      "monthly_token_limit": 5000000, "allowed_models": ["gpt-4o"]})
    assert r.status_code == 201
    p = r.json()
    assert p["allowed_models"] == ["gpt-4o"] and p["users"] == 0
    assert_error(admin().post("/admin/plans", {"name": name, "daily_message_limit": 1}), 409,
                 "plan_exists")
    assert_error(admin().post("/admin/plans", {"name": "x"}), 422, "validation_failed")
    c, _ = register()
    admin().patch(f"/admin/users/{c.user['id']}", {"plan": name})
    me = c.get("/api/v1/me").json()["usage"]
    assert me["plan"] == name and me["daily_limit"] == 1000
    r = admin().patch(f"/admin/plans/{p['id']}", {"monthly_token_limit": None, "daily_message_limit": 10})
    assert r.json()["monthly_token_limit"] is None and r.json()["users"] == 1
    assert admin().delete(f"/admin/plans/{p['id']}").status_code == 204
    assert c.get("/api/v1/me").json()["usage"]["plan"] == "free"
    free = [x for x in admin().get("/admin/plans").json()["items"] if x["name"] == "free"][0]
    assert free["daily_message_limit"] == 40                      # DAILY_MESSAGE_LIMIT
    assert_error(admin().delete(f"/admin/plans/{free['id']}"), 409, "free_plan")
    assert_error(admin().patch(f"/admin/plans/{free['id']}", {"name": "gratis"}), 409, "free_plan")


def test_usage_reports_json_and_csv():
    a, _ = register()
    b, _ = register()
    for c, model, n in ((a, "gpt-4o", 2), (b, "grok-2", 1)):
        ch = c.post("/api/v1/chats", {"model": model}).json()
        for _ in range(n):
            assert c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "count me"}).status_code == 201
    day = time.strftime("%Y-%m-%d", time.gmtime())
    q = {"from": day, "to": day}
    by_user = admin().get("/admin/usage", params=dict(q, group_by="user", limit=1000)).json()
    mine = {u["user"]: u for u in by_user["items"]}
    assert mine[a.user["id"]]["requests"] == 2 and mine[a.user["id"]]["email"] == a.email
    assert mine[b.user["id"]]["requests"] == 1
    top = admin().get("/admin/usage", params=dict(q, group_by="user", limit=1)).json()["items"]
    assert len(top) == 1
    one = admin().get("/admin/usage", params=dict(q, group_by="model", user=a.user["id"])).json()
    assert [(m["model"], m["provider"], m["requests"]) for m in one["items"]] == [("gpt-4o", "openai", 2)]
    for g in ("day", "org", "provider"):
        assert admin().get("/admin/usage", params=dict(q, group_by=g)).status_code == 200
    r = admin().get("/admin/usage", params=dict(q, group_by="model"), headers={"Accept": "text/csv"})
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["model", "provider", "requests", "failed", "prompt_tokens",
                       "completion_tokens", "cost_usd"]
    assert any(x[0] == "gpt-4o" for x in rows[1:])
    for bad in ({"from": day}, {"from": "x", "to": day}, dict(q, group_by="week"),
                dict(q, user="bob"), dict(q, limit="0")):
        assert_error(admin().get("/admin/usage", params=bad), 422, "validation_failed")


def test_usage_reports_are_exact_before_and_after_the_rollup():
    c, _ = register()
    uid = c.user["id"]
    ch = c.post("/api/v1/chats", {"model": "gpt-4o"}).json()
    for _ in range(3):
        assert c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "roll me"}).status_code == 201
    # Move them to a day of their own, old enough for the next roll-up pass.
    last = int(psql(f"SELECT max(id) FROM usage WHERE user_id = '{uid}'"))
    day = psql(f"UPDATE usage SET created_at = created_at - interval '400 days' "
               f"WHERE user_id = '{uid}' RETURNING (created_at AT TIME ZONE 'UTC')::date").split()[0]
    q = {"from": day, "to": day}

    def reports():
        mine = admin().get("/admin/usage", params=dict(q, group_by="user", user=uid)).json()
        days = admin().get("/admin/usage", params=dict(q, group_by="day")).json()
        return ([(x["requests"], x["prompt_tokens"]) for x in mine["items"]],
                [(x["requests"], x["prompt_tokens"]) for x in days["items"]])

    before = reports()
    assert before[0][0][0] == 3 and before[1] == before[0]
    assert wait_for(lambda: int(psql("SELECT last_id FROM rollup_state")) >= last, timeout=20)
    assert psql(f"SELECT sum(requests) FROM usage_daily WHERE user_id = '{uid}'") == "3"
    assert reports() == before                     # folded in, not counted twice


def test_moderation_reads_are_audited_and_hidden_messages_vanish():
    c, _ = register()
    ch = c.post("/api/v1/chats", {"model": "gpt-4o", "title": "mine"}).json()
    c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "first"})
    c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "second"})
    chats = admin().get(f"/admin/users/{c.user['id']}/chats").json()["items"]
    assert [x["id"] for x in chats] == [ch["id"]] and chats[0]["messages"] == 4
    assert audit("chat.list", c.user["id"])
    full = admin().get(f"/admin/chats/{ch['id']}").json()
    assert [m["content"] for m in full["messages"]][:2] == ["first", "Echo: first"]
    assert audit("chat.read", ch["id"])
    victim = full["messages"][0]["id"]
    r = admin().post(f"/admin/messages/{victim}/hide")
    assert r.status_code == 200 and r.json()["hidden_by"] == "admin-key"
    seen = [m["id"] for m in c.get(f"/api/v1/chats/{ch['id']}").json()["messages"]]
    assert victim not in seen and len(seen) == 3
    hidden = admin().get(f"/admin/chats/{ch['id']}").json()["messages"][0]
    # Timestamps inside JSON built by PostgreSQL have the API's one format.
    assert API_TIME.fullmatch(hidden["hidden_at"]) and API_TIME.fullmatch(hidden["created_at"])
    assert_error(admin().post(f"/admin/messages/{uuid.uuid4()}/hide"), 404, "not_found")
    assert_error(admin().get(f"/admin/users/{uuid.uuid4()}/chats"), 404, "not_found")


def test_flagged_messages_are_stored_not_sent_and_reviewable():
    c, _ = register()
    ch = c.post("/api/v1/chats", {"model": "gpt-4o"}).json()
    before = len(requests.get(FAKES_URL + "/_control/llm/requests",
                              params={"provider": "openai"}).json())
    r = c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "something awful [fake:flag]"})
    err = assert_error(r, 422, "content_flagged")
    assert "violence" in err["message"]
    calls = requests.get(FAKES_URL + "/_control/llm/requests",
                         params={"provider": "openai"}).json()
    assert not [x for x in calls[before:] if x["path"].endswith("/chat/completions")]
    msgs = admin().get(f"/admin/chats/{ch['id']}").json()["messages"]
    assert [(m["role"], m["status"]) for m in msgs] == [("user", "flagged")]
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 0
    flags = admin().get("/admin/moderation/flags", params={"reviewed": "false"}).json()["items"]
    f = [x for x in flags if x["user_id"] == c.user["id"]][0]
    assert f["categories"] == ["violence"] and f["chat_id"] == ch["id"]
    assert admin().post(f"/admin/moderation/flags/{f['id']}/review").status_code == 204
    assert_error(admin().post(f"/admin/moderation/flags/{f['id']}/review"), 404, "not_found")
    # The OpenAI-compatible API is moderated too.
    k = Client(c.post("/api/v1/api-keys", {"name": "k"}).json()["key"])
    r = k.post("/v1/chat/completions", {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "[fake:flag] again"}]})
    assert_error(r, 422, "content_flagged")
    # A failing moderation endpoint lets messages through.
    assert c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "hi [fake:500]"}).status_code == 502


def test_providers_prices_and_refresh():
    c, _ = register()
    ch = c.post("/api/v1/chats", {"model": "gemini-2.0-flash"}).json()
    c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "health"})
    r = admin().get("/admin/providers").json()
    by = {p["name"]: p for p in r["providers"]}
    assert by["gemini"]["has_key"] is True and by["gemini"]["configured"] is True
    assert API_TIME.fullmatch(by["gemini"]["health"]["last_ok_at"])
    assert "test-gemini-key" not in str(r)
    assert any(p["model"] == "gpt-4o" for p in r["prices"])
    r = admin().put("/admin/model-prices", {"model": "openai/new-model", "prompt_usd_per_mtok": 1.5,
                                            "completion_usd_per_mtok": 3, "context_tokens": 8000})
    assert r.status_code == 200 and r.json()["context_tokens"] == 8000
    assert audit("price.set", "openai/new-model")
    assert admin().delete("/admin/model-prices", params={"model": "openai/new-model"}).status_code == 204
    assert_error(admin().put("/admin/model-prices", {"model": "x", "prompt_usd_per_mtok": -1,
                                                     "completion_usd_per_mtok": 1}),
                 422, "validation_failed")
    r = admin().post("/admin/models/refresh")
    assert r.status_code == 200 and {m["source"] for m in r.json()["items"]} == {"live"}


def test_audit_filters():
    c, _ = register()
    admin().post(f"/admin/users/{c.user['id']}/ban", {"reason": "one"})
    admin().post(f"/admin/users/{c.user['id']}/unban")
    rows = admin().get("/admin/audit", params={"target": c.user["id"]}).json()["items"]
    assert [r["action"] for r in rows] == ["user.unban", "user.ban"]
    assert rows[1]["before"]["banned"] is False and rows[1]["after"]["banned"] is True
    assert rows[0]["actor"] == "admin-key" and rows[0]["request_id"]
    page = admin().get("/admin/audit", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert admin().get("/admin/audit", params={"limit": 1, "cursor": page["next_cursor"]}).status_code == 200
    assert_error(admin().get("/admin/audit", params={"from": "never"}), 422, "validation_failed")
