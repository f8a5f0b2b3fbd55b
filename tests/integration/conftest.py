"""Shared fixtures: the stack started by tests/integration/run."""
import json
import os
import subprocess
import time

import pytest
import requests

URL = os.environ["LEXAR_URL"]
VAR = os.environ["VAR"]
ROOT = os.environ["ROOT"]
BIN = os.environ["BIN"]
PGSOCK = os.path.join(VAR, "pg", "sock")


def stack(cmd):
    """Run a scripts/lib.sh function (e.g. 'pg_down') for this stack."""
    subprocess.run(["sh", "-c", f'. "{ROOT}/scripts/lib.sh"; {cmd}'],
                   check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL)


def psql(sql, db="lexar"):
    """Run SQL as the superuser of the test cluster; returns stdout."""
    cmd = ["psql", "-h", PGSOCK, "-U", "postgres", "-d", db, "-tAq", "-v",
           "ON_ERROR_STOP=1", "-c", sql]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=True, capture_output=True,
                          text=True).stdout.strip()


def wait_for(pred, timeout=15.0, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def assert_error(r, status, code):
    """The one error schema, with the request id of the response."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    assert err["request_id"] == r.headers["X-Request-Id"]
    return err


class Client:
    def __init__(self, token=None):
        self.s = requests.Session()
        self.token = token

    def call(self, method, path, body=None, headers=None, raw=None, **kw):
        h = dict(headers or {})
        if self.token and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token
        data = raw
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        return self.s.request(method, URL + path, data=data, headers=h,
                              timeout=kw.pop("timeout", 30), **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)


@pytest.fixture
def api():
    return Client()
