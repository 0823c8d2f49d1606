"""Runs the generated service and the baselines on loopback, loads each with wrk in
alternating rounds, and prints what scripts/bench.sh reports. Started by that script,
which builds the programs first."""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# The service's default production settings, but for the rate limit: the load comes from
# one client, so the limit is raised far above the load instead of turned off, keeping
# its layer in every request's path.
SERVICE_ENV = {
    "HOST": "127.0.0.1",
    "LOG_FORMAT": "json",
    "RUST_LOG": "info",
    "RATE_LIMIT_PER_SECOND": "1000000",
    "RATE_LIMIT_BURST": "1000000",
    # The exporters of the variants that have them, set as a production service sets them
    # but pointing where nothing listens: every span is still built and sent. Variants
    # without an exporter do not read these.
    "SENTRY_DSN": "http://public@127.0.0.1:9/1",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
}

READY_WITHIN_SECONDS = 30


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_200(port, path):
    """One request over a raw socket: cheap enough to poll every millisecond."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            return connection.makefile("rb").read(12) == b"HTTP/1.1 200"
    except OSError:
        return False


class Server:
    """A program under test, started on a free port and stopped by its PID."""

    def __init__(self, name, program, env, ready_path, log):
        self.name = name
        self.port = free_port()
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [program],
            env={**os.environ, **env, "PORT": str(self.port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + READY_WITHIN_SECONDS
        while not answers_200(self.port, ready_path):
            if self.process.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                sys.exit(f"{name} did not answer 200 on {ready_path}; its output is in {log.name}")
            time.sleep(0.001)
        self.ready_seconds = time.perf_counter() - started

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def memory_kib(self, field):
        """`VmRSS` (now) or `VmHWM` (the peak so far) from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def milliseconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def load(url, args, seconds):
    """One wrk run: requests per second and latency percentiles, refusing any failure.
    Every request carries the service's token, the baselines' too: the same bytes on the
    wire, and only the service verifies it."""
    run = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency",
         "-H", f"Authorization: {args.authorization}", url],
        capture_output=True,
        text=True,
        timeout=seconds * 4 + 30,
    )
    if run.returncode != 0:
        sys.exit(f"wrk failed against {url}:\n{run.stdout}{run.stderr}")
    output = run.stdout
    for failure in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        found = re.search(failure, output)
        if found:
            sys.exit(f"{url} failed under load ({found.group(0)}):\n{output}")
    percentile = lambda p: milliseconds(re.search(rf"^\s+{p}%\s+(\S+)", output, re.MULTILINE).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": percentile(50),
        "p99": percentile(99),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def compare(pairs, args):
    """Each (label, service url, baseline url) loaded in alternating rounds; the median
    round of each side, so a noisy moment on a shared machine does not decide a ratio.
    Also gives how many requests the service answered for each label."""
    served = {}
    for label, service_url, baseline_url in pairs:
        served[label] = load(service_url, args, args.warm_up)["requests"]
        load(baseline_url, args, args.warm_up)
    rounds = {label: ([], []) for label, *_ in pairs}
    for _ in range(args.rounds):
        for label, service_url, baseline_url in pairs:
            rounds[label][0].append(load(service_url, args, args.seconds))
            rounds[label][1].append(load(baseline_url, args, args.seconds))
    for label, (service, _) in rounds.items():
        served[label] += sum(run["requests"] for run in service)
    median = lambda runs: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {label: (median(service), median(baseline)) for label, (service, baseline) in rounds.items()}, served


def create_item(service, authorization):
    request = urllib.request.Request(
        service.url("/api/v1/items"),
        data=json.dumps({"name": "bench", "description": "measured"}).encode(),
        headers={"content-type": "application/json", "authorization": authorization},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["id"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for program in ("service", "hello", "items"):
        parser.add_argument(f"--{program}", required=True, type=Path)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--image")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    database = {"DATABASE_URL": args.database_url}
    subprocess.run([args.service, "migrate"], env={**os.environ, **database}, check=True, stdout=subprocess.DEVNULL)
    log_path = args.work / "service.log"
    servers = []
    try:
        with open(log_path, "wb") as log, open(args.work / "baselines.log", "wb") as baseline_log:
            metrics_port = free_port()
            service_env = {**SERVICE_ENV, **database, "METRICS_PORT": str(metrics_port)}
            service = Server("the service", args.service, service_env, "/health/ready", log)
            servers.append(service)
            # A token granting every scope, as the service's development settings accept it.
            token = subprocess.run([args.service, "dev-token"], env={**os.environ, **service_env},
                                   check=True, capture_output=True, text=True).stdout.strip()
            args.authorization = f"Bearer {token}"
            time.sleep(1)
            idle_kib = service.memory_kib("VmRSS")
            item = f"/api/v1/items/{create_item(service, args.authorization)}"
            hello = Server("bare axum", args.hello, {}, "/health", baseline_log)
            items = Server("axum + sqlx", args.items, database, item, baseline_log)
            servers += [hello, items]
            probe, read = "GET /health vs bare axum", f"GET {item} vs axum + sqlx"
            results, served = compare(
                [(probe, service.url("/health"), hello.url("/health")), (read, service.url(item), items.url(item))],
                args,
            )
            loaded_kib = service.memory_kib("VmHWM")
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as scrape:
                dropped = re.search(r"^log_lines_dropped_total (\S+)$", scrape.read().decode(), re.MULTILINE)
    finally:
        for server in servers:
            server.stop()

    print(f"\n{args.threads} wrk threads, {args.connections} connections, {args.seconds} s per run, median of {args.rounds} alternating rounds\n")
    print("| endpoint | service req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms | req/s ratio | p99 ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, (ours, theirs) in results.items():
        print(
            f"| {label} | {ours['rps']:,.0f} | {ours['p50']:.2f} / {ours['p99']:.2f} "
            f"| {theirs['rps']:,.0f} | {theirs['p50']:.2f} / {theirs['p99']:.2f} "
            f"| {ours['rps'] / theirs['rps']:.2f}x | {ours['p99'] / theirs['p99']:.2f}x |"
        )
    log_bytes = log_path.stat().st_size
    with open(log_path, "rb") as log:
        access_lines = sum(b"finished processing request" in line for line in log)
    print(f"\nservice: start to ready {service.ready_seconds * 1000:.0f} ms, "
          f"RSS idle {idle_kib / 1024:.1f} MiB, peak under load {loaded_kib / 1024:.1f} MiB, "
          f"binary {args.service.stat().st_size / 2**20:.1f} MiB")
    # One access line per API request (the item read and the POST that created it), none for probes.
    print(f"logs: {log_bytes / 2**20:.1f} MiB for {sum(served.values()):,} requests; "
          f"{access_lines:,} access lines for {served[read] + 1:,} API requests; "
          f"log_lines_dropped_total {dropped.group(1) if dropped else 'missing'}")
    if args.image:
        size = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", args.image], check=True, capture_output=True, text=True)
        print(f"image {args.image}: {int(size.stdout) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
