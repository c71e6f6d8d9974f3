"""What a client sees while a server starts: signed GETs of PATH one after another from the
moment PORT accepts, for SECONDS, with /readyz polled beside them in a thread (so a slow
/readyz does not hide the requests' latency). Prints the first answer's time, when /readyz
said ready, the slowest /readyz, and the requests' latency percentiles and maximum.

Usage: cold-probe.py PORT TOKEN SECONDS PATH   (signed as the development app)"""
import http.client, sys, time, threading, urllib.parse
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/src/dating"))
from sign import signed_params
port, token, secs, path = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); c.connect(); break
    except OSError:
        time.sleep(0.005)
listen_at = time.monotonic() - t0
state = {"ready": None, "readyz_max": 0.0}
def poll():
    while state["ready"] is None and time.monotonic() - t0 < secs:
        s = time.monotonic()
        try:
            c2 = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c2.request("GET", "/readyz"); st = c2.getresponse().status; c2.close()
        except OSError:
            st = 0
        state["readyz_max"] = max(state["readyz_max"], time.monotonic() - s)
        if st == 200: state["ready"] = time.monotonic() - t0
        time.sleep(0.1)
threading.Thread(target=poll, daemon=True).start()
lat, codes = [], {}
first = None
while time.monotonic() - t0 < secs:
    q = urllib.parse.urlencode(signed_params({}, "432ABZ", "1AE32B09224", token=token))
    s = time.monotonic()
    c.request("GET", f"{path}?{q}"); r = c.getresponse(); r.read()
    lat.append(time.monotonic() - s)
    if first is None: first = time.monotonic() - t0
    codes[r.status] = codes.get(r.status, 0) + 1
srt = sorted(lat); n = len(srt)
ms = lambda x: f"{x*1000:.1f}"
r = state["ready"]
print(f"first answer {first:.2f}s, ready {r and round(r,1)}s, slowest /readyz {ms(state['readyz_max'])} ms; n={n} {codes} p50={ms(srt[n//2])} p99={ms(srt[int(n*.99)])} p99.9={ms(srt[int(n*.999)])} max={ms(srt[-1])} over100ms={sum(1 for x in lat if x>0.1)}")
