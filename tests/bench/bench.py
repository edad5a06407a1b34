#!/usr/bin/env python3
"""agentls benchmarks. Each prints medians and ratios from one run; the
numbers and the command that produced them go into docs/benchmarks.md.

    python3 tests/bench/bench.py startup  [--bin target/release/agentls]
    python3 tests/bench/bench.py steps    [--bin ...] [--repeat 15]
    python3 tests/bench/bench.py sandbox  [--bin ...] [--repeat 21]
    python3 tests/bench/bench.py worktree [--bin ...] [--repeat 11] [--files 10000]
    python3 tests/bench/bench.py pty      [--bin ...] [--mib 200]
    python3 tests/bench/bench.py telemetry [--bin ...] [--repeat 21]
    python3 tests/bench/bench.py badinput [--bin ...] [--repeat 5] [--mib 40]
    python3 tests/bench/bench.py memory   [--bin ...] [--mib 300,3072]

Everything runs locally; nothing touches the network.
"""
import argparse
import http.server
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream):
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        byte = stream.read(1)
        if not byte:
            raise EOFError("server closed stdout")
        header += byte
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    return json.loads(stream.read(length))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hermetic_env(tmp):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.path.join(tmp, "home"),
        "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
        "AGENTLS_STATE_DIR": os.path.join(tmp, "state"),
        "AGENTLS_LOG": "warn",
    }
    for d in ("home", "config"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    return env


def startup(args):
    """Spawn -> initialize response, and resident memory after initialize
    and after opening 200 documents of 20 KB."""
    times, rss_init, rss_docs = [], [], []
    doc = ("fn main() { println!(\"hello\"); }\n" * 700)[:20 * 1024]
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ws = os.path.join(tmp, "ws")
            os.makedirs(ws)
            start = time.perf_counter()
            proc = subprocess.Popen([args.bin], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=hermetic_env(tmp))
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "capabilities": {}, "workspaceFolders": [{"uri": "file://" + ws, "name": "ws"}]}}))
            proc.stdin.flush()
            while read_frame(proc.stdout).get("id") != 1:
                pass
            times.append((time.perf_counter() - start) * 1000)
            proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
            proc.stdin.flush()
            rss_init.append(rss_kib(proc.pid))
            for i in range(200):
                proc.stdin.write(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                    "textDocument": {"uri": f"file://{ws}/f{i}.rs", "languageId": "rust", "version": 1, "text": doc}}}))
            # A request after the notifications: answered once all are applied.
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
                "command": "agent.document", "arguments": [{"uri": f"file://{ws}/f199.rs"}]}}))
            proc.stdin.flush()
            while read_frame(proc.stdout).get("id") != 2:
                pass
            rss_docs.append(rss_kib(proc.pid))
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
            proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
            proc.stdin.flush()
            proc.wait(timeout=5)
    print(f"spawn -> initialize response: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, n={len(times)})")
    print(f"RSS after initialize: median {statistics.median(rss_init) / 1024:.1f} MiB")
    print(f"RSS after 200 x 20 KB documents: median {statistics.median(rss_docs) / 1024:.1f} MiB")


