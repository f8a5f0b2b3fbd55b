#!/usr/bin/python3
"""Local fakes of the outside services Lexar talks to, for the integration
tests. One process, several servers on free ports on 127.0.0.1:

  smtp     an SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA,
           RSET, NOOP, QUIT, AUTH PLAIN) that keeps every message; it
           takes 3 s to accept one for a recipient containing "slow-smtp"
  http     one HTTP server for the HTTP fakes, by path prefix:
             /google/...   OAuth 2.0 authorize, token (checks PKCE), userinfo
             /openai/... /openrouter/... /grok/... /compat/... /anthropic/...
             /gemini/...   the LLM providers, in their own formats (llm.py)
             /_control/... what the tests use to read and steer the fakes

The ports are written as JSON to the file given with --ports-file.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import llm

LOCK = threading.Lock()
STATE = {
    "mail": [],                 # {"from", "to": [...], "data"}
    "google_next": None,        # profile for the next sign-in
    "google_codes": {},         # code -> {profile, challenge, redirect_uri}
    "google_tokens": {},        # access token -> profile
    "google_fail": None,        # "token" | "userinfo": answer 500 there
}
GOOGLE_CLIENT = ("test-client-id", "test-client-secret")


# ---- SMTP ----

class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 fake-smtp ESMTP ready")
        mail_from, rcpts = None, []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-fake-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                self.reply("235 2.7.0 Authentication successful")
            elif line.upper().startswith("MAIL FROM:"):
                mail_from, rcpts = line[10:].strip(), []
                self.reply("250 OK")
            elif line.upper().startswith("RCPT TO:"):
                rcpts.append(line[8:].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 need RCPT")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                data = []
                while True:
                    l = self.rfile.readline(65536)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                if any("slow-smtp" in r for r in rcpts):
                    time.sleep(3)
                with LOCK:
                    STATE["mail"].append({"from": mail_from, "to": rcpts,
                                          "data": b"".join(data).decode("utf-8", "replace")})
                self.reply("250 OK queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---- HTTP fakes ----

class HTTP(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = u.path.strip("/").split("/")
        h = getattr(self, f"{method}_{parts[0].lstrip('_')}", None)
        if h is None:
            return self.send_json(404, {"error": "no fake at " + u.path})
        return h(parts[1:], q)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    # control
    def GET_control(self, parts, q):
        if parts == ["mail"]:
            with LOCK:
                msgs = [m for m in STATE["mail"] if not q.get("to") or q["to"] in m["to"]]
            return self.send_json(200, msgs)
        self.send_json(404, {})

    def DELETE_control(self, parts, q):
        with LOCK:
            STATE["mail"].clear()
        self.send_json(200, {})

    def POST_control(self, parts, q):
        data = json.loads(self.body() or b"{}")
        with LOCK:
            if parts == ["google", "next"]:
                STATE["google_next"] = data
            elif parts == ["google", "fail"]:
                STATE["google_fail"] = data.get("where")
        self.send_json(200, {})

    # Google
    def GET_google(self, parts, q):
        if parts == ["auth"]:
            if q.get("client_id") != GOOGLE_CLIENT[0] or q.get("code_challenge_method") != "S256" \
                    or not q.get("code_challenge") or not q.get("state"):
                return self.send_json(400, {"error": "invalid_request"})
            with LOCK:
                prof = STATE["google_next"]
            code = secrets.token_urlsafe(16)
            with LOCK:
                STATE["google_codes"][code] = {"profile": prof, "challenge": q["code_challenge"],
                                               "redirect_uri": q["redirect_uri"]}
            loc = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
            self.send_response(302)
            self.send_header("Location", loc)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts == ["userinfo"]:
            if STATE["google_fail"] == "userinfo":
                return self.send_json(500, {"error": "backend"})
            tok = (self.headers.get("Authorization") or "")[7:]
            with LOCK:
                prof = STATE["google_tokens"].get(tok)
            if prof is None:
                return self.send_json(401, {"error": "invalid_token"})
            return self.send_json(200, prof)
        self.send_json(404, {})

    def POST_google(self, parts, q):
        if parts != ["token"]:
            return self.send_json(404, {})
        if STATE["google_fail"] == "token":
            return self.send_json(500, {"error": "backend"})
        f = dict(urllib.parse.parse_qsl(self.body().decode()))
        with LOCK:
            c = STATE["google_codes"].pop(f.get("code", ""), None)
        if c is None or f.get("grant_type") != "authorization_code":
            return self.send_json(400, {"error": "invalid_grant"})
        if (f.get("client_id"), f.get("client_secret")) != GOOGLE_CLIENT:
            return self.send_json(401, {"error": "invalid_client"})
        if f.get("redirect_uri") != c["redirect_uri"]:
            return self.send_json(400, {"error": "redirect_uri_mismatch"})
        v = f.get("code_verifier", "")
        chal = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
        if chal != c["challenge"]:
            return self.send_json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        tok = secrets.token_urlsafe(24)
        with LOCK:
            STATE["google_tokens"][tok] = c["profile"]
        self.send_json(200, {"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
                             "scope": "openid email profile", "id_token": "unused"})


llm.install(HTTP)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports-file", required=True)
    a = ap.parse_args()
    smtp = ThreadingTCP(("127.0.0.1", 0), SMTPHandler)
    http = ThreadingHTTPServer(("127.0.0.1", 0), HTTP)
    http.daemon_threads = True
    for s in (smtp, http):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ports = {"smtp": smtp.server_address[1], "http": http.server_address[1]}
    tmp = a.ports_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.rename(tmp, a.ports_file)
    threading.Event().wait()


if __name__ == "__main__":
    main()
