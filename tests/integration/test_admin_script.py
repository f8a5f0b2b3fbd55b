"""scripts/admin/lexar-admin, the operators' shell client of /admin, run as
they run it: `sh lexar-admin ...` with LEXAR_URL and ADMIN_API_KEY."""
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import PASSWORD, ROOT, URL, Client, assert_error, login, register, stack_env

ENV = stack_env()
SCRIPT = os.path.join(ROOT, "scripts", "admin", "lexar-admin")


def run(*args, key=None, url=URL, path=None, stdin=None):
    """The script's (exit status, stdout, stderr)."""
    env = {"PATH": path or os.environ["PATH"], "LEXAR_URL": url,
           "ADMIN_API_KEY": ENV["ADMIN_API_KEY"] if key is None else key}
    p = subprocess.run(["/bin/sh", SCRIPT, *args], env=env, input=stdin,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def ok(*args, **kw):
    """The script's JSON output; it must succeed."""
    code, out, err = run(*args, **kw)
    assert code == 0, (args, code, err)
    return json.loads(out)


def today(days=0):
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=days)
    return d.isoformat()


def tagged_users(n, tag=None):
    tag = tag or uuid.uuid4().hex[:10]
    return tag, [register(email=f"ops-{tag}-{i}@example.com", name=f"Ops {tag} {i}")[0]
                 for i in range(n)]


# ---- help and usage errors ----

def test_help_for_the_script_an_area_and_a_command_needs_no_key():
    code, out, err = run("--help", key="")
    assert code == 0 and err == ""
    assert out.startswith("Usage: lexar-admin") and "set-override" in out
    code, out, _ = run("users", "--help", key="")
    assert code == 0 and "ban USER --reason TEXT" in out
    code, out, _ = run("users", "ban", "--help", key="")
    assert code == 0 and out.startswith("Usage: lexar-admin users ban USER --reason TEXT")
    code, out, _ = run("plans", "set-override", "bob@example.com", "-h", key="")
    assert code == 0 and "--until" in out
    for args in (("usage", "--help"), ("audit", "--help"), ("models", "set-price", "--help"),
                 ("moderation", "--help"), ("providers", "list", "--help"), ("help", "plans")):
        code, out, _ = run(*args, key="")
        assert code == 0 and out.startswith("Usage: lexar-admin"), args


@pytest.mark.parametrize("args,what", [
    (("frobnicate",), "unknown area: frobnicate"),
    (("users", "frobnicate"), "unknown command: users frobnicate"),
    (("users",), "no command given"),
    (("--colour", "users", "list"), "unknown option: --colour"),
    (("users", "list", "--colour"), "unknown option for 'users list': --colour"),
    (("users", "list", "--limit", "ten"), "--limit must be a whole number"),
    (("users", "ban", "x@example.com"), "a ban needs --reason"),
    (("users", "ban", "x@example.com", "--reason"), "option --reason needs a value"),
    (("users", "delete", "x@example.com"), "add --yes"),
    (("users", "show"), "missing argument: USER"),
    (("users", "show", "bob"), "not a user e-mail address or id"),
    (("users", "show", "a@example.com", "b@example.com"), "unexpected argument: 'b@example.com'"),
    (("users", "set-role", "x@example.com", "god"), "ROLE must be user or admin"),
    (("plans", "create", "p"), "--daily-messages"),
    (("plans", "set-override", "x@example.com", "--until", "2026-02-30"), "not a date"),
    (("usage", "--by", "week"), "--by must be day, user, org, model or provider"),
    (("models", "set-price", "m", "--prompt", "1,5", "--completion", "1"), "--prompt must be a number"),
    (("moderation", "hide", "42"), "not a message id"),
])
def test_usage_errors_exit_2_with_the_usage(args, what):
    code, out, err = run(*args)
    assert code == 2, (code, err)
    assert out == "" and what in err and "Usage: lexar-admin" in err


def test_a_missing_key_is_explained():
    code, _, err = run("users", "list", key="")
    assert code == 2 and "ADMIN_API_KEY is not set" in err


# ---- errors from the server, and no server ----

def test_wrong_key_prints_the_servers_message():
    for key in ("not-the-key", 'with "quotes" and \\ a backslash'):
        code, out, err = run("users", "list", key=key)
        assert code == 1 and out == ""
        assert "the admin key is not valid" in err and "invalid_admin_key" in err


