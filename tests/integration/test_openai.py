"""The OpenAI-compatible API, with raw HTTP and with OpenAI's own client."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, URL, Client, assert_error, register

SDK = os.path.join(ROOT, "tests", "openai-sdk")


def key_for(c, scopes=("llm",)):
    r = c.post("/api/v1/api-keys", {"name": "program", "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return Client(r.json()["key"])


def test_models_and_completion_in_openai_format():
    c, _ = register()
    k = key_for(c)
    m = k.get("/v1/models").json()
    assert m["object"] == "list"
    ids = {x["id"]: x for x in m["data"]}
    assert ids["gpt-4o"]["owned_by"] == "openai" and ids["gpt-4o"]["object"] == "model"
    assert "claude-sonnet-4-5" in ids and "llama3.1:8b" in ids
    r = k.post("/v1/chat/completions", {"model": "claude-sonnet-4-5", "messages": [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "parts "}, {"type": "text", "text": "joined"}]}]})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["object"] == "chat.completion" and b["id"].startswith("chatcmpl-")
    assert b["choices"][0]["message"] == {"role": "assistant", "content": "Echo: parts joined",
                                           "refusal": None}
    assert b["choices"][0]["finish_reason"] == "stop"
    assert b["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 1   # counts for the owner


def test_streaming_chunks_usage_and_done():
    c, _ = register()
    k = key_for(c)
    r = k.call("POST", "/v1/chat/completions", {"model": "gemini-2.0-flash", "stream": True,
               "stream_options": {"include_usage": True},
               "messages": [{"role": "user", "content": "stream it now"}]}, stream=True)
    assert r.headers["Content-Type"].startswith("text/event-stream")
    data = [l[6:] for l in r.iter_lines(decode_unicode=True) if l.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks if ch["choices"])
    assert text == "Echo: stream it now"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4


def test_errors_speak_openai_too():
    c, _ = register()
    k = key_for(c)
    r = k.post("/v1/chat/completions", {"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    err = assert_error(r, 404, "model_not_found")
    assert err["type"] == "invalid_request_error" and err["param"] is None
    r = k.post("/v1/chat/completions", {"model": "gpt-4o", "messages": []})
    err = assert_error(r, 422, "validation_failed")
    assert err["param"] == "messages" and err["type"] == "invalid_request_error"
    r = Client("lx_bogus").post("/v1/chat/completions", {"model": "gpt-4o", "messages": []})
    err = assert_error(r, 401, "invalid_token")
    assert err["type"] == "authentication_error"
    # A key without the llm scope cannot use /v1.
    r = key_for(c, ("read",)).get("/v1/models")
    assert_error(r, 403, "insufficient_scope")
    r = k.post("/v1/chat/completions", {"model": "gpt-4o", "n": 2,
                                        "messages": [{"role": "user", "content": "x"}]})
    assert_error(r, 422, "validation_failed")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_official_openai_client_works_unchanged():
    if not os.path.isdir(os.path.join(SDK, "node_modules", "openai")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=SDK, check=True, timeout=300)
    c, _ = register()
    key = c.post("/api/v1/api-keys", {"name": "sdk"}).json()["key"]
    p = subprocess.run(["node", "check.mjs"], cwd=SDK, capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, LEXAR_URL=URL, LEXAR_API_KEY=key,
                                             MODEL="gpt-4o"))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "gpt-4o" in out["models"]
    assert out["text"] == "Echo: hello from the sdk" and out["object"] == "chat.completion"
    assert out["finish"] == "stop" and out["usage"]["total_tokens"] == (2 + 4) + 5
    assert out["stream_text"] == "Echo: stream to the sdk" and out["stream_chunks"] >= 4
    assert out["stream_usage"]["completion_tokens"] == 5
    assert out["error"]["status"] == 404 and out["error"]["cls"] == "NotFoundError"
    assert c.get("/api/v1/me").json()["usage"]["used_today"] == 2
