"""Foundation: health, readiness, errors, headers, routing, metrics."""
import os
import re
import http.client
import threading

import requests

from conftest import URL, VAR, Client, assert_error, wait_for
import fcgi_client

API_SOCK = os.path.join(VAR, "run", "api.sock")
HOST, PORT = URL.split("//")[1].split(":")


def raw_request(method, path, body=None, headers=None, source=None):
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=10,
                                   source_address=source)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def test_health_has_no_dependencies_and_secure_headers(api):
    r = api.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"] == "application/json"


def test_ready_checks_the_database(api):
    r = api.get("/api/v1/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "database": "ok"}


def test_every_response_has_its_own_request_id(api):
    ids = {api.get("/api/v1/health").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_unknown_path_is_404_json_from_app_and_from_nginx(api):
    assert_error(api.get("/api/v1/nope"), 404, "not_found")
    assert_error(api.get("/definitely/not/lexar"), 404, "not_found")
    # Strict paths: no trailing-slash aliases.
    assert_error(api.get("/api/v1/health/"), 404, "not_found")


def test_other_method_is_405_with_allow(api):
    r = api.post("/api/v1/health")
    err = assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD"
    assert "POST" in err["message"]
    r = api.call("DELETE", "/api/v1/ready")
    assert_error(r, 405, "method_not_allowed")


def test_options_lists_methods_and_head_has_no_body():
    st, h, body = raw_request("OPTIONS", "/api/v1/health")
    assert st == 204 and h["allow"] == "GET, HEAD"
    st, h, body = raw_request("HEAD", "/api/v1/health")
    assert st == 200 and body == b"" and h["content-length"] == "15"


def test_control_characters_and_dot_segments_never_reach_a_handler():
    for path in ("/api/v1/health%0a", "/api/v1/health%0d%0aX:%20y",
                 "/api/v1/%2e%2e/v1/health%00", "/api/v1/he%5Calth"):
        st, h, body = raw_request("GET", path)
        assert st in (400, 404), (path, st, body)
        assert b'"error"' in body or st == 400
    # nginx resolves ".." inside the tree before routing: same handler.
    st, _, body = raw_request("GET", "/api/v1/x/../health")
    assert st == 200 and body == b'{"status":"ok"}'
    st, _, _ = raw_request("GET", "/../api/v1/health")
    assert st == 400


def test_body_over_nginx_limit_is_413_json():
    st, h, body = raw_request("POST", "/api/v1/health", body=b"x" * (3 << 20),
                              headers={"Content-Type": "application/json"})
    assert st == 413
    assert b'"code":"payload_too_large"' in body
    assert h["x-request-id"].encode() in body


def test_direct_fastcgi_path_checks_and_local_only_routes():
    base = {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "10.1.2.3",
            "REQUEST_ID": "t1"}
    st, h, body = fcgi_client.request(API_SOCK, dict(base, DOCUMENT_URI="/api/v1/health\n"))
    assert st == 400 and b'"invalid_path"' in body
    st, h, body = fcgi_client.request(API_SOCK, dict(base, DOCUMENT_URI="/api/v1/../x"))
    assert st == 400
    # /metrics answers loopback only, whatever nginx does.
    st, h, body = fcgi_client.request(API_SOCK, dict(base, DOCUMENT_URI="/metrics"))
    assert st == 404
    st, h, body = fcgi_client.request(API_SOCK, dict(base, DOCUMENT_URI="/metrics",
                                                     REMOTE_ADDR="127.0.0.1"))
    assert st == 200 and b"lexar_http_requests_total" in body
    # Without nginx's request id, one is generated.
    st, h, body = fcgi_client.request(API_SOCK, {"REQUEST_METHOD": "GET",
                                                 "DOCUMENT_URI": "/api/v1/health"})
    assert st == 200 and re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"])
    # A bogus Content-Length is a 400, not a crash.
    st, h, body = fcgi_client.request(API_SOCK, dict(base, DOCUMENT_URI="/api/v1/health",
                                                     CONTENT_LENGTH="12abc"))
    assert st in (200, 400)


def test_metrics_are_loopback_only_in_nginx_too():
    st, h, body = raw_request("GET", "/metrics", source=("127.0.0.2", 0))
    assert st == 403 and b'"forbidden"' in body


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(
                f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_latency_pools_and_db():
    before = requests.get(URL + "/metrics").text
    n0 = metric(before, "lexar_http_requests_total", pool="api",
                route="/api/v1/health", status="200")
    for _ in range(5):
        requests.get(URL + "/api/v1/health")
    requests.get(URL + "/v1/no-such-thing")    # served by the llm pool
    r = requests.get(URL + "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    t = r.text
    assert metric(t, "lexar_http_requests_total", pool="api",
                  route="/api/v1/health", status="200") >= n0 + 5
    assert metric(t, "lexar_http_requests_total", pool="llm",
                  route="unmatched", status="404") >= 1
    assert metric(t, "lexar_http_request_duration_seconds_count", pool="api",
                  route="/api/v1/health") >= n0 + 5
    assert 'le="+Inf"' in t
    assert metric(t, "lexar_db_pool_connections", pool="api", state="max") >= 1
    assert metric(t, "lexar_worker_processes", pool="api") == 2
    assert metric(t, "lexar_worker_processes", pool="llm") == 1
    assert "# TYPE lexar_upstream_requests_total counter" in t


def test_request_log_lines_are_json_without_secrets(api):
    r = api.get("/api/v1/health", headers={"Authorization": "Bearer s3cr3t-token"})
    rid = r.headers["X-Request-Id"]
    log = os.path.join(VAR, "log", "lexar-api.log")

    def find():
        with open(log) as f:
            for line in f:
                if rid in line:
                    return line
    line = wait_for(find, 5)
    assert line, "request line not logged"
    import json
    rec = json.loads(line)
    assert rec["event"] == "request" and rec["status"] == 200
    assert rec["route"] == "/api/v1/health" and rec["method"] == "GET"
    assert "duration_ms" in rec and "time" in rec and "user_id" in rec
    with open(log) as f:
        assert "s3cr3t-token" not in f.read()


def test_auth_prefix_has_a_stricter_rate_limit_answering_429_json():
    results = []

    # 800 requests from 16 clients: far over 200 r/s + a burst of 20 even
    # on a loaded machine (nginx answers 429 without asking Lexar).
    def hit():
        s = requests.Session()
        for _ in range(50):
            results.append(s.get(URL + "/api/v1/auth/nothing-here"))
    threads = [threading.Thread(target=hit) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    limited = [r for r in results if r.status_code == 429]
    assert limited, [r.status_code for r in results][:20]
    assert_error(limited[0], 429, "rate_limited")
    assert limited[0].headers["Retry-After"] == "1"
