#!/usr/bin/env python3
"""What an ACP agent step costs per `session/update`: `agentls run` of one
`acp` step whose fake agent (server/tests/fixtures/fake_acp_agent.py)
streams N message chunks, against the same step streaming none. Prints the
medians and the cost per update. See docs/benchmarks.md.

    python3 tests/bench/acp_flood.py [--bin PATH] [--updates N] [--repeat R]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(binary, scratch, updates):
    script = os.path.join(scratch, "script.json")
    with open(script, "w") as f:
        json.dump([{"flood": updates}, {"say": "done"}], f)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": scratch,
        "XDG_CONFIG_HOME": os.path.join(scratch, "config"),
        "AGENTLS_STATE_DIR": os.path.join(scratch, "state"),
    }
    # AGENTLS_LOG passes through, to measure what logging costs.
    if "AGENTLS_LOG" in os.environ:
        env["AGENTLS_LOG"] = os.environ["AGENTLS_LOG"]
    started = time.perf_counter()
    subprocess.run([binary, "run", "flood"], cwd=os.path.join(scratch, "ws"), env=env,
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, "target/release/agentls"))
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    with tempfile.TemporaryDirectory() as scratch:
        os.makedirs(os.path.join(scratch, "config/agentls/workflows"))
        os.makedirs(os.path.join(scratch, "ws"))
        agent = os.path.join(ROOT, "server/tests/fixtures/fake_acp_agent.py")
        with open(os.path.join(scratch, "config/agentls/config.toml"), "w") as f:
            f.write('[agents.fake]\ncommand = ["python3", "%s"]\nenv = { FAKE_ACP_SCRIPT = "%s" }\n'
                    % (agent, os.path.join(scratch, "script.json")))
        with open(os.path.join(scratch, "config/agentls/workflows/flood.toml"), "w") as f:
            f.write('[[steps]]\nid = "flood"\nagent = "flood"\nacp = "fake"\n')
        empty = statistics.median(run(args.bin, scratch, 0) for _ in range(args.repeat))
        full = statistics.median(run(args.bin, scratch, args.updates) for _ in range(args.repeat))
    print("step, no updates: %.1f ms" % (empty * 1000))
    print("step, %d updates: %.1f ms" % (args.updates, full * 1000))
    print("per update: %.2f us" % ((full - empty) / args.updates * 1e6))


main()
