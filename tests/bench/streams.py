#!/usr/bin/python3
"""Hold N streaming completions open against a slow fake (each takes
STREAM_MS) and, while they are in flight, measure GET /api/v1/me with wrk,
count PostgreSQL connections and the RSS of every lexar process.

  streams.py URL API_KEY ACCESS_TOKEN N STREAM_MS PGSOCK"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

url, key, token, n, ms, pgsock = sys.argv[1:7]
n, ms = int(n), int(ms)
u = urllib.parse.urlsplit(url)
done, failed, lock = [0], [0], threading.Lock()
body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [
    {"role": "user", "content": f"hold on [fake:stream_ms={ms}]"}]})


def stream():
    ok = False
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=ms / 1000 + 120)
        c.request("POST", "/v1/chat/completions", body=body, headers={
            "Authorization": "Bearer " + key, "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        ok = r.status == 200 and data.rstrip().endswith(b"data: [DONE]")
    except Exception:
        pass
    with lock:
        (done if ok else failed)[0] += 1


def rss_mb():
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if comm.startswith("lexar") or b"lexar.fcgi" in cmd:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


ts = [threading.Thread(target=stream, daemon=True) for _ in range(n)]
t0 = time.time()
for t in ts:
    t.start()
time.sleep(min(4, ms / 3000))
out = subprocess.run(["wrk", "-t1", "-c32", "-d5s", "--latency", "-H",
                      "Authorization: Bearer " + token, url + "/api/v1/me"],
                     capture_output=True, text=True).stdout
p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
pg = subprocess.run(["psql", "-h", pgsock, "-U", "postgres", "-d", "lexar", "-tAc",
                     "SELECT count(*) FROM pg_stat_activity WHERE datname = 'lexar' "
                     "AND application_name = 'lexar'"], capture_output=True,
                    text=True).stdout.strip()
rss = rss_mb()
inflight = n - done[0] - failed[0]
for t in ts:
    t.join()
print(f"{n} {inflight} {done[0]} {failed[0]} {time.time() - t0:.1f} {rps} {p99} {pg} {rss:.0f}")
