#!/usr/bin/env python3
"""The server's own time per request, from a packet capture on loopback: tells a server stall
from a load-driver stall (docs/src/dating/decisions.md, the in-process store).

Capture the data packets of a run, then read them back:

    tcpdump -i lo -s 96 -w run.pcap 'tcp port 9301 and (tcp[tcpflags] & tcp-push != 0)' &
    RATE=2500 TOTAL=750000 bash benches/load/soak.sh
    tcpdump -tt -nn -r run.pcap | python3 benches/load/server-time.py 9301

The load sends one request at a time per connection (HTTP/1.1, no pipelining), so a request
is the first data packet towards the server after the last answer, and its answer the first
data packet back: the server's time is the difference of their kernel timestamps. The largest
gaps between requests arriving show when the driver stopped sending. `.ci/run` runs the
examples below (`python3 -m doctest`).
"""
import heapq
import sys


def pair(lines, port):
    """(asked, answered) kernel timestamps of each request to `port`, in tcpdump's `-tt -nn`
    text. A request or an answer in several packets counts once; empty packets are skipped.

    >>> capture = '''1.000 IP 127.0.0.1.5000 > 127.0.0.1.9301: Flags [P.], length 300
    ... 1.001 IP 127.0.0.1.5000 > 127.0.0.1.9301: Flags [P.], length 40
    ... 1.004 IP 127.0.0.1.9301 > 127.0.0.1.5000: Flags [P.], length 120
    ... 1.005 IP 127.0.0.1.9301 > 127.0.0.1.5000: Flags [P.], length 80
    ... 1.005 IP 127.0.0.1.5001 > 127.0.0.1.9301: Flags [.], length 0
    ... 1.010 IP 127.0.0.1.5001 > 127.0.0.1.9301: Flags [P.], length 300
    ... 1.011 IP 127.0.0.1.9301 > 127.0.0.1.5001: Flags [P.], length 200'''
    >>> pair(capture.splitlines(), "9301")
    [(1.0, 1.004), (1.01, 1.011)]
    """
    asked, pairs = {}, []
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or fields[1] != "IP" or fields[-2:] == ["length", "0"]:
            continue
        at, src, dst = float(fields[0]), fields[2], fields[4].rstrip(":")
        if dst.endswith("." + port):
            asked.setdefault(src, at)
        elif src.endswith("." + port) and dst in asked:
            pairs.append((asked.pop(dst), at))
    return pairs


def main(port):
    pairs = sorted(pair(sys.stdin, port))
    if not pairs:
        sys.exit(f"no request and answer on port {port} in the capture")
    start = pairs[0][0]
    times = sorted((answered - asked, asked) for asked, answered in pairs)
    pct = lambda p: times[min(len(times) - 1, int(len(times) * p))][0] * 1000
    print(f"{len(times)} requests; server time p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, "
          f"p99.9 {pct(0.999):.2f} ms, max {times[-1][0] * 1000:.1f} ms")
    gaps = heapq.nlargest(8, ((b[0] - a[0], a[0]) for a, b in zip(pairs, pairs[1:])))
    print("largest gaps between arrivals (ms at s):",
          ", ".join(f"{g * 1000:.1f} at {t - start:.2f}" for g, t in gaps))
    print("slowest server times (ms at s):",
          ", ".join(f"{d * 1000:.1f} at {t - start:.2f}" for d, t in reversed(times[-8:])))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tcpdump -tt -nn -r CAPTURE | server-time.py PORT")
    main(sys.argv[1])
