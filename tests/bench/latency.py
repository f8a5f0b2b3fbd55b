#!/usr/bin/python3
"""p50/p99 of N sequential GETs: latency.py N URL [Header: value]..."""
import http.client
import sys
import time
import urllib.parse

n, url, hdrs = int(sys.argv[1]), sys.argv[2], dict(h.split(": ", 1) for h in sys.argv[3:])
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
path = u.path + ("?" + u.query if u.query else "")
lat = []
for i in range(n + 3):
    t = time.perf_counter()
    c.request("GET", path, headers=hdrs)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"HTTP {r.status}")
    if i >= 3:                     # the first ones prepare statements
        lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(f"{lat[len(lat) // 2]:.2f} {lat[int(len(lat) * 0.99)]:.2f}")
