"""Faults: PostgreSQL down and back, workers killed, graceful stop."""
import os
import signal
import subprocess
import time

import requests

from conftest import URL, VAR, assert_error, stack, wait_for
import fcgi_client

API_SOCK = os.path.join(VAR, "run", "api.sock")


def supervisor(pool="api"):
    with open(os.path.join(VAR, "run", f"{pool}.pid")) as f:
        return int(f.read())


def workers(pool="api"):
    out = subprocess.run(["pgrep", "-P", str(supervisor(pool))],
                         capture_output=True, text=True).stdout.split()
    return sorted(int(p) for p in out)


def test_ready_is_503_while_postgres_is_down_and_recovers_without_restart():
    sup = supervisor()
    before = workers()
    assert requests.get(URL + "/api/v1/ready").status_code == 200
    stack("pg_down")
    try:
        for _ in range(5):   # every pooled connection notices
            r = requests.get(URL + "/api/v1/ready")
            assert_error(r, 503, "database_unavailable")
            assert r.headers["Retry-After"] == "1"
            assert "SELECT" not in r.text and "postgres" not in r.text.lower()
        # Fast endpoints do not depend on the database.
        assert requests.get(URL + "/api/v1/health").status_code == 200
    finally:
        stack("pg_up")
    assert wait_for(lambda: all(requests.get(URL + "/api/v1/ready").status_code == 200
                                for _ in range(10)), 15)
    assert supervisor() == sup and workers() == before


def test_killed_worker_is_replaced_and_service_continues():
    before = workers()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    after = wait_for(lambda: (w := workers()) and len(w) == 2 and
                     before[0] not in w and w, 10)
    assert after and before[0] not in after
    ok = [requests.get(URL + "/api/v1/ready").status_code for _ in range(20)]
    assert ok.count(200) == 20
    t = requests.get(URL + "/metrics").text
    assert any(l.startswith('lexar_worker_restarts_total{pool="api"}') and
               float(l.split()[-1]) >= 1 for l in t.splitlines())


def test_sigterm_finishes_the_request_in_flight_then_exits():
    # A request whose body is still arriving is in flight in a worker.
    conn = fcgi_client.Conn(API_SOCK)
    conn.begin({"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/api/v1/ready",
                "REQUEST_ID": "graceful1", "CONTENT_LENGTH": "10"}, b"01234")
    time.sleep(0.3)
    victims = workers()
    # Find the worker holding our connection: signal both; each must finish
    # what it is doing before exiting.
    for pid in victims:
        os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    conn.send_body(b"56789")
    conn.end_body()
    status, headers, body = conn.response()
    conn.close()
    assert status == 200 and body == b'{"status":"ready","database":"ok"}'
    assert headers["x-request-id"] == "graceful1"
    # Both exited cleanly and were replaced.
    assert wait_for(lambda: (w := workers()) and len(w) == 2 and
                    not set(w) & set(victims), 15)
    with open(os.path.join(VAR, "log", "lexar-api.log")) as f:
        log = f.read()
    for pid in victims:
        assert f'"pid":{pid},"event":"worker_stopped"' in log
    assert requests.get(URL + "/api/v1/ready").status_code == 200
