"""Fakes of the LLM providers Lexar calls, served by the HTTP fake of
fakes.py (install() adds the handlers to its class). Each speaks its
provider's own wire format, errors and streams included:

  /openai/v1           POST chat/completions, POST responses, GET models
  /openrouter/api/v1   POST chat/completions, GET models
  /grok/v1             POST chat/completions, GET models          (x.ai)
  /compat/v1           POST chat/completions, GET models          (Ollama, vLLM)
  /anthropic/v1        POST messages, GET models
  /gemini/v1beta       POST models/{m}:generateContent,
                       POST models/{m}:streamGenerateContent[?alt=sse],
                       GET models, GET models/{m}

Keys: "test-<provider>-key" and any key starting with "user-"; anything else
is a 401 in that provider's format.

The reply is "Echo: " + the text of the last user message, directives
included (at most 200 characters of it; white space collapsed to single
spaces). Tokens are words: the prompt counts every word of every input text
(system included), the completion every word of the reply. Streams send one
content event per word ("word " but the last).

Directives anywhere in the last user message:
  [fake:429] [fake:500] [fake:NNN]  that status in the provider's format
                                    (429 with Retry-After: 1)
  [fake:malformed]   200 whose body is not JSON; streams: one event's data is
                     cut in half (the events before and after are intact)
  [fake:truncate]    half the body (Content-Length is the whole), or half the
                     events of a stream, then the connection is closed
  [fake:slow=MS]     wait MS milliseconds before the response headers
  [fake:stream_ms=MS]  spread the stream's events over MS milliseconds
  [fake:reply=TEXT]  reply TEXT instead of the echo

Control (under /_control/llm):
  POST   fail      {"provider", "model" (omit: any), "status" (0: close the
                   connection without a response), "times" (1),
                   "retry_after" (optional header)}
  GET    requests  [?provider=] the calls received, oldest first
  DELETE requests  forget them and the pending failures (also DELETE /_control/llm)
  DELETE fail      forget the pending failures
"""
import http.server
import json
import random
import re
import string
import threading
import time
import urllib.parse
import uuid

_LOCK = threading.Lock()
_CALLS = []         # {"provider", "method", "path", "query", "headers", "body", "time"}
_FAILS = []         # {"provider", "model", "status", "times", "retry_after"}

PROVIDERS = ("openai", "openrouter", "grok", "compat", "anthropic", "gemini")
DIRECTIVE = re.compile(r"\[fake:([a-z_]+|\d{3})(?:=([^\]]*))?\]")
ECHO_MAX = 200
B64URL = string.ascii_letters + string.digits + "-_"

