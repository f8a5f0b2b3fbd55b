"""LLM gateway: every provider's wire format, streaming, failures, retries,
fallback, limits, usage accounting, users' own keys, chats' privacy."""
import json
import os
import socket
import threading
import time

import pytest
import requests

from conftest import (FAKES_URL, URL, VAR, Client, assert_error, psql, register,
                      wait_for)

# (model, provider, path the fake must see)
MODELS = [
    ("openai/gpt-4o-mini", "openrouter", "/openrouter/api/v1/chat/completions"),
    ("gpt-4o", "openai", "/openai/v1/chat/completions"),
    ("gpt-5", "openai", "/openai/v1/responses"),
    ("claude-sonnet-4-5", "anthropic", "/anthropic/v1/messages"),
    ("gemini-2.0-flash", "gemini", "/gemini/v1beta/models/gemini-2.0-flash:generateContent"),
    ("grok-2", "grok", "/grok/v1/chat/completions"),
    ("llama3.1:8b", "openai_compatible", "/compat/v1/chat/completions"),
]


def calls(provider=None):
    return requests.get(FAKES_URL + "/_control/llm/requests",
                        params={"provider": provider} if provider else None).json()


def forget():
    requests.delete(FAKES_URL + "/_control/llm/requests")


def fail_next(provider, model, status, times=1):
    requests.post(FAKES_URL + "/_control/llm/fail",
                  json={"provider": provider, "model": model, "status": status, "times": times})


def words(s):
    return len(s.split())


def chat(c, **kw):
    r = c.post("/api/v1/chats", kw)
    assert r.status_code == 201, r.text
    return r.json()


def send(c, chat_id, content, **kw):
    return c.post(f"/api/v1/chats/{chat_id}/messages", dict(content=content, **kw))


def sse(resp):
    """(event, data) pairs of one of our streams."""
    ev, out = None, []
    for line in resp.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            ev = line[7:]
        elif line.startswith("data: "):
            out.append((ev, json.loads(line[6:])))
    return out


def usage_rows(uid):
    rows = psql(f"SELECT provider, model, prompt_tokens, completion_tokens, cost_usd, "
                f"status, own_key, kind FROM usage WHERE user_id = '{uid}' ORDER BY id")
    return [r.split("|") for r in rows.splitlines()] if rows else []


@pytest.mark.parametrize("model,provider,path", MODELS)
def test_each_provider_answers_and_every_token_is_accounted(model, provider, path):
    c, _ = register()
    ch = chat(c, title="t", model=model, system_prompt="You are terse.")
    forget()
    r = send(c, ch["id"], "hello there provider")
    assert r.status_code == 201, r.text
    b = r.json()
    a = b["assistant_message"]
    assert a["content"] == "Echo: hello there provider"
    assert a["model"] == model and a["provider"] == provider and a["status"] == "ok"
    seen = [x for x in calls() if x["path"].startswith(path)]
    assert len(seen) == 1, calls()
    # Tokens as the fake reported them: words of system + messages / reply.
    assert a["prompt_tokens"] == words("You are terse.") + words("hello there provider")
    assert a["completion_tokens"] == words("Echo: hello there provider")
    assert b["user_message"]["content"] == "hello there provider"
    rows = usage_rows(c.user["id"])
    assert len(rows) == 1
    prov, mdl, pt, ct, cost, status, own, kind = rows[0]
    assert (prov, mdl, status, own, kind) == (provider, model, "ok", "f", "chat")
    assert (int(pt), int(ct)) == (a["prompt_tokens"], a["completion_tokens"])
    price = psql(f"SELECT (({pt} * prompt_usd_per_mtok + {ct} * completion_usd_per_mtok) "
                 f"/ 1000000)::numeric(14,8) FROM model_prices WHERE model = '{model}'")
    assert cost == (price or "0.00000000")
    got = c.get(f"/api/v1/chats/{ch['id']}").json()
    assert [m["role"] for m in got["messages"]] == ["user", "assistant"]
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 1


