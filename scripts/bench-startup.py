#!/usr/bin/env python3
"""Start-up time of an action binary: process start to its first request.

A loopback server accepts the request and answers 204 like GitHub's
dispatch endpoint; we time spawn -> request received, and spawn -> exit.
curl doing the same POST is measured in the same run as the baseline.

usage: scripts/bench-startup.py BINARY [RUNS]
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

def serve_once(sock, received):
    conn, _ = sock.accept()
    received.append(time.perf_counter())
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += conn.recv(65536)
    conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    conn.close()

def measure(argv, env, runs):
    first, total = [], []
    for _ in range(runs):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        received = []
        t = threading.Thread(target=serve_once, args=(sock, received))
        t.start()
        args = [a.replace("{port}", str(port)) for a in argv]
        e = {k: v.replace("{port}", str(port)) for k, v in env.items()}
        start = time.perf_counter()
        p = subprocess.run(args, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.perf_counter()
        t.join()
        sock.close()
        if p.returncode != 0:
            sys.exit(f"{args[0]} exited {p.returncode}")
        first.append((received[0] - start) * 1000)
        total.append((end - start) * 1000)
    return first, total

def row(name, first, total):
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
    return (f"| {name} | {statistics.median(first):.2f} ms | {q(first, 0.95):.2f} ms "
            f"| {statistics.median(total):.2f} ms |")

def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    env = {
        "PATH": "/usr/bin:/bin",
        "INPUT_REPOSITORY": "octo/deploy",
        "INPUT_TOKEN": "ghs_benchToken",
        "GITHUB_API_URL": "http://127.0.0.1:{port}",
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "1",
    }
    ours = measure([binary], env, runs)
    curl = measure(["curl", "-s", "-X", "POST", "-H", "Authorization: Bearer x",
                    "-H", "Content-Type: application/json",
                    "-d", '{"event_type":"deploy","client_payload":{}}',
                    "http://127.0.0.1:{port}/repos/octo/deploy/dispatches"], {"PATH": "/usr/bin:/bin"}, runs)
    print(f"{runs} runs each, one machine, one run of this script:\n")
    print("| command | start → first request (median) | p95 | start → exit (median) |")
    print("|---|---|---|---|")
    print(row(f"`{os.path.basename(binary)}` (dispatch-deploy)", *ours))
    print(row("`curl` (same POST, baseline)", *curl))
    print(f"\nratio ours/curl (median, start → first request): "
          f"{statistics.median(ours[0]) / statistics.median(curl[0]):.2f}")

if __name__ == "__main__":
    main()