MODELS = {
    "openai": [("gpt-4o", 1715367049), ("gpt-4o-mini", 1721172741),
               ("gpt-5", 1754425777), ("gpt-5-mini", 1754425928)],
    "grok": [("grok-2", 1733961600), ("grok-3-mini", 1743724800)],
    "compat": [("llama3.1:8b", 1721692800), ("qwen2.5:7b", 1726617600)],
}
OPENROUTER_MODELS = [  # id, name, context, $/token prompt, completion
    ("openai/gpt-4o", "OpenAI: GPT-4o", 128000, "0.0000025", "0.00001"),
    ("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 128000, "0.00000015", "0.0000006"),
    ("anthropic/claude-3.5-sonnet", "Anthropic: Claude 3.5 Sonnet", 200000,
     "0.000003", "0.000015"),
]
ANTHROPIC_MODELS = [
    ("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-3-5-haiku-latest", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
]
GEMINI_MODELS = [
    ("gemini-2.0-flash", "Gemini 2.0 Flash", 1048576, 8192),
    ("gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536),
]

ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                   403: "permission_error", 404: "not_found_error",
                   413: "request_too_large", 429: "rate_limit_error",
                   500: "api_error", 529: "overloaded_error"}
GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED",
                 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
XAI_CODES = {400: "Client specified an invalid argument",
             401: "The request does not have valid authentication credentials",
             403: "The caller does not have permission to execute the specified operation",
             404: "Some requested entity was not found",
             429: "Some resource has been exhausted",
             500: "Internal error", 503: "The service is currently unavailable"}
MESSAGES = {400: "Bad request.", 401: "Invalid API key.", 403: "Forbidden.",
            404: "Not found.", 429: "Rate limit exceeded. Please retry after 1 second.",
            500: "The server had an error while processing your request.",
            502: "Bad gateway.", 503: "The service is temporarily unavailable.",
            529: "Overloaded"}


def install(cls):
    """Add the provider handlers and /_control/llm to the HTTP handler class."""
    for p in PROVIDERS:
        for m in ("GET", "POST"):
            setattr(cls, f"{m}_{p}",
                    lambda self, parts, q, _p=p, _m=m: Call(self, _p, _m, parts, q).run())
    for m in ("GET", "POST", "DELETE"):
        orig = getattr(cls, f"{m}_control")
        setattr(cls, f"{m}_control",
                lambda self, parts, q, _o=orig, _m=m:
                    control(self, _m, parts[1:], q) if parts[:1] == ["llm"] else _o(self, parts, q))
    # Headers and body go out in separate writes: without TCP_NODELAY the
    # body of a keep-alive answer waits ~40 ms for the client's delayed ACK.
    cls.disable_nagle_algorithm = True
    # 1,000 streams connect at once: the default listen backlog of 5 would
    # drop SYNs and add seconds of retransmission to the clients.
    http.server.ThreadingHTTPServer.request_queue_size = 2048


# ---- control ----

def control(h, method, parts, q):
    if method == "GET" and parts == ["requests"]:
        with _LOCK:
            out = [c for c in _CALLS if not q.get("provider") or c["provider"] == q["provider"]]
        return h.send_json(200, out)
    if method == "POST" and parts == ["fail"]:
        try:
            d = json.loads(read_body(h) or b"{}")
            rule = {"provider": d["provider"], "model": d.get("model"),
                    "status": int(d["status"]), "times": int(d.get("times", 1)),
                    "retry_after": d.get("retry_after")}
        except (ValueError, KeyError, TypeError) as e:
            return h.send_json(400, {"error": "bad fail rule: %r" % (e,)})
        if rule["provider"] not in PROVIDERS:
            return h.send_json(400, {"error": "unknown provider"})
        with _LOCK:
            _FAILS.append(rule)
        return h.send_json(200, {})
    if method == "DELETE" and parts in (["requests"], ["fail"], []):
        read_body(h)
        with _LOCK:
            if parts != ["fail"]:
                _CALLS.clear()
            _FAILS.clear()
        return h.send_json(200, {})
    read_body(h)
    h.send_json(404, {"error": "no llm control at " + "/".join(parts)})


def take_fail(provider, model):
    with _LOCK:
        for r in _FAILS:
            if r["provider"] == provider and r["model"] in (None, model) and r["times"] > 0:
                r["times"] -= 1
                if r["times"] == 0:
                    _FAILS.remove(r)
                return r
    return None


# ---- helpers ----

def read_body(h):
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        out = []
        while True:
            size = int(h.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(out)
            out.append(h.rfile.read(size))
            h.rfile.readline(1024)
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b""


def words(s):
    return len(s.split())


def text_of(content):
    """The text of an OpenAI/Anthropic/Responses message content or Gemini parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return " ".join(p if isinstance(p, str) else str(p.get("text") or "")
                        for p in content if isinstance(p, (str, dict)))
    return ""


def dumps(o):
    return json.dumps(o, separators=(",", ":"))


def new_id(prefix, n=24, alphabet="0123456789abcdef"):
    # random, not secrets: os.urandom is a system call, and each one makes a
    # thread wait for the GIL again, which slows 1,000 concurrent calls.
    return prefix + "".join(random.choices(alphabet, k=n))


def redact(key):
    return (key[:2] + "***" + key[-2:]) if len(key) > 4 else "***"


class Abort(Exception):
    """The client went away (or we closed on purpose): stop quietly."""


# ---- one call ----

class Call:
    def __init__(self, h, provider, method, parts, q):
        self.h, self.provider, self.method, self.parts, self.q = h, provider, method, parts, q
        self.model = None
        self.slow_done = False
        self.req_id = new_id("req_", 24 if provider == "anthropic" else 32)

    # -- plumbing --

    def run(self):
        raw = read_body(self.h)
        try:
            self.body = json.loads(raw) if raw else None
        except ValueError:
            self.body = None
        self.bad_json = bool(raw) and self.body is None
        with _LOCK:
            _CALLS.append({"provider": self.provider, "method": self.method,
                           "path": urllib.parse.urlsplit(self.h.path).path, "query": self.q,
                           "headers": {k.lower(): v for k, v in self.h.headers.items()},
                           "body": self.body, "time": time.time()})
        try:
            self.dispatch()
        except Abort:
            self.h.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.h.close_connection = True

    def write(self, data):
        try:
            self.h.wfile.write(data)
            self.h.wfile.flush()
        except OSError:
            raise Abort()

    def head(self, status, ctype, length=None, headers=None):
        self.slow()
        h = self.h
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        if length is None:
            h.send_header("Cache-Control", "no-cache")
            h.send_header("Connection", "close")
            h.close_connection = True
        else:
            h.send_header("Content-Length", str(length))
        if self.provider == "anthropic":
            h.send_header("request-id", self.req_id)
        elif self.provider in ("openai", "grok"):
            h.send_header("x-request-id", self.req_id)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        try:
            h.end_headers()
        except OSError:
            raise Abort()

    def send(self, status, obj, headers=None, mode=None):
        body = (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
        ctype = "application/json; charset=UTF-8" if self.provider == "gemini" else "application/json"
        if mode == "malformed":
            body = body[:len(body) // 2]
        self.head(status, ctype, len(body), headers)
        if mode == "truncate":
            self.write(body[:len(body) // 2])
            raise Abort()
        self.write(body)

    def slow(self):
        if not self.slow_done:
            self.slow_done = True
            ms = self.directives.get("slow") if hasattr(self, "directives") else None
            if ms:
                time.sleep(float(ms) / 1000)

    # -- errors in each provider's format --

    def error(self, status, message=None, kind=None, code=None, retry_after=None):
        p = self.provider
        msg = message or MESSAGES.get(status, "Error %d." % status)
        if p == "anthropic":
            obj = {"type": "error",
                   "error": {"type": kind or ANTHROPIC_TYPES.get(status, "api_error"), "message": msg},
                   "request_id": self.req_id}
        elif p == "gemini":
            obj = {"error": {"code": status, "message": msg,
                             "status": kind or GOOGLE_STATUS.get(status, "UNKNOWN")}}
            if status == 401:
                obj["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                            "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                                            "metadata": {"service": "generativelanguage.googleapis.com"}}]
        elif p == "openrouter":
            obj = {"error": {"code": status, "message": msg,
                             "metadata": {"provider_name": None} if status >= 500 else {}}}
        elif p == "grok":
            obj = {"code": XAI_CODES.get(status, "Unknown error"), "error": msg}
        else:  # openai, compat
            if kind is None:
                kind = ("invalid_request_error" if status < 429 else
                        "requests" if status == 429 else "server_error")
            if code is None and status == 429:
                code = "rate_limit_exceeded"
            obj = {"error": {"message": msg, "type": kind, "param": None, "code": code}}
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        elif status == 429:
            headers["Retry-After"] = "1"
        self.send(status, obj, headers)

    # -- routing --

    def dispatch(self):
        p, parts, m = self.provider, self.parts, self.method
        self.directives = {}
        base = {"openai": ["v1"], "grok": ["v1"], "compat": ["v1"], "openrouter": ["api", "v1"],
                "anthropic": ["v1"], "gemini": ["v1beta"]}[p]
        if parts[:len(base)] != base:
            return self.error(404, "Not found: /%s/%s" % (p, "/".join(parts)))
        rest = [urllib.parse.unquote(x) for x in parts[len(base):]]
        gen = None
        if m == "GET" and rest == ["models"]:
            if p != "openrouter":  # OpenRouter's model list is public
                if not self.auth():
                    return
            return self.send(200, self.models())
        if p == "gemini" and m == "GET" and len(rest) == 2 and rest[0] == "models":
            if not self.auth():
                return
            for mid, name, inl, outl in GEMINI_MODELS:
                if mid == rest[1]:
                    return self.send(200, gemini_model(mid, name, inl, outl))
            return self.error(404, "models/%s is not found for API version v1beta, or is not "
                                   "supported for generateContent." % rest[1])
        if m == "POST" and p == "openai" and rest == ["moderations"]:
            if not self.auth():
                return
            return self.moderation()
        if m == "POST":
            if p in ("openai", "openrouter", "grok", "compat") and rest == ["chat", "completions"]:
                gen = "chat"
            elif p == "openai" and rest == ["responses"]:
                gen = "responses"
            elif p == "anthropic" and rest == ["messages"]:
                gen = "messages"
            elif p == "gemini" and len(rest) == 2 and rest[0] == "models" and ":" in rest[1]:
                self.model, verb = rest[1].rsplit(":", 1)
                if verb in ("generateContent", "streamGenerateContent"):
                    gen = verb
        if gen is None:
            return self.error(404, "Unknown request URL: %s %s" % (m, self.h.path.split("?")[0]))
        if not self.auth():
            return
        if not self.parse(gen):
            return
        for mm in DIRECTIVE.finditer(self.last_user):
            self.directives[mm.group(1)] = True if mm.group(2) is None else mm.group(2)
        rule = take_fail(p, self.model)
        if rule:
            if rule["status"] == 0:
                self.slow()
                raise Abort()
            return self.error(rule["status"], retry_after=rule["retry_after"])
        for k in self.directives:
            if k.isdigit():
                return self.error(int(k))
        self.compose()
        if self.stream:
            return self.stream_events(getattr(self, "events_" + gen)())
        mode = "malformed" if "malformed" in self.directives else \
            "truncate" if "truncate" in self.directives else None
        self.send(200, getattr(self, "body_" + gen)(), mode=mode)

    # OpenAI's moderation endpoint: input containing "[fake:flag]" is flagged
    # as violence; "[fake:500]" fails like the other endpoints.
    def moderation(self):
        body = self.body          # read by run()
        if self.bad_json or not isinstance(body, dict):
            return self.error(400, "We could not parse the JSON body of your request.")
        text = body.get("input")
        if isinstance(text, list):
            text = " ".join(t for t in text if isinstance(t, str))
        if not isinstance(text, str):
            return self.error(400, "'input' is a required property")
        if "[fake:500]" in text:
            return self.error(500)
        flagged = "[fake:flag]" in text
        cats = {c: False for c in ("harassment", "hate", "self-harm", "sexual", "violence")}
        cats["violence"] = flagged
        self.send(200, {"id": new_id("modr-"), "model": body.get("model", "omni-moderation-latest"),
                        "results": [{"flagged": flagged, "categories": cats,
                                     "category_scores": {c: (0.97 if v else 0.001)
                                                         for c, v in cats.items()}}]})

    def auth(self):
        p, hd = self.provider, self.h.headers
        if p == "anthropic":
            key = hd.get("x-api-key")
        elif p == "gemini":
            key = hd.get("x-goog-api-key") or self.q.get("key")
        else:
            a = hd.get("Authorization") or ""
            key = a[7:].strip() if a[:7].lower() == "bearer " else None
        if key and (key == "test-%s-key" % p or key.startswith("user-")):
            return True
        if p == "anthropic":
            msg = "invalid x-api-key" if key else "x-api-key header is required"
        elif p == "gemini":
            msg = "API key not valid. Please pass a valid API key." if key else \
                "Method doesn't allow unregistered callers (callers without established identity). " \
                "Please use API Key or other form of API consumer identity to call this API."
        elif p == "openrouter":
            msg = "User not found." if key else "No auth credentials found"
        elif p == "grok":
            msg = ("Incorrect API key provided: %s. You can obtain an API key from "
                   "https://console.x.ai." % redact(key)) if key else "No API key provided."
        else:
            msg = ("Incorrect API key provided: %s. You can find your API key at "
                   "https://platform.openai.com/account/api-keys." % redact(key)) if key else \
                "You didn't provide an API key. You need to provide your API key in an " \
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        self.error(401, msg, code="invalid_api_key" if key and p in ("openai", "compat") else None)
        return False

    # -- request parsing: model, input texts, last user message, limits --

    def bad(self, msg):
        self.error(400, msg)
        return False

    def parse(self, gen):
        b = self.body
        if self.bad_json:
            return self.bad("We could not parse the JSON body of your request.")
        if not isinstance(b, dict):
            return self.bad("The request body must be a JSON object.")
        texts, last_user, limit = [], None, None
        self.stream = bool(b.get("stream"))
        if gen != "messages" and gen not in ("generateContent", "streamGenerateContent"):
            if not isinstance(b.get("model"), str) or not b["model"]:
                return self.bad("you must provide a model parameter")
        if gen == "chat":
            msgs = b.get("messages")
            if not isinstance(msgs, list) or not msgs:
                return self.bad("'messages' must be a non-empty array.")
            for mm in msgs:
                if isinstance(mm, dict):
                    t = text_of(mm.get("content"))
                    texts.append(t)
                    if mm.get("role") == "user":
                        last_user = t
            limit = b.get("max_completion_tokens", b.get("max_tokens"))
        elif gen == "responses":
            inp = b.get("input")
            if isinstance(b.get("instructions"), str):
                texts.append(b["instructions"])
            if isinstance(inp, str):
                texts.append(inp)
                last_user = inp
            elif isinstance(inp, list) and inp:
                for it in inp:
                    if isinstance(it, dict):
                        t = text_of(it.get("content") if "content" in it else it.get("output"))
                        texts.append(t)
                        if it.get("role") == "user":
                            last_user = t
            else:
                return self.bad("Missing required parameter: 'input'.")
            limit = b.get("max_output_tokens")
        elif gen == "messages":
            if not self.h.headers.get("anthropic-version"):
                return self.bad("anthropic-version: header is required")
            for f in ("model", "max_tokens", "messages"):
                if f not in b:
                    return self.bad("%s: Field required" % f)
            if not isinstance(b["max_tokens"], int) or b["max_tokens"] < 1:
                return self.bad("max_tokens: Input should be a valid integer greater than 0")
            if not isinstance(b["messages"], list) or not b["messages"]:
                return self.bad("messages: at least one message is required")
            texts.append(text_of(b.get("system")))
            for mm in b["messages"]:
                if isinstance(mm, dict):
                    t = text_of(mm.get("content"))
                    texts.append(t)
                    if mm.get("role") == "user":
                        last_user = t
            limit = b["max_tokens"]
        else:  # gemini
            self.stream = gen == "streamGenerateContent"
            contents = b.get("contents")
            if not isinstance(contents, list) or not contents:
                return self.bad("* GenerateContentRequest.contents: contents is not specified")
            si = b.get("systemInstruction") or b.get("system_instruction")
            if isinstance(si, dict):
                texts.append(text_of(si.get("parts")))
            for c in contents:
                if isinstance(c, dict):
                    t = text_of(c.get("parts"))
                    texts.append(t)
                    if c.get("role", "user") == "user":
                        last_user = t
            gc = b.get("generationConfig") or b.get("generation_config") or {}
            limit = gc.get("maxOutputTokens", gc.get("max_output_tokens")) if isinstance(gc, dict) else None
        if self.model is None:
            self.model = b["model"]
        self.prompt_tokens = sum(words(t) for t in texts)
        self.last_user = last_user or ""
        self.limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        return True

    def compose(self):
        d = self.directives
        if isinstance(d.get("reply"), str):
            reply = d["reply"]
        else:
            reply = "Echo: " + self.last_user.strip()[:ECHO_MAX]
        w = reply.split()
        self.cut = self.limit is not None and len(w) > max(self.limit, 0)
        if self.cut:
            w = w[:max(self.limit, 0)]
        self.words = w
        self.text = " ".join(w)
        self.completion_tokens = len(w)
        self.created = int(time.time())

    # -- streaming --

    def stream_events(self, events):
        """events: list of (event name or None, payload dict or str); the
        framing is the provider's. Writes them one by one."""
        p, d = self.provider, self.directives
        gemini_array = p == "gemini" and self.q.get("alt") != "sse"

        def frame(i, name, payload, bad=False):
            data = payload if isinstance(payload, str) else dumps(payload)
            if bad:
                data = data[:len(data) // 2]
            if gemini_array:
                return (("[" if i == 0 else ",\r\n") + data).encode()
            if name == ":":
                return (": %s\n\n" % data).encode()
            if p == "gemini":
                return ("data: %s\r\n\r\n" % data).encode()
            if name:
                return ("event: %s\ndata: %s\n\n" % (name, data)).encode()
            return ("data: %s\n\n" % data).encode()

        # (index, name, payload, bad), encoded only when sent: 1,000 streams
        # starting at once do not all serialize their events up front.
        frames = [(i, n, e, False) for i, (n, e) in enumerate(events)]
        if "malformed" in d:
            k = 1 if len(events) > 1 else 0
            frames.insert(k + 1, (k, events[k][0], events[k][1], True))
        if gemini_array:
            frames.append(b"]")
        if "truncate" in d:
            frames = frames[:len(frames) // 2]
        try:
            gap = float(d.get("stream_ms") or 0) / 1000 / max(len(frames) - 1, 1)
        except ValueError:
            gap = 0
        if gemini_array:
            ctype = "application/json; charset=UTF-8"
        elif p in ("gemini", "compat"):
            ctype = "text/event-stream"
        else:
            ctype = "text/event-stream; charset=utf-8"
        self.head(200, ctype)
        for i, f in enumerate(frames):
            if gap and i:
                time.sleep(gap)
            self.write(f if isinstance(f, bytes) else frame(*f))
        if "truncate" in d:
            raise Abort()

    def pieces(self):
        w = self.words
        return [x + " " for x in w[:-1]] + w[-1:]

    # -- OpenAI-style chat completions (openai, openrouter, grok, compat) --

    def usage_chat(self):
        p, c = self.prompt_tokens, self.completion_tokens
        u = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        if self.provider in ("openai", "grok", "openrouter"):
            u["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            u["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0,
                                              "rejected_prediction_tokens": 0}
        if self.provider == "grok":
            u["num_sources_used"] = 0
        if self.provider == "openrouter":
            price = {m[0]: (float(m[3]), float(m[4])) for m in OPENROUTER_MODELS}.get(self.model, (0, 0))
            u["cost"] = round(p * price[0] + c * price[1], 10)
            u["is_byok"] = self.h.headers.get("Authorization", "")[7:].startswith("user-")
        return u

    def chat_head(self):
        p = self.provider
        if p == "openrouter":
            cid = new_id("gen-", 30)
        elif p == "grok":
            cid = str(uuid.UUID(int=random.getrandbits(128), version=4))
        else:
            cid = new_id("chatcmpl-", 29)
        o = {"id": cid, "object": "chat.completion", "created": self.created, "model": self.model}
        if p == "openrouter":
            o["provider"] = "OpenAI" if self.model.startswith("openai/") else "Anthropic"
        else:
            o["system_fingerprint"] = "fp_ollama" if p == "compat" else new_id("fp_", 10)
        return o

    def finish_chat(self):
        return "length" if self.cut else "stop"

    def body_chat(self):
        o = self.chat_head()
        msg = {"role": "assistant", "content": self.text}
        if self.provider in ("openai", "openrouter", "grok"):
            msg["refusal"] = None
        if self.provider == "openai":
            msg["annotations"] = []
        ch = {"index": 0, "message": msg, "logprobs": None, "finish_reason": self.finish_chat()}
        if self.provider == "openrouter":
            ch["native_finish_reason"] = ch["finish_reason"]
        o["choices"] = [ch]
        o["usage"] = self.usage_chat()
        if self.provider == "openai":
            o["service_tier"] = "default"
        return o

    def events_chat(self):
        p, b = self.provider, self.body
        base = self.chat_head()
        base["object"] = "chat.completion.chunk"
        so = b.get("stream_options")
        with_usage = p == "openrouter" or (isinstance(so, dict) and so.get("include_usage") is True)

        def chunk(delta, finish=None, choices=True):
            o = dict(base)
            if choices:
                ch = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                if p == "openrouter":
                    ch["native_finish_reason"] = finish
                o["choices"] = [ch]
            else:
                o["choices"] = []
            if with_usage and p != "openrouter":
                o["usage"] = None
            return (None, o)

        ev = []
        if p == "openrouter":
            ev.append((":", "OPENROUTER PROCESSING"))
        first = {"role": "assistant", "content": ""}
        if p in ("openai", "openrouter"):
            first["refusal"] = None
        ev.append(chunk(first))
        ev += [chunk({"content": t}) for t in self.pieces()]
        ev.append(chunk({}, self.finish_chat()))
        if with_usage:
            last = chunk(None, choices=False)
            last[1]["usage"] = self.usage_chat()
            ev.append(last)
        ev.append((None, "[DONE]"))
        return ev

    # -- OpenAI Responses --

    def response_obj(self, status, output, usage):
        b = self.body
        return {"id": self.resp_id, "object": "response", "created_at": self.created,
                "status": status, "background": False, "error": None,
                "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
                "instructions": b.get("instructions"), "max_output_tokens": b.get("max_output_tokens"),
                "model": self.model, "output": output, "parallel_tool_calls": True,
                "previous_response_id": b.get("previous_response_id"),
                "reasoning": {"effort": None, "summary": None}, "service_tier": "default",
                "store": b.get("store", True), "temperature": b.get("temperature", 1.0),
                "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
                "top_p": b.get("top_p", 1.0), "truncation": "disabled", "usage": usage,
                "user": None, "metadata": b.get("metadata") or {}}

    def response_parts(self):
        self.resp_id = getattr(self, "resp_id", None) or new_id("resp_", 48)
        self.item_id = getattr(self, "item_id", None) or new_id("msg_", 48)
        status = "incomplete" if self.cut else "completed"
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": self.text}
        item = {"id": self.item_id, "type": "message", "status": status,
                "content": [part], "role": "assistant"}
        p, c = self.prompt_tokens, self.completion_tokens
        usage = {"input_tokens": p, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": c, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": p + c}
        return status, part, item, usage

    def body_responses(self):
        status, _, item, usage = self.response_parts()
        return self.response_obj(status, [item], usage)

    def events_responses(self):
        status, part, item, usage = self.response_parts()
        seq = iter(range(1 << 30))

        def ev(t, **kw):
            return (t, dict({"type": t, "sequence_number": next(seq)}, **kw))

        empty_part = dict(part, text="")
        ids = {"item_id": self.item_id, "output_index": 0, "content_index": 0}
        out = [ev("response.created", response=self.response_obj("in_progress", [], None)),
               ev("response.in_progress", response=self.response_obj("in_progress", [], None)),
               ev("response.output_item.added", output_index=0,
                  item=dict(item, status="in_progress", content=[])),
               ev("response.content_part.added", part=empty_part, **ids)]
        out += [ev("response.output_text.delta", delta=t, logprobs=[], **ids) for t in self.pieces()]
        out += [ev("response.output_text.done", text=self.text, logprobs=[], **ids),
                ev("response.content_part.done", part=part, **ids),
                ev("response.output_item.done", output_index=0, item=item),
                ev("response." + status, response=self.response_obj(status, [item], usage))]
        return out

    # -- Anthropic Messages --

    def stop_anthropic(self):
        return "max_tokens" if self.cut else "end_turn"

    def body_messages(self):
        return {"id": new_id("msg_01", 22), "type": "message", "role": "assistant",
                "model": self.model, "content": [{"type": "text", "text": self.text}],
                "stop_reason": self.stop_anthropic(), "stop_sequence": None,
                "usage": {"input_tokens": self.prompt_tokens, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "output_tokens": self.completion_tokens,
                          "service_tier": "standard"}}

    def events_messages(self):
        start = self.body_messages()
        start.update(content=[], stop_reason=None)
        start["usage"] = dict(start["usage"], output_tokens=1)
        ev = [("message_start", {"type": "message_start", "message": start}),
              ("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
              ("ping", {"type": "ping"})]
        ev += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": t}})
               for t in self.pieces()]
        ev += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
               ("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": self.stop_anthropic(), "stop_sequence": None},
                                  "usage": {"output_tokens": self.completion_tokens}}),
               ("message_stop", {"type": "message_stop"})]
        return ev

    # -- Gemini --

    def gemini_usage(self, final=True):
        p, c = self.prompt_tokens, self.completion_tokens
        u = {"promptTokenCount": p}
        if final:
            u["candidatesTokenCount"] = c
        u["totalTokenCount"] = p + c if final else p
        u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": p}]
        return u

    def gemini_chunk(self, text, final, rid):
        cand = {"content": {"parts": [{"text": text}], "role": "model"}}
        if final:
            cand["finishReason"] = "MAX_TOKENS" if self.cut else "STOP"
        cand["index"] = 0
        return {"candidates": [cand], "usageMetadata": self.gemini_usage(final),
                "modelVersion": self.model, "responseId": rid}

    def body_generateContent(self):
        return self.gemini_chunk(self.text, True, new_id("", 22, B64URL))

    def events_streamGenerateContent(self):
        rid = new_id("", 22, B64URL)
        pieces = self.pieces() or [""]
        return [(None, self.gemini_chunk(t, i == len(pieces) - 1, rid)) for i, t in enumerate(pieces)]

    body_streamGenerateContent = None  # always streamed

    # -- model lists --

    def models(self):
        p = self.provider
        if p in MODELS:
            owner = {"openai": "system", "grok": "xai", "compat": "library"}[p]
            return {"object": "list", "data": [{"id": i, "object": "model", "created": c,
                                                "owned_by": owner} for i, c in MODELS[p]]}
        if p == "openrouter":
            return {"data": [{"id": i, "canonical_slug": i, "name": n, "created": 1718841600,
                              "description": n, "context_length": ctx,
                              "architecture": {"modality": "text->text", "input_modalities": ["text"],
                                               "output_modalities": ["text"], "tokenizer": "Other"},
                              "pricing": {"prompt": pp, "completion": pc, "request": "0", "image": "0"},
                              "top_provider": {"context_length": ctx, "max_completion_tokens": 16384,
                                               "is_moderated": True},
                              "supported_parameters": ["max_tokens", "temperature", "stream"]}
                             for i, n, ctx, pp, pc in OPENROUTER_MODELS]}
        if p == "anthropic":
            data = [{"type": "model", "id": i, "display_name": n, "created_at": c}
                    for i, n, c in ANTHROPIC_MODELS]
            return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        return {"models": [gemini_model(*m) for m in GEMINI_MODELS]}


def gemini_model(mid, name, inl, outl):
    return {"name": "models/" + mid, "version": mid.split("-")[1], "displayName": name,
            "description": name, "inputTokenLimit": inl, "outputTokenLimit": outl,
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
            "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2}