@pytest.mark.parametrize("model,provider,path", MODELS)
def test_each_provider_streams_deltas_then_usage(model, provider, path):
    c, _ = register()
    ch = chat(c, model=model)
    r = c.call("POST", f"/api/v1/chats/{ch['id']}/messages",
               {"content": "stream these four words", "stream": True}, stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/event-stream")
    ev = sse(r)
    deltas = [d["delta"] for e, d in ev if e == "delta"]
    assert len(deltas) >= 2, ev
    assert "".join(deltas) == "Echo: stream these four words"
    assert ev[-1][0] == "done"
    done = ev[-1][1]
    assert done["assistant_message"]["content"] == "Echo: stream these four words"
    assert done["assistant_message"]["completion_tokens"] == 5
    assert done["assistant_message"]["prompt_tokens"] == 4
    stored = c.get(f"/api/v1/chats/{ch['id']}").json()["messages"][-1]
    assert stored["content"] == "Echo: stream these four words" and stored["status"] == "ok"


def test_history_is_sent_and_trimmed_to_the_context_budget():
    c, _ = register()
    ch = chat(c, model="grok-2")
    for i in range(3):
        assert send(c, ch["id"], f"message number {i}").status_code == 201
    forget()
    send(c, ch["id"], "and now")
    body = calls("grok")[-1]["body"]
    assert [m["content"] for m in body["messages"]] == [
        "message number 0", "Echo: message number 0", "message number 1",
        "Echo: message number 1", "message number 2", "Echo: message number 2",
        "and now"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"] * 3 + ["user"]
    # A small context keeps only the newest turns.
    psql("UPDATE model_prices SET context_tokens = 1050 WHERE model = 'grok-2'")
    try:
        forget()
        send(c, ch["id"], "x " * 20, max_tokens=1000)
        kept = calls("grok")[-1]["body"]["messages"]
        assert len(kept) < 9 and kept[-1]["content"].startswith("x x")
    finally:
        psql("UPDATE model_prices SET context_tokens = 131072 WHERE model = 'grok-2'")


@pytest.mark.parametrize("model,provider,path", MODELS)
def test_failures_are_stored_refunded_and_explained(model, provider, path):
    c, _ = register()
    ch = chat(c, model=model)
    for directive, code in (("[fake:500]", "upstream_error"),
                            ("[fake:429]", "upstream_rate_limited"),
                            ("[fake:malformed]", "upstream_error")):
        r = send(c, ch["id"], f"please fail {directive}")
        # The fallback (gpt-4o-mini) gets the same directive and fails too.
        err = assert_error(r, 502, code)
        assert "openai" in err["message"]
        assert "test-" not in err["message"]          # never a key
    msgs = c.get(f"/api/v1/chats/{ch['id']}").json()["messages"]
    assert [m["status"] for m in msgs if m["role"] == "assistant"] == ["failed"] * 3
    assert [m["role"] for m in msgs].count("user") == 3
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 0   # all given back
    assert {r[5] for r in usage_rows(c.user["id"])} <= {"upstream_error", "upstream_rate_limited"}


def test_one_retry_then_success():
    c, _ = register()
    ch = chat(c, model="gpt-4o")
    forget()
    fail_next("openai", "gpt-4o", 500, times=1)
    r = send(c, ch["id"], "retry me")
    assert r.status_code == 201, r.text
    assert len([x for x in calls("openai") if x["path"].endswith("/chat/completions")
                and x["body"]["model"] == "gpt-4o"]) == 2


def test_fallback_model_after_two_failures():
    c, _ = register()
    ch = chat(c, model="claude-sonnet-4-5")
    forget()
    fail_next("anthropic", "claude-sonnet-4-5", 503, times=2)
    r = send(c, ch["id"], "fall back please")
    assert r.status_code == 201, r.text
    a = r.json()["assistant_message"]
    assert a["model"] == "gpt-4o-mini" and a["provider"] == "openai"
    completions = [x for x in calls("openai") if x["path"].endswith("/chat/completions")]
    assert len(calls("anthropic")) == 2 and len(completions) == 1
    # Connection dropped without an answer counts as a connection error.
    forget()
    fail_next("anthropic", "claude-sonnet-4-5", 0, times=1)
    assert send(c, ch["id"], "again").status_code == 201
    assert len(calls("anthropic")) == 2


def test_slow_upstream_times_out_with_504():
    c, _ = register()
    ch = chat(c, model="gpt-4o")
    t = time.time()
    r = send(c, ch["id"], "take your time [fake:slow=6000]")
    assert_error(r, 504, "upstream_timeout")
    assert time.time() - t < 5.5
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 0


def test_truncated_stream_keeps_what_arrived():
    c, _ = register()
    ch = chat(c, model="gpt-4o")
    r = c.call("POST", f"/api/v1/chats/{ch['id']}/messages",
               {"content": "one two three four five six seven eight [fake:truncate]",
                "stream": True}, stream=True)
    ev = sse(r)
    assert any(e == "delta" for e, _ in ev)
    assert ev[-1][0] == "error"
    assert ev[-1][1]["error"]["code"] == "upstream_error"
    last = c.get(f"/api/v1/chats/{ch['id']}").json()["messages"][-1]
    assert last["status"] == "incomplete" and last["content"].startswith("Echo:")


def test_stream_is_stored_even_when_the_client_leaves():
    c, _ = register()
    ch = chat(c, model="gpt-4o")
    host, port = URL.split("//")[1].split(":")
    body = json.dumps({"content": "stay with me till the end [fake:stream_ms=2000]",
                       "stream": True}).encode()
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /api/v1/chats/%s/messages HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (ch["id"].encode(), c.token.encode(),
                                                 len(body), body))
    assert b"event: delta" in s.recv(65536) or b"event: delta" in s.recv(65536)
    s.close()                                   # the client goes away mid-stream

    def stored():
        m = c.get(f"/api/v1/chats/{ch['id']}").json()["messages"]
        return len(m) == 2 and m[-1]["status"] == "ok" and m[-1]
    last = wait_for(stored, 10)
    assert last and last["content"] == "Echo: stay with me till the end [fake:stream_ms=2000]"
    assert last["completion_tokens"] > 0


def test_daily_limit_is_exact_under_concurrency():
    c, _ = register()
    uid = c.user["id"]
    psql(f"INSERT INTO user_limits (user_id, daily_message_limit) VALUES ('{uid}', 5)")
    ch = chat(c, model="gpt-4o")
    results = []

    def go():
        results.append(send(c, ch["id"], "concurrent"))
    ts = [threading.Thread(target=go) for _ in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 5 + [429] * 7, codes
    limited = [r for r in results if r.status_code == 429][0]
    err = assert_error(limited, 429, "quota_exceeded")
    assert int(limited.headers["Retry-After"]) > 0 and "resets at" in err["message"]
    assert psql(f"SELECT messages FROM usage_counters WHERE user_id = '{uid}'") == "5"
    me = c.get("/api/v1/me").json()["usage"]
    assert me["remaining_today"] == 0 and me["daily_limit"] == 5


def test_free_plan_takes_daily_message_limit_and_plans_restrict_models():
    c, _ = register()
    assert c.get("/api/v1/me").json()["usage"]["daily_limit"] == 40
    uid = c.user["id"]
    psql(f"INSERT INTO user_limits (user_id, allowed_models, max_tokens_per_request) "
         f"VALUES ('{uid}', ARRAY['gpt-4o'], 100)")
    ch = chat(c, model="grok-2")
    err = assert_error(send(c, ch["id"], "hi"), 422, "validation_failed")
    assert "model" in err["fields"]
    err = assert_error(send(c, ch["id"], "hi", model="gpt-4o", max_tokens=500), 422,
                       "validation_failed")
    assert "max_tokens" in err["fields"]
    assert send(c, ch["id"], "hi", model="gpt-4o", max_tokens=50).status_code == 201
    # An expired override no longer applies.
    psql(f"UPDATE user_limits SET expires_at = now() - interval '1 second' WHERE user_id = '{uid}'")
    assert send(c, ch["id"], "hi").status_code == 201


def test_validation_of_messages():
    c, _ = register()
    ch = chat(c)
    for body, field in [({}, "content"), ({"content": ""}, "content"),
                        ({"content": "x", "temperature": 3}, "temperature"),
                        ({"content": "x", "max_tokens": 0}, "max_tokens"),
                        ({"content": "x", "model": "no-such-model"}, "model"),
                        ({"content": "x", "stream": "yes"}, "stream"),
                        ({"content": "x", "role": "system"}, "role")]:
        err = assert_error(c.post(f"/api/v1/chats/{ch['id']}/messages", body), 422,
                           "validation_failed")
        assert field in err["fields"], (body, err)
    assert_error(c.post("/api/v1/chats", {"model": "../../etc"}), 422, "validation_failed")


def test_bola_chats_and_messages_of_others_are_404():
    a, _ = register()
    b, _ = register()
    ch = chat(a, title="private")
    send(a, ch["id"], "secret stuff")
    base = f"/api/v1/chats/{ch['id']}"
    for method, path, body in [("GET", base, None), ("PATCH", base, {"title": "x"}),
                               ("DELETE", base, None),
                               ("POST", base + "/messages", {"content": "hi"})]:
        assert_error(b.call(method, path, body), 404, "not_found")
    assert b.get("/api/v1/chats").json()["items"] == []
    assert b.get("/api/v1/me").json()["usage"]["used_today"] == 0
    assert a.get(base).json()["title"] == "private"


def test_chat_crud_and_pagination():
    c, _ = register()
    ids = [chat(c, title=f"c{i}")["id"] for i in range(3)]
    page = c.get("/api/v1/chats?limit=2").json()
    assert [x["id"] for x in page["items"]] == ids[::-1][:2]
    rest = c.get("/api/v1/chats?limit=2&cursor=" + page["next_cursor"]).json()
    assert [x["id"] for x in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    r = c.patch(f"/api/v1/chats/{ids[0]}", {"title": "renamed"})
    assert r.status_code == 200 and r.json()["title"] == "renamed"
    assert c.delete(f"/api/v1/chats/{ids[0]}").status_code == 204
    assert_error(c.get(f"/api/v1/chats/{ids[0]}"), 404, "not_found")


def test_own_provider_key_is_used_encrypted_and_never_shown():
    c, _ = register()
    secret = "user-" + os.urandom(12).hex()
    r = c.put("/api/v1/me/provider-keys/anthropic", {"key": secret})
    assert r.status_code == 201 and r.json()["last4"] == secret[-4:]
    assert secret not in r.text
    lst = c.get("/api/v1/me/provider-keys").json()["items"]
    assert [k["provider"] for k in lst] == ["anthropic"] and secret not in json.dumps(lst)
    raw = psql(f"SELECT encode(ciphertext, 'escape') || key_id FROM provider_keys "
               f"WHERE user_id = '{c.user['id']}'")
    assert secret not in raw
    ch = chat(c, model="claude-sonnet-4-5")
    forget()
    assert send(c, ch["id"], "with my key").status_code == 201
    assert calls("anthropic")[-1]["headers"]["x-api-key"] == secret
    assert usage_rows(c.user["id"])[-1][6] == "t"
    t = c.post("/api/v1/ai/test-connection", {"provider": "anthropic"}).json()
    assert t["ok"] is True and t["key_source"] == "own"
    c.put("/api/v1/me/provider-keys/anthropic", {"key": "bad-key-123456"})
    t = c.post("/api/v1/ai/test-connection", {"provider": "anthropic"}).json()
    assert t["ok"] is False and "bad-key" not in json.dumps(t)
    assert c.delete("/api/v1/me/provider-keys/anthropic").status_code == 204
    forget()
    assert send(c, ch["id"], "platform key again").status_code == 201
    assert calls("anthropic")[-1]["headers"]["x-api-key"] == "test-anthropic-key"
    assert_error(c.put("/api/v1/me/provider-keys/nope", {"key": "x" * 20}), 404, "not_found")
    for log in ("lexar-api.log", "lexar-llm.log"):
        with open(os.path.join(VAR, "log", log)) as f:
            assert secret not in f.read()


def test_openrouter_gets_its_headers():
    c, _ = register()
    ch = chat(c)
    forget()
    send(c, ch["id"], "hi")
    h = calls("openrouter")[-1]["headers"]
    assert h["http-referer"] == "https://lexar.test" and h["x-title"] == "Lexar Test"
    assert h["authorization"] == "Bearer test-openrouter-key"


def test_models_are_listed_from_providers_and_cached():
    c, _ = register()
    psql("DELETE FROM model_cache")
    forget()
    r = c.get("/api/v1/ai/models")
    assert r.status_code == 200
    items = r.json()["items"]
    by = {(m["provider"], m["id"]): m for m in items}
    assert ("gemini", "gemini-2.5-pro") in by and ("openai", "gpt-5") in by
    assert by[("openai", "gpt-4o")]["available"] is True
    assert {m["source"] for m in items} == {"live"}
    n = len(calls())
    again = c.get("/api/v1/ai/models").json()["items"]
    assert {m["source"] for m in again} == {"cache"} and len(calls()) == n


def test_usage_endpoint_groups_by_day_and_model():
    c, _ = register()
    ch = chat(c, model="gpt-4o")
    send(c, ch["id"], "one two")
    send(c, ch["id"], "three", model="grok-2")
    by_model = c.get("/api/v1/usage?group_by=model").json()
    models = {i["model"]: i for i in by_model["items"]}
    assert set(models) == {"gpt-4o", "grok-2"}
    assert by_model["totals"]["requests"] == 2
    by_day = c.get("/api/v1/usage").json()
    assert len(by_day["items"]) == 1 and by_day["items"][0]["requests"] == 2
    assert_error(c.get("/api/v1/usage?group_by=week"), 422, "validation_failed")
    assert_error(c.get("/api/v1/usage?from=yesterday"), 422, "validation_failed")


def test_upstream_calls_show_in_metrics():
    c, _ = register()
    ch = chat(c, model="gemini-2.0-flash")
    send(c, ch["id"], "count me")
    t = requests.get(URL + "/metrics").text
    assert 'lexar_upstream_requests_total{pool="llm",provider="gemini",outcome="ok"}' in t


@pytest.mark.parametrize("model", ["gpt-5", "claude-sonnet-4-5", "gemini-2.0-flash", "gpt-4o"])
def test_max_tokens_cuts_the_answer_with_finish_reason_length(model):
    c, _ = register()
    ch = chat(c, model=model)
    for stream in (False, True):
        r = c.call("POST", f"/api/v1/chats/{ch['id']}/messages",
                   {"content": "one two three four five six", "max_tokens": 3,
                    "stream": stream}, stream=stream)
        a = (sse(r)[-1][1] if stream else r.json())["assistant_message"]
        assert a["finish_reason"] == "length", (model, stream, a)
        assert a["completion_tokens"] == 3 and a["status"] == "ok"