def steps(args):
    """A workflow of 50 `true` steps against a shell script running `true`
    50 times; the difference per step is agentls's overhead (PTY, template,
    two SQLite commits with synchronous=FULL, events)."""
    n = 50
    with tempfile.TemporaryDirectory() as tmp:
        env = hermetic_env(tmp)
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows"))
        os.makedirs(ws)
        with open(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows", "fifty.toml"), "w") as f:
            for i in range(n):
                f.write(f'[[steps]]\nid = "s{i}"\nrun = "true"\n\n')
        script = os.path.join(tmp, "fifty.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n" + "/bin/sh -c true\n" * n)
        os.chmod(script, 0o755)
        agentls, shell = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run([args.bin, "run", "fifty", "--json"], cwd=ws, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            agentls.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([script], cwd=ws, env=env, check=True)
            shell.append(time.perf_counter() - start)
    a, s = statistics.median(agentls), statistics.median(shell)
    print(f"agentls run (50 `true` steps): median {a * 1000:.1f} ms")
    print(f"shell script (50 x sh -c true): median {s * 1000:.1f} ms")
    print(f"ratio {a / s:.2f}; overhead per step {(a - s) / n * 1000:.2f} ms (n={args.repeat})")


def sandbox(args):
    """The `steps` workflow (50 `true` steps) sandboxed (`[sandbox] default =
    "writes"`: a Landlock ruleset, a TMPDIR per command) against
    `[sandbox] default = "off"`, interleaved; the difference per step is the
    cost of the sandbox. The workspace looks like a repository: a `.git` and
    20 other top-level entries, each one rule of the ruleset."""
    n = 50
    with tempfile.TemporaryDirectory() as tmp:
        env = hermetic_env(tmp)
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(ws, ".git", "hooks"))
        for i in range(20):
            os.makedirs(os.path.join(ws, f"dir{i}"))
        unboxed = dict(env, XDG_CONFIG_HOME=os.path.join(tmp, "config-off"))
        for config in [env["XDG_CONFIG_HOME"], unboxed["XDG_CONFIG_HOME"]]:
            os.makedirs(os.path.join(config, "agentls", "workflows"))
            with open(os.path.join(config, "agentls", "workflows", "fifty.toml"), "w") as f:
                for i in range(n):
                    f.write(f'[[steps]]\nid = "s{i}"\nrun = "true"\n\n')
        with open(os.path.join(unboxed["XDG_CONFIG_HOME"], "agentls", "config.toml"), "w") as f:
            f.write('[sandbox]\ndefault = "off"\n')
        with open(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "config.toml"), "w") as f:
            f.write('[sandbox]\ndefault = "writes"\n')
        off, on = [], []
        for i in range(args.repeat):
            order = [(off, unboxed), (on, env)] if i % 2 == 0 else [(on, env), (off, unboxed)]
            for samples, run_env in order:
                start = time.perf_counter()
                subprocess.run([args.bin, "run", "fifty", "--json"], cwd=ws, env=run_env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                samples.append(time.perf_counter() - start)
    a, b = statistics.median(off), statistics.median(on)
    print(f"agentls run (50 `true` steps), unsandboxed: median {a * 1000:.1f} ms")
    print(f"same, sandboxed (Landlock, TMPDIR per command): median {b * 1000:.1f} ms")
    print(f"per step {(b - a) / n * 1000:.3f} ms (goal < 1 ms; n={args.repeat})")


def worktree(args):
    """Setting up and tearing down a run's worktree on a repository of
    `--files` files (100 per directory, 1 KiB each, committed, then 10
    modified and 10 untracked so the snapshot commit is made): a one-step
    `true` workflow with `isolation = "worktree"` against the same with
    `isolation = "none"` (the difference is the set-up: snapshot, `git
    worktree add`), then `agentls diff` and `agentls discard` (the
    tear-down: `git worktree remove`, branch, prune). Beside them, what
    `git worktree add --detach` and `git worktree remove --force` alone
    take on the same repository. Interleaved."""
    def git(*cmd, cwd):
        subprocess.run(["git", *cmd], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       env=dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b",
                                GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b"))

    def timed(cmd, cwd, env):
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        return time.perf_counter() - start, out.stdout

    with tempfile.TemporaryDirectory() as tmp:
        env = hermetic_env(tmp)
        ws = os.path.join(tmp, "ws")
        line = "x" * 1023 + "\n"
        for i in range(args.files):
            d = os.path.join(ws, f"d{i // 100:03}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i % 100:02}.txt"), "w") as f:
                f.write(line)
        git("init", "-q", "-b", "main", cwd=ws)
        git("add", "-A", cwd=ws)
        git("commit", "-q", "-m", "files", cwd=ws)
        for i in range(10):
            with open(os.path.join(ws, "d000", f"f{i:02}.txt"), "a") as f:
                f.write("changed\n")
            with open(os.path.join(ws, "d001", f"new{i}.txt"), "w") as f:
                f.write("new\n")
        flows = os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows")
        os.makedirs(flows)
        for name, isolation in [("iso", "worktree"), ("plain", "none")]:
            with open(os.path.join(flows, f"{name}.toml"), "w") as f:
                f.write(f'isolation = "{isolation}"\n[[steps]]\nid = "a"\nrun = "true"\n')
        plain, iso, diff, discard, add, remove = [], [], [], [], [], []
        for i in range(args.repeat):
            order = [0, 1] if i % 2 == 0 else [1, 0]
            for which in order:
                if which == 0:
                    plain.append(timed([args.bin, "run", "plain", "--json"], ws, env)[0])
                    continue
                t, out = timed([args.bin, "run", "iso", "--json"], ws, env)
                iso.append(t)
                run = json.loads(out)["id"]
                diff.append(timed([args.bin, "diff", run], ws, env)[0])
                discard.append(timed([args.bin, "discard", run], ws, env)[0])
            dest = os.path.join(tmp, "plain-worktree")
            start = time.perf_counter()
            git("worktree", "add", "-q", "--detach", dest, "HEAD", cwd=ws)
            add.append(time.perf_counter() - start)
            start = time.perf_counter()
            git("worktree", "remove", "--force", dest, cwd=ws)
            remove.append(time.perf_counter() - start)
    m = {k: statistics.median(v) * 1000 for k, v in
         dict(plain=plain, iso=iso, diff=diff, discard=discard, add=add, remove=remove).items()}
    print(f"repository: {args.files} files of 1 KiB, 10 modified, 10 untracked")
    print(f"agentls run, 1 `true` step, isolation none: median {m['plain']:.1f} ms")
    print(f"same, isolation worktree: median {m['iso']:.1f} ms (set-up {m['iso'] - m['plain']:.1f} ms)")
    print(f"agentls diff (no change): median {m['diff']:.1f} ms")
    print(f"agentls discard: median {m['discard']:.1f} ms")
    print(f"set-up + tear-down: {m['iso'] - m['plain'] + m['discard']:.1f} ms (goal < 1000 ms)")
    print(f"git worktree add --detach alone: median {m['add']:.1f} ms; "
          f"git worktree remove --force alone: median {m['remove']:.1f} ms (n={args.repeat})")


class OtlpReceiver(http.server.BaseHTTPRequestHandler):
    """A local OTLP/HTTP receiver: reads each export, counts it, answers
    200 with an empty protobuf message (what a collector answers)."""
    protocol_version = "HTTP/1.1"
    counts = {}
    bytes_received = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        OtlpReceiver.counts[self.path] = OtlpReceiver.counts.get(self.path, 0) + 1
        OtlpReceiver.bytes_received += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


def telemetry(args):
    """The `steps` workflow (50 `true` steps) with telemetry exporting to a
    local OTLP/HTTP receiver (default http/protobuf; every span and metric,
    flushed before the CLI exits) against telemetry off, interleaved; the
    ratio of the medians is the cost of telemetry."""
    n = 50
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OtlpReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        env = hermetic_env(tmp)
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows"))
        os.makedirs(ws)
        with open(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows", "fifty.toml"), "w") as f:
            for i in range(n):
                f.write(f'[[steps]]\nid = "s{i}"\nrun = "true"\n\n')
        exported = dict(env, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        off, on = [], []
        for i in range(args.repeat):
            # Alternate which goes first, so drift in load favours neither.
            order = [(off, env), (on, exported)] if i % 2 == 0 else [(on, exported), (off, env)]
            for samples, run_env in order:
                start = time.perf_counter()
                subprocess.run([args.bin, "run", "fifty", "--json"], cwd=ws, env=run_env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                samples.append(time.perf_counter() - start)
    server.shutdown()
    a, b = statistics.median(off), statistics.median(on)
    # Each pair ran back to back: the median of the pairs' ratios is less
    # sensitive to load drifting during the benchmark.
    paired = statistics.median(y / x for x, y in zip(off, on))
    counts = OtlpReceiver.counts
    print(f"agentls run (50 `true` steps), telemetry off: median {a * 1000:.1f} ms")
    print(f"same, exporting to a local OTLP/HTTP receiver: median {b * 1000:.1f} ms")
    print(f"ratio {b / a:.3f} (goal < 1.05), median of paired ratios {paired:.3f}; "
          f"per step {(b - a) / n * 1000:.3f} ms (n={args.repeat})")
    print(f"receiver got {counts.get('/v1/traces', 0)} trace and {counts.get('/v1/metrics', 0)} "
          f"metric exports, {OtlpReceiver.bytes_received / 1024:.0f} KiB")


def pty(args):
    """A step printing N MiB through the PTY against `cat` of the same data
    to /dev/null."""
    with tempfile.TemporaryDirectory() as tmp:
        env = hermetic_env(tmp)
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows"))
        os.makedirs(ws)
        data = os.path.join(tmp, "data")
        line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\n"
        with open(data, "wb") as f:
            chunk = line * (1024 * 1024 // len(line) + 1)
            for _ in range(args.mib):
                f.write(chunk[:1024 * 1024])
        with open(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows", "big.toml"), "w") as f:
            f.write(f'[[steps]]\nid = "print"\nrun = "cat {data}"\n')
        through, pipes, kernel, plain = [], [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run([args.bin, "run", "big", "--json"], cwd=ws, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            through.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([args.bin, "run", "big", "--json"], cwd=ws, env=dict(env, AGENTLS_PTY="off"),
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pipes.append(time.perf_counter() - start)
            # The kernel's own PTY path, for reference: util-linux `script`.
            start = time.perf_counter()
            subprocess.run(["script", "-qc", f"cat {data}", "/dev/null"], check=True, stdout=subprocess.DEVNULL)
            kernel.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(f"cat {data} > /dev/null", shell=True, check=True)
            plain.append(time.perf_counter() - start)
    a, p, k, c = (statistics.median(x) for x in (through, pipes, kernel, plain))
    print(f"agentls step printing {args.mib} MiB through the PTY: median {a:.2f} s ({args.mib / a:.0f} MiB/s)")
    print(f"agentls, same step with AGENTLS_PTY=off (pipes): median {p:.2f} s ({args.mib / p:.0f} MiB/s)")
    print(f"script -qc 'cat FILE' /dev/null (the kernel PTY alone): median {k:.2f} s")
    print(f"cat of the same file to /dev/null: median {c:.3f} s")
    print(f"ratios to cat: PTY {a / c:.1f}, pipes {p / c:.1f}; PTY to script {a / k:.2f} (n={args.repeat})")


def badinput_once(args, kind):
    """Sends one stretch of bad input of `args.mib` MiB, then a request.
    Returns seconds to the first -32700, seconds from the last byte sent to
    the request's answer (None: never), and seconds the server took to read
    everything (None: it stopped reading)."""
    mib = args.mib << 20
    if kind == "endless header":
        bad = b"Content-Length: 5\r\nX-Junk: " + b"a" * mib
    elif kind == "frame over 64 MiB":
        bad = b"Content-Length: %d\r\n\r\n" % (70 << 20) + b"x" * (70 << 20)
    else:  # garbage
        bad = b"not a header at all " * (mib // 20)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([args.bin], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=hermetic_env(tmp))
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": {"capabilities": {}}}))
        proc.stdin.flush()
        read_frame(proc.stdout)
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        sent = {}

        def send():
            start = time.perf_counter()
            sent["start"] = start
            view = memoryview(bad)
            for at in range(0, len(bad), 1 << 16):
                proc.stdin.write(view[at:at + (1 << 16)])
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            proc.stdin.flush()
            sent["end"] = time.perf_counter()

        messages = queue.Queue()

        def read():
            try:
                while True:
                    msg = read_frame(proc.stdout)
                    messages.put((time.perf_counter(), msg))
            except (EOFError, ValueError):
                pass

        writer = threading.Thread(target=send)
        writer.start()
        threading.Thread(target=read, daemon=True).start()
        first_error = answer = None
        while True:
            try:
                # An answer that has not come 60 s after the last byte never will.
                now, msg = messages.get(timeout=60)
            except queue.Empty:
                # A server that has not read everything in 5 min never will.
                if "end" in sent or time.perf_counter() - sent["start"] > 300:
                    break
                continue
            if msg.get("id") is None and "error" in msg and first_error is None:
                first_error = now - sent["start"]
            if msg.get("id") == 2:
                if "error" not in msg:
                    answer = now
                break
        proc.kill()
        writer.join()
        proc.wait()
        took = sent["end"] - sent["start"] if "end" in sent else None
        return first_error, (answer - sent["end"]) if answer else None, took


def badinput(args):
    for kind in ("endless header", "garbage", "frame over 64 MiB"):
        runs = [badinput_once(args, kind) for _ in range(args.repeat)]
        errors = [e for e, _, _ in runs if e is not None]
        answers = [a for _, a, _ in runs if a is not None]
        reads = [t for _, _, t in runs if t is not None]
        size = "70 MiB" if kind == "frame over 64 MiB" else f"{args.mib} MiB"
        first = f"{statistics.median(errors) * 1000:.1f} ms" if errors else "never"
        last = f"{statistics.median(answers) * 1000:.1f} ms" if answers else "never"
        read = f"{statistics.median(reads):.2f} s" if reads else "never"
        print(f"{kind} ({size}): first -32700 after {first}; all read in {read}; `shutdown` "
              f"sent after it answered {last} after its last byte "
              f"({len(answers)}/{args.repeat} answered)")
def peak_rss_kib(proc):
    """Waits for `proc` and returns its peak resident memory (KiB)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss


def flood_workflow(tmp, mib):
    """A user workflow `flood` whose one step prints `mib` MiB of lines."""
    env = hermetic_env(tmp)
    ws = os.path.join(tmp, "ws")
    os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows"))
    os.makedirs(ws)
    with open(os.path.join(env["XDG_CONFIG_HOME"], "agentls", "workflows", "flood.toml"), "w") as f:
        f.write('[[steps]]\nid = "flood"\n'
                f'run = "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c {mib * 1024 * 1024}"\n')
    return env, ws


def memory_run(args, mib, pipes):
    """Peak RSS of `agentls run flood`, its live output read by a terminal-less
    reader (plain lines to /dev/null)."""
    with tempfile.TemporaryDirectory() as tmp:
        env, ws = flood_workflow(tmp, mib)
        if pipes:
            env["AGENTLS_PTY"] = "off"
        start = time.perf_counter()
        proc = subprocess.Popen([args.bin, "run", "flood"], cwd=ws, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = peak_rss_kib(proc)
        if proc.returncode != 0:
            sys.exit(f"agentls run exited with {proc.returncode}")
        return peak, time.perf_counter() - start


def memory_serve(args, mib, pipes):
    """Peak RSS of `agentls serve` (stdio LSP) running `flood` once for a
    client that opted in to run events and reads every notification."""
    with tempfile.TemporaryDirectory() as tmp:
        env, ws = flood_workflow(tmp, mib)
        if pipes:
            env["AGENTLS_PTY"] = "off"
        doc = os.path.join(ws, "notes.txt")
        with open(doc, "w") as f:
            f.write("notes\n")
        start = time.perf_counter()
        proc = subprocess.Popen([args.bin], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env)

        def send(obj):
            proc.stdin.write(frame(obj))
            proc.stdin.flush()

        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "capabilities": {"window": {"workDoneProgress": True}},
            "initializationOptions": {"agentls": {"runEvents": True}},
            "workspaceFolders": [{"uri": "file://" + ws, "name": "ws"}]}})
        run_id, live = None, 0
        while True:
            msg = read_frame(proc.stdout)
            if "method" in msg and "id" in msg:
                # A request from the server (progress tokens...): accept it.
                send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif msg.get("id") == 1:
                send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
                send({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
                    "command": "agent.run", "arguments": [{"workflow": "flood", "uri": "file://" + doc}]}})
            elif msg.get("id") == 2:
                if "error" in msg:
                    sys.exit(f"agent.run failed: {msg['error']}")
                run_id = msg["result"]["runId"]
            elif msg.get("method") == "agent/output":
                live += len(json.dumps(msg["params"]))
            elif (msg.get("method") == "agent/state" and run_id
                  and msg["params"].get("runId") == run_id
                  and msg["params"].get("status") in ("completed", "failed", "cancelled")):
                if msg["params"]["status"] != "completed":
                    sys.exit(f"run {msg['params']['status']}")
                break
        elapsed = time.perf_counter() - start
        send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        send({"jsonrpc": "2.0", "method": "exit"})
        proc.stdin.close()
        # Drain whatever is still coming so the server never blocks on us.
        while proc.stdout.read(65536):
            pass
        return peak_rss_kib(proc), elapsed


def memory(args):
    """Peak resident memory (VmHWM, from wait4) of `agentls run` and of the
    server for one step printing N MiB, through the PTY and through pipes."""
    sizes = [int(x) for x in args.mib_list.split(",")]
    print("| output | path | `agentls run` peak RSS | time | server peak RSS | time |")
    print("|---|---|---|---|---|---|")
    for mib in sizes:
        for pipes in (False, True):
            run_peaks, run_times, serve_peaks, serve_times = [], [], [], []
            for _ in range(args.repeat):
                peak, took = memory_run(args, mib, pipes)
                run_peaks.append(peak)
                run_times.append(took)
                peak, took = memory_serve(args, mib, pipes)
                serve_peaks.append(peak)
                serve_times.append(took)
            size = f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"
            print(f"| {size} | {'pipes (AGENTLS_PTY=off)' if pipes else 'PTY'} "
                  f"| {statistics.median(run_peaks) / 1024:.1f} MiB (max {max(run_peaks) / 1024:.1f}) "
                  f"| {statistics.median(run_times):.1f} s "
                  f"| {statistics.median(serve_peaks) / 1024:.1f} MiB (max {max(serve_peaks) / 1024:.1f}) "
                  f"| {statistics.median(serve_times):.1f} s |", flush=True)
    print(f"(n={args.repeat} per cell)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["startup", "steps", "sandbox", "worktree", "pty",
                                         "telemetry", "badinput", "memory"])
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "../../target/release/agentls"))
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--files", type=int, default=10000, help="worktree: files in the repository")
    parser.add_argument("--mib-list", default="300,3072", help="memory: output sizes in MiB")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} not found: cargo build --release -p agentls")
    args.repeat = args.repeat or {"startup": 20, "steps": 15, "sandbox": 21, "worktree": 11,
                                 "pty": 3,
                                 "telemetry": 21,
                                 "badinput": 5, "memory": 3}[args.what]
    {"startup": startup, "steps": steps, "sandbox": sandbox, "worktree": worktree, "pty": pty,
     "telemetry": telemetry,
     "badinput": badinput, "memory": memory}[args.what](args)


if __name__ == "__main__":
    main()