def test_unknown_user_email_is_no_such_user():
    code, out, err = run("users", "show", f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    assert code != 0 and out == "" and "no such user" in err
    code, _, err = run("users", "ban", f"nobody-{uuid.uuid4().hex[:8]}@example.com",
                       "--reason", "x")
    assert code != 0 and "no such user" in err
    code, _, err = run("users", "show", str(uuid.uuid4()))      # an id: the server says
    assert code == 1 and "no such user" in err


def test_unreachable_server_exits_3():
    code, out, err = run("users", "list", url="http://127.0.0.1:1")
    assert code == 3 and out == "" and "cannot reach http://127.0.0.1:1" in err


def test_validation_errors_show_the_fields():
    code, _, err = run("users", "create", "not-an-address", "--role", "boss")
    assert code == 1
    assert "some fields are missing or invalid" in err
    assert "email: must be a valid e-mail address" in err and "role: must be user or admin" in err


# ---- users ----

def test_users_list_search_all_and_show_by_email():
    tag, made = tagged_users(3)
    r = ok("users", "list", "--search", tag)
    assert sorted(u["email"] for u in r["items"]) == sorted(c.email for c in made)
    r = ok("users", "list", "--search", f"OPS {tag}", "--sort", "email", "--limit", "2")
    assert [u["email"] for u in r["items"]] == [made[0].email, made[1].email] and r["next_cursor"]
    r = ok("users", "list", "--search", tag, "--sort", "email", "--limit", "2", "--all")
    assert [u["email"] for u in r["items"]] == [c.email for c in made] and r["next_cursor"] is None
    r = ok("users", "list", "--search", tag, "--sort=email", "--order=desc", "--limit=1", "--all")
    assert [u["email"] for u in r["items"]] == [c.email for c in reversed(made)]
    r = ok("users", "list", "--search", tag, "--plan", "free", "--not-banned", "--role", "user",
           "--created-from", today(-1), "--created-to", today())
    assert len(r["items"]) == 3
    assert ok("users", "list", "--search", tag, "--banned")["items"] == []
    assert ok("users", "list", "--search", "no such & thing %")["items"] == []
    u = ok("users", "show", made[1].email.upper())
    assert u["id"] == made[1].user["id"] and u["email"] == made[1].email
    assert u["plan"] == "free" and len(u["sessions"]) == 1
    assert ok("users", "show", made[1].user["id"])["email"] == made[1].email


def test_the_promised_examples_work():
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    c, _ = register(email=email, name="Bob")
    code, out, err = run("users", "list", "--search", "bob")
    assert code == 0 and json.loads(out)["items"], err
    assert email in [u["email"] for u in ok("users", "list", "--search", "bob", "--all")["items"]]
    assert ok("users", "ban", email, "--reason", "spam")["ban_reason"] == "spam"
    assert ok("users", "unban", email)["banned_at"] is None
    u = ok("plans", "set-override", email, "--daily-messages", "500", "--until", "2026-12-31")
    assert u["limits_override"]["daily_message_limit"] == 500
    assert u["limits_override"]["expires_at"].startswith("2027-01-01T00:00:00")
    r = ok("usage", "--from", "2026-11-01", "--by", "model")
    assert r["group_by"] == "model" and r["from"] == "2026-11-01" and r["to"] == today()


def test_ban_is_immediate_unban_lets_the_user_back_and_audit_lists_it():
    c, _ = register()
    key = Client(c.post("/api/v1/api-keys", {"name": "k", "scopes": ["read"]}).json()["key"])
    assert c.get("/api/v1/me").status_code == 200
    u = ok("users", "ban", c.email, "--reason", 'spam "and" abuse')
    assert u["ban_reason"] == 'spam "and" abuse' and u["banned_at"]
    err = assert_error(c.get("/api/v1/me"), 403, "account_banned")    # the token held before
    assert 'spam "and" abuse' in err["message"]
    assert_error(key.get("/api/v1/me"), 403, "account_banned")
    banned = ok("users", "list", "--banned", "--email", c.email)["items"]
    assert [x["id"] for x in banned] == [c.user["id"]]
    u = ok("users", "unban", c.email)
    assert u["banned_at"] is None and u["ban_reason"] is None
    # The ban revoked the sessions (that stays so): the user signs in again,
    # and the API key works again.
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")
    assert login(c.email).get("/api/v1/me").status_code == 200
    assert key.get("/api/v1/me").status_code == 200
    rows = ok("audit", "--target", c.email, "--action", "user")["items"]
    assert [r["action"] for r in rows][:2] == ["user.unban", "user.ban"]
    assert rows[1]["after"]["ban_reason"] == 'spam "and" abuse' and rows[1]["actor"] == "admin-key"
    rows = ok("audit", "--action", "user.ban", "--target", c.user["id"], "--from", today(),
              "--to", today(), "--limit", "1")["items"]
    assert len(rows) == 1 and rows[0]["target_id"] == c.user["id"]


def test_set_role_and_back():
    c, _ = register()
    assert ok("users", "set-role", c.email, "admin")["role"] == "admin"
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")      # tokens of the old role end
    a = login(c.email)
    assert a.get("/admin/plans").status_code == 200
    assert ok("users", "set-role", c.user["id"], "user")["role"] == "user"
    assert_error(login(c.email).get("/admin/plans"), 403, "forbidden")


def test_create_with_password_from_stdin_escaping_and_plus_addresses():
    tag = uuid.uuid4().hex[:8]
    email = f"made+{tag}@example.com"
    name = 'O\'Brien "Bob" \\ été 😀'
    u = ok("users", "create", email, "--name", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert u["email"] == email and u["name"] == name and u["email_verified"] is True
    assert login(email).user["id"] == u["id"]
    assert ok("users", "show", email)["id"] == u["id"]           # "+" is encoded in the query
    code, _, err = run("users", "create", email)
    assert code == 1 and "already exists" in err


def test_revoke_sessions_reset_password_and_delete():
    c, _ = register()
    assert ok("users", "revoke-sessions", c.email) == {"revoked_sessions": 1}
    assert_error(c.get("/api/v1/me"), 401, "invalid_token")
    assert ok("users", "reset-password", c.email) == {"status": "sent"}
    code, out, err = run("users", "delete", c.email, "--yes")
    assert code == 0 and out == "" and "deleted user" in err
    code, _, err = run("users", "show", c.email)
    assert code == 1 and "no such user" in err
    assert ok("users", "show", c.user["id"])["deleted_at"] is not None


# ---- plans and overrides ----

def test_plans_create_set_plan_update_delete():
    name = "ops-" + uuid.uuid4().hex[:6]
    p = ok("plans", "create", name, "--daily-messages", "1000", "--monthly-tokens", "5000000",
           "--models", "gpt-4o, grok-2")
    assert p["name"] == name and p["allowed_models"] == ["gpt-4o", "grok-2"]
    assert p["monthly_token_limit"] == 5000000 and p["users"] == 0
    code, _, err = run("plans", "create", name, "--daily-messages", "1")
    assert code == 1 and "a plan with this name exists" in err
    assert ok("plans", "show", name)["id"] == p["id"]
    assert ok("plans", "show", p["id"])["name"] == name
    assert name in [x["name"] for x in ok("plans", "list")["items"]]
    c, _ = register()
    u = ok("users", "set-plan", c.email, name)
    assert u["plan"] == name and u["limits"]["daily_message_limit"] == 1000
    me = c.get("/api/v1/me").json()["usage"]
    assert me["plan"] == name and me["daily_limit"] == 1000
    assert [x["email"] for x in ok("users", "list", "--plan", name)["items"]] == [c.email]
    p = ok("plans", "update", name, "--daily-messages", "10", "--monthly-tokens", "none",
           "--models", "none")
    assert p["daily_message_limit"] == 10 and p["monthly_token_limit"] is None
    assert p["allowed_models"] is None and p["users"] == 1
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 10
    code, _, err = run("plans", "update", name)
    assert code == 2 and "nothing to change" in err
    code, _, err = run("users", "set-plan", c.email, "no-such-plan-" + name)
    assert code == 1 and "no such plan" in err
    code, _, err = run("plans", "delete", name)
    assert code == 2 and "--yes" in err
    code, _, err = run("plans", "delete", p["id"], "--yes")
    assert code == 0 and "deleted plan" in err
    assert c.get("/api/v1/me").json()["usage"]["plan"] == "free"
    code, _, err = run("plans", "delete", "free", "--yes")
    assert code == 1 and "the free plan cannot be deleted" in err


def test_set_override_until_shows_in_show_and_me_then_clear():
    c, _ = register()
    until = today(40)
    u = ok("plans", "set-override", c.email, "--daily-messages", "500", "--models", "gpt-4o",
           "--until", until)
    o = u["limits_override"]
    assert o["daily_message_limit"] == 500 and o["allowed_models"] == ["gpt-4o"]
    assert o["expires_at"].startswith(today(41) + "T00:00:00")     # to the end of that day
    assert u["limits"]["daily_message_limit"] == 500
    shown = ok("users", "show", c.email)
    assert shown["limits_override"]["daily_message_limit"] == 500
    assert shown["limits"]["allowed_models"] == ["gpt-4o"]
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 500
    # The override replaces the earlier one; an RFC 3339 time is taken as is.
    u = ok("plans", "set-override", c.email, "--daily-messages", "7",
           "--until", f"{today(2)}T12:00:00+02:00")
    assert u["limits_override"]["expires_at"].startswith(f"{today(2)}T10:00:00")
    assert u["limits_override"]["allowed_models"] is None
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 7
    # Ended yesterday: the plan's limit applies.
    ok("plans", "set-override", c.email, "--daily-messages", "9", "--until", today(-1))
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 40
    code, out, err = run("plans", "clear-override", c.email)
    assert code == 0 and out == "" and "cleared" in err
    assert ok("users", "show", c.email)["limits_override"] is None
    code, _, err = run("plans", "clear-override", c.email)
    assert code == 1 and "no override for this user" in err
    code, _, err = run("plans", "set-override", c.email, "--until", today(3))
    assert code == 2 and "no limit given" in err


# ---- usage ----

def test_usage_json_csv_and_defaults():
    a, _ = register()
    ch = a.post("/api/v1/chats", {"model": "gpt-4o"}).json()
    for _ in range(2):
        assert a.post(f"/api/v1/chats/{ch['id']}/messages",
                      {"content": "count me"}).status_code == 201
    r = ok("usage", "--from", today(), "--by", "model")
    assert r["group_by"] == "model" and r["from"] == today() and r["to"] == today()
    assert any(m["model"] == "gpt-4o" and m["requests"] >= 2 for m in r["items"])
    r = ok("usage", "--from", today(), "--to", today(), "--by", "model", "--user", a.email)
    assert [(m["model"], m["provider"], m["requests"]) for m in r["items"]] == \
        [("gpt-4o", "openai", 2)]
    code, out, err = run("usage", "--from", today(), "--by", "model", "--csv")
    assert code == 0, err
    assert out.splitlines()[0] == "model,provider,requests,failed,prompt_tokens,completion_tokens,cost_usd"
    rows = list(csv.reader(io.StringIO(out)))
    assert any(x[0] == "gpt-4o" and x[1] == "openai" for x in rows[1:])
    code, out, _ = run("usage", "--by", "user", "--user", a.user["id"], "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["user", "email"] and rows[1][:3] == [a.user["id"], a.email, "2"]
    r = ok("usage")                                                 # the defaults
    assert r["group_by"] == "day" and r["to"] == today() and r["from"] == today(-30)
    assert len(ok("usage", "--by", "user", "--top", "1")["items"]) == 1
    code, _, err = run("usage", "--by", "user", "--user", "nobody-x@example.com")
    assert code == 1 and "no such user" in err


# ---- moderation, providers, models ----

def test_chats_moderation_providers_and_prices():
    c, _ = register()
    ch = c.post("/api/v1/chats", {"model": "gpt-4o", "title": "mine"}).json()
    c.post(f"/api/v1/chats/{ch['id']}/messages", {"content": "first"})
    chats = ok("users", "chats", c.email, "--all")["items"]
    assert [x["id"] for x in chats] == [ch["id"]] and chats[0]["messages"] == 2
    full = ok("moderation", "chat", ch["id"])
    assert [m["content"] for m in full["messages"]] == ["first", "Echo: first"]
    hidden = ok("moderation", "hide", full["messages"][0]["id"])
    assert hidden["hidden_by"] == "admin-key"
    assert len(c.get(f"/api/v1/chats/{ch['id']}").json()["messages"]) == 1
    assert isinstance(ok("moderation", "flags", "--unreviewed")["items"], list)
    code, _, err = run("moderation", "review", str(uuid.uuid4()))
    assert code == 1 and "no such unreviewed flag" in err
    names = [p["name"] for p in ok("providers", "list")]
    assert "openai" in names and "gemini" in names
    model = "openai/ops-" + uuid.uuid4().hex[:6] + "@v1"
    p = ok("models", "set-price", model, "--prompt", "1.5", "--completion", "3",
           "--context", "8000")
    assert p["model"] == model and p["context_tokens"] == 8000
    assert [x["completion_usd_per_mtok"] for x in ok("models", "prices") if x["model"] == model] == [3]
    assert ok("audit", "--action", "price.set", "--target", model)["items"]
    code, _, err = run("models", "delete-price", model, "--yes")
    assert code == 0 and "deleted the price" in err
    assert model not in [x["model"] for x in ok("models", "prices")]
    assert {m["source"] for m in ok("models", "refresh")["items"]} == {"live"}


# ---- without jq ----

def test_works_without_jq():
    tools = ["curl", "awk", "sed", "tr", "mktemp", "rm", "cat", "tail", "grep", "dd", "date"]
    with tempfile.TemporaryDirectory() as d:
        for t in tools:
            os.symlink(shutil.which(t), os.path.join(d, t))
        tag, made = tagged_users(2)
        code, out, err = run("users", "list", "--search", tag, "--limit", "1", "--all", path=d)
        assert code == 0, err
        assert out.count("\n") == 1                                 # as is: one line
        assert sorted(u["email"] for u in json.loads(out)["items"]) == sorted(c.email for c in made)
        code, out, err = run("users", "show", made[0].email, path=d)
        assert code == 0 and json.loads(out)["id"] == made[0].user["id"]
        code, _, err = run("users", "list", key="wrong", path=d)
        assert code == 1 and "the admin key is not valid" in err
    code, out, _ = run("--raw", "plans", "list")
    assert code == 0 and out.count("\n") == 1 and json.loads(out)["items"]
