"""Policy-engine speed: (a) median verdict time for a typical AgentHarness, (b) `check`
throughput over 10,000 such manifests in one multi-document file, YAML parsing included.

Targets (issue 3): (a) <= 0.5 ms; (b) >= 1,000 manifests/s on 2 cores (issue 16: 5,000/s).
Run: .venv/bin/python benchmarks/bench_engine.py [--count N] [--baseline REV]
``--baseline REV`` also runs (b) with the code of git revision REV (exported to a temporary
folder, same interpreter and packages), so before and after are printed by the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.policy.engine import PolicyEngine  # noqa: E402

TYPICAL = """\
apiVersion: kagent.dev/v1alpha2
kind: AgentHarness
metadata:
  name: claw-{i}
  namespace: team-a
  labels:
    app.kubernetes.io/part-of: agents
spec:
  backend: openclaw
  runtime: substrate
  description: Team assistant {i}
  modelConfigRef: default-model
  env:
  - name: LOG_LEVEL
    value: info
  - name: SEARCH_API_KEY
    valueFrom:
      secretKeyRef: {{name: search, key: api-key}}
  channels:
  - name: tg1
    type: telegram
    telegram:
      botToken:
        valueFrom: {{type: Secret, name: tg-token, key: token}}
      allowedUserIDs: ["123", "456"]
  - name: ops
    type: slack
    slack:
      botToken:
        valueFrom: {{type: Secret, name: slack, key: bot}}
      appToken:
        valueFrom: {{type: Secret, name: slack, key: app}}
      openclaw:
        channelAccess: allowlist
        allowlistChannels: ["C012345"]
  substrate:
    workerPoolRef: {{name: default-pool}}
    snapshotsConfig: {{location: gs://ate-snapshots/team-a/claw-{i}}}
    workloadImage: ghcr.io/kagent-dev/nemoclaw/sandbox-base@sha256:d52bee415dc4c0dba7164f9eabe727574c056d4f211781f20af249707883a3b4
    gatewayTokenSecretRef: {{name: claw-gateway}}
"""


def bench_verdict(engine: PolicyEngine, rounds: int = 5000) -> tuple[float, float]:
    obj = yaml.safe_load(TYPICAL.format(i=0))
    verdict = engine.admit(obj)
    assert verdict.allowed, verdict.violations
    for _ in range(200):
        engine.admit(obj)
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        engine.admit(obj)
        samples.append(time.perf_counter() - t)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99)] * 1e3


def bench_check(count: int, source: Path | None = None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "harnesses.yaml"
        path.write_text("---\n".join(TYPICAL.format(i=i) for i in range(count)))
        exe = Path(sys.executable).with_name("kagent-substrate")
        cmd = [str(exe), "check", "-o", "json", str(path)]
        if source is not None:  # another revision's code, same interpreter
            boot = f"import sys; sys.path.insert(0, {str(source)!r}); from shared.cli import main; sys.exit(main())"
            cmd = [sys.executable, "-c", boot, "check", "-o", "json", str(path)]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr[-500:]}")
        return elapsed, count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline", metavar="REV", help="also measure (b) at git revision REV")
    args = parser.parse_args()
    baseline = None
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.baseline], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            baseline = bench_check(args.count, Path(tmp))
    t = time.perf_counter()
    engine = PolicyEngine.from_dir()
    load_ms = (time.perf_counter() - t) * 1e3
    median, p99 = bench_verdict(engine)
    elapsed, rate = bench_check(args.count)
    print("policy engine benchmark")
    print(f"  engine build (load + compile CRDs): {load_ms:8.1f} ms")
    print(
        f"  (a) verdict, typical AgentHarness:  median {median:.3f} ms, p99 {p99:.3f} ms  (target <= 0.5 ms)"
    )
    print(
        f"  (b) check over {args.count} manifests:  {elapsed:.2f} s wall, {rate:,.0f} manifests/s"
        "  (process start, YAML parsing, JSON output included; target >= 5,000/s)"
    )
    if baseline is not None:
        print(
            f"      at {args.baseline}:  {baseline[0]:.2f} s wall, {baseline[1]:,.0f} manifests/s"
            f"  (speed-up x{rate / baseline[1]:.2f})"
        )


if __name__ == "__main__":
    main()
