#!/usr/bin/python3
"""Open-loop load at a fixed rate; latency counted from each request's
scheduled send time (so a slow answer delays no one's measurement).

  rate.py URL RATE SECONDS [--header 'Name: value'] [--body JSON] [--threads N]

Prints: requests, errors, p50, p90, p99, max (ms)."""
import argparse
import http.client
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("rate", type=float)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--body")
    ap.add_argument("--threads", type=int, default=32)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    headers = dict(h.split(": ", 1) for h in a.header)
    body = a.body.encode() if a.body else None
    if body:
        headers.setdefault("Content-Type", "application/json")
    lat, errors, lock = [], [0], threading.Lock()
    start = time.perf_counter() + 0.5
    total = int(a.rate * a.seconds)

    def worker(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        i = k
        while i < total:
            due = start + i / a.rate
            d = due - time.perf_counter()
            if d > 0:
                time.sleep(d)
            try:
                conn.request("POST" if body else "GET", u.path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                ok = False
            t = (time.perf_counter() - due) * 1000
            with lock:
                lat.append(t)
                if not ok:
                    errors[0] += 1
            i += a.threads
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
    print(f"{len(lat)} {errors[0]} {pct(0.5):.3f} {pct(0.9):.3f} {pct(0.99):.3f} {lat[-1]:.3f}")


if __name__ == "__main__":
    main()
