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


# ---- accounts ----

import re as _re
import uuid as _uuid

FAKES_URL = os.environ.get("FAKES_URL", "")
PASSWORD = "correct horse battery staple"


def stack_env():
    """The generated secrets of this stack (VAR/lexar.env)."""
    env = {}
    with open(os.path.join(VAR, "lexar.env")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v.strip("'")
    return env


def unique_email(tag="user"):
    return f"{tag}-{_uuid.uuid4().hex[:12]}@example.com"


def register(email=None, password=PASSWORD, name="Test User"):
    """A new account; returns (client with its access token, response body)."""
    email = email or unique_email()
    r = Client().post("/api/v1/auth/register",
                      {"email": email, "password": password, "name": name})
    assert r.status_code == 201, r.text
    body = r.json()
    c = Client(body["access_token"])
    c.email = email
    c.password = password
    c.refresh = body["refresh_token"]
    c.user = body["user"]
    return c, body


def login(email, password=PASSWORD):
    r = Client().post("/api/v1/auth/login", {"email": email, "password": password})
    assert r.status_code == 200, r.text
    b = r.json()
    c = Client(b["access_token"])
    c.email, c.password, c.refresh, c.user = email, password, b["refresh_token"], b["user"]
    return c


def mails_to(addr):
    return requests.get(FAKES_URL + "/_control/mail", params={"to": addr}).json()


def mail_token(addr, path, timeout=10):
    """The token in the newest mailed link to FRONTEND/path?token=..."""
    def find():
        for m in reversed(mails_to(addr)):
            hit = _re.search(path + r"\?token=([A-Za-z0-9_\-]+)", m["data"])
            if hit:
                return hit.group(1)
    tok = wait_for(find, timeout)
    assert tok, f"no mail with {path} to {addr}"
    return tok
