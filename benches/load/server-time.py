#!/usr/bin/env python3
"""The server's own time per request, from a packet capture on loopback: tells a server stall
from a load-driver stall (docs/src/dating/decisions.md, the in-process store).

Capture the data packets of a run, then read them back:

    tcpdump -i lo -s 96 -w run.pcap 'tcp port 9301 and (tcp[tcpflags] & tcp-push != 0)' &
    RATE=2500 TOTAL=750000 bash benches/load/soak.sh
    tcpdump -tt -nn -r run.pcap | python3 benches/load/server-time.py 9301

Each request is paired with the next answer on its connection (HTTP/1.1 answers in order):
the server's time is the answer's kernel timestamp minus the request's. The largest gaps
between requests arriving show when the driver stopped sending.
"""
import sys


def main(port):
    pending, pairs = {}, []
    for line in sys.stdin:
        fields = line.split()
        if len(fields) < 5 or fields[1] != "IP" or "length 0" in line:
            continue
        at, src, dst = float(fields[0]), fields[2], fields[4].rstrip(":")
        if dst.endswith("." + port):
            pending.setdefault(src, []).append(at)
        elif src.endswith("." + port) and pending.get(dst):
            pairs.append((pending[dst].pop(0), at))
    if not pairs:
        sys.exit(f"no request and answer on port {port} in the capture")
    pairs.sort()
    start = pairs[0][0]
    times = sorted(answered - asked for asked, answered in pairs)
    pct = lambda p: times[min(len(times) - 1, int(len(times) * p))] * 1000
    print(f"{len(times)} requests; server time p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, "
          f"p99.9 {pct(0.999):.2f} ms, max {times[-1] * 1000:.1f} ms")
    arrivals = [asked for asked, _ in pairs]
    gaps = sorted(zip((b - a for a, b in zip(arrivals, arrivals[1:])), arrivals))[-8:]
    print("largest gaps between arrivals (ms at s):",
          ", ".join(f"{g * 1000:.1f} at {t - start:.2f}" for g, t in reversed(gaps)))
    slow = sorted((answered - asked, asked) for asked, answered in pairs)[-8:]
    print("slowest server times (ms at s):",
          ", ".join(f"{d * 1000:.1f} at {t - start:.2f}" for d, t in reversed(slow)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tcpdump -tt -nn -r CAPTURE | server-time.py PORT")
    main(sys.argv[1])
