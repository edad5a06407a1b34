#!/usr/bin/env python3
"""The real Helix against agentls, headless in tmux.

Runs the scenario of docs/editors.md (Helix section) in a fresh HOME: a code
action picked from `space a` edits the selection, `agent.runs` opens the run
list, the `demo` transcript opens when the run ends, and Helix's log has no
agentls line at error level.

Helix is taken from $HELIX_BIN, else `hx` on PATH; without one the script
says so and exits 0 (skipped). HELIX_RUNTIME is passed on when set. agentls
is $AGENTLS_BIN, else target/debug/agentls. Needs tmux.

Screen captures are written to target/helix-e2e/<time>/ (ignored by git)
and their paths printed.

Run: python3 tests/helix/e2e.py
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = 'fn main() {\n    let greeting = "hello";\n}\n'

# Edits only its own selection, so a workspace workflow needs no trust. Named
# to sort first: the first entry of Helix's code-action menu is preselected.
CAPS = """title = "Upper-case the selection"
[applies]
languages = ["rust"]
selection = true

[[steps]]
id = "caps"
edit = { selection = "{{ selection | upper }}" }
"""

# Long enough for Helix to settle, short enough for a test.
KEY_PAUSE = 0.15
WAIT = 20.0


class Skip(Exception):
    pass


def find_helix() -> str:
    helix = os.environ.get("HELIX_BIN") or shutil.which("hx")
    if not helix or not os.access(helix, os.X_OK):
        raise Skip(
            "no Helix: set HELIX_BIN to an `hx` binary (Helix 25.07.1 builds from "
            "source, see docs/editors.md) or put `hx` on PATH"
        )
    return helix


def find_agentls() -> str:
    agentls = os.environ.get("AGENTLS_BIN") or str(ROOT / "target/debug/agentls")
    if not os.access(agentls, os.X_OK):
        sys.exit(f"agentls not found at {agentls}: build it or set AGENTLS_BIN")
    return agentls


class Tmux:
    """One tmux server (own socket) with one session running Helix."""

    def __init__(self, socket: pathlib.Path, artifacts: pathlib.Path):
        self.socket = socket
        self.artifacts = artifacts
        self.shots = 0

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=check,
        )
        return out.stdout

    def start(self, command: list[str], cwd: pathlib.Path, env: dict) -> None:
        exports = " ".join(f"{k}={shell_quote(v)}" for k, v in env.items())
        line = f"cd {shell_quote(str(cwd))} && env {exports} " + " ".join(
            shell_quote(c) for c in command
        )
        self.run("new-session", "-d", "-s", "hx", "-x", "160", "-y", "45", line)

    def keys(self, *keys: str) -> None:
        """Sends keys one at a time with a short pause: Escape followed at
        once by `:` would read as Alt-`:`."""
        for key in keys:
            self.run("send-keys", "-t", "hx", key)
            time.sleep(KEY_PAUSE)

    def text(self, text: str) -> None:
        self.run("send-keys", "-t", "hx", "-l", text)
        time.sleep(KEY_PAUSE)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "hx", check=False)

    def wait_for(self, pattern: str, what: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                path = self.save("timeout-" + re.sub(r"\W+", "-", what), screen)
                raise AssertionError(f"timed out waiting for {what} ({pattern!r}); screen: {path}")
            time.sleep(0.1)

    def save(self, name: str, screen: str | None = None) -> pathlib.Path:
        self.shots += 1
        path = self.artifacts / f"{self.shots:02d}-{name}.txt"
        path.write_text(screen if screen is not None else self.screen())
        print(f"  screen: {path}")
        return path

    def kill(self) -> None:
        self.run("kill-server", check=False)


def shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def languages_toml(agentls: str) -> str:
    """editors/helix/languages.toml with the binary's path; languages whose
    usual servers are not installed here get agentls alone."""
    text = (ROOT / "editors/helix/languages.toml").read_text()
    text = text.replace('command = "agentls"', f"command = {json_string(agentls)}")
    if not works("rust-analyzer"):
        text = text.replace('["rust-analyzer", "agentls"]', '["agentls"]')
    return text


def works(command: str) -> bool:
    """Whether `command --version` runs (a rustup proxy without the
    component is on PATH but fails)."""
    try:
        return subprocess.run([command, "--version"], capture_output=True).returncode == 0
    except OSError:
        return False


def json_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scenario(helix: str, agentls: str, tmp: pathlib.Path, artifacts: pathlib.Path) -> list[str]:
    home = tmp / "home"
    config = tmp / "config"
    ws = tmp / "ws"
    for d in (home, config / "helix", tmp / "cache", tmp / "state", ws / ".git"):
        d.mkdir(parents=True, exist_ok=True)
    (config / "helix/languages.toml").write_text(languages_toml(agentls))
    (config / "helix/config.toml").write_text((ROOT / "editors/helix/config.toml").read_text())
    (ws / "src").mkdir()
    (ws / "src/main.rs").write_text(SOURCE)
    (ws / ".agentls/workflows").mkdir(parents=True)
    (ws / ".agentls/workflows/caps.toml").write_text(CAPS)
    log = tmp / "helix.log"
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_STATE_HOME": str(tmp / "xdg-state"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "AGENTLS_STATE_DIR": str(tmp / "state"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    if os.environ.get("HELIX_RUNTIME"):
        env["HELIX_RUNTIME"] = os.environ["HELIX_RUNTIME"]

    tmux = Tmux(tmp / "tmux.sock", artifacts)
    tmux.start([helix, "-v", "--log", str(log), "src/main.rs"], ws, env)
    problems = []
    try:
        tmux.wait_for(r"let greeting", "the file")
        # `space a` on "hello": the menu lists agentls's workflows once the
        # server is up (Helix answers "no code actions" before that).
        tmux.keys("/")
        tmux.text('"hello"')
        tmux.keys("Enter")
        deadline = time.monotonic() + WAIT
        while True:
            tmux.keys("Space", "a")
            screen = tmux.screen()
            if "agentls: Upper-case the selection" in screen:
                break
            if time.monotonic() > deadline:
                tmux.save("no-code-actions", screen)
                raise AssertionError("the code-action menu never listed agentls's workflows")
            tmux.keys("Escape")
            time.sleep(0.5)
        tmux.save("code-action-menu", screen)
        tmux.keys("Enter")
        screen = tmux.wait_for(r'"HELLO"', "the code action's edit")
        screen = tmux.wait_for(r"`caps` completed", "the completed message")
        tmux.save("code-action-applied", screen)

        # `agent.runs` opens the run list.
        tmux.keys("Escape", ":")
        tmux.text("lsp-workspace-command agent.runs")
        tmux.keys("Enter")
        screen = tmux.wait_for(r"agentls: runs, newest first", "the run list")
        if not re.search(r"\w{12}\s+completed\s+1/1 .* caps", screen):
            problems.append("the run list does not show the caps run as completed")
        tmux.save("agent-runs", screen)
        # Back to the Rust file (`ga`, the last accessed file): commands go
        # to the language servers of the document in view.
        tmux.keys("Escape", "g", "a")
        tmux.wait_for(r'let greeting = "HELLO"', "the Rust file again")

        # `demo`: its transcript opens when it ends.
        tmux.keys("Escape", ":")
        tmux.text('lsp-workspace-command agent.run {"workflow":"demo"}')
        tmux.keys("Enter")
        screen = tmux.wait_for(r"## step `system`", "the demo transcript")
        tmux.save("demo-transcript", screen)

        tmux.keys("Escape", ":")
        tmux.text("quit-all!")
        tmux.keys("Enter")
        deadline = time.monotonic() + WAIT
        while tmux.run("has-session", "-t", "hx", check=False) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        tmux.kill()

    text = log.read_text() if log.exists() else ""
    errors, notes = agentls_errors(text)
    for note in notes:
        print(f"  note: {note}")
    saved = artifacts / "helix.log"
    saved.write_text(text)
    print(f"  helix log: {saved} ({len(text.splitlines())} lines)")
    if not text:
        problems.append("Helix wrote no log")
    for line in errors:
        problems.append(f"agentls line at error level in Helix's log: {line}")
    problems.extend(order_problems(text))
    return problems


def agentls_errors(log: str) -> tuple[list[str], list[str]]:
    """agentls lines at error level in Helix's log. Once Helix has sent
    `exit`, the server's stderr closing is logged by Helix itself as
    `agentls err: <- StreamClosed` at error level (for every language
    server, when Helix is still running to see it): a note, not a failure."""
    errors, notes, exited = [], [], False
    for line in log.splitlines():
        if 'agentls -> {"jsonrpc":"2.0","method":"exit"' in line:
            exited = True
        if "[ERROR]" not in line or "agentls" not in line:
            continue
        if exited and line.endswith("agentls err: <- StreamClosed"):
            notes.append(f"after exit, Helix logged the server's stderr closing: {line}")
        else:
            errors.append(line)
    return errors, notes


def order_problems(log: str) -> list[str]:
    """From Helix's log (`-v` logs every message): no `$/progress` of a run
    after the `window/showMessage` that says how it ended."""
    problems, told = [], {}
    for line in log.splitlines():
        if "agentls <- " not in line:
            continue
        try:
            message = json.loads(line.split("agentls <- ", 1)[1])
        except ValueError:
            continue
        params = message.get("params") or {}
        if message.get("method") == "window/showMessage":
            for run in re.findall(r"\(run (\w+)", params.get("message", "")):
                told[run] = params["message"]
        elif message.get("method") == "$/progress":
            run = str(params.get("token", "")).split("/")[1:2]
            if run and run[0] in told:
                problems.append(
                    f"$/progress {params.get('value')} after the message {told[run[0]]!r}"
                )
    return problems


def main() -> int:
    try:
        helix = find_helix()
    except Skip as skip:
        print(f"helix e2e: SKIPPED: {skip}")
        return 0
    if not shutil.which("tmux"):
        print("helix e2e: tmux is missing (scripts/test-editors.sh installs it)", file=sys.stderr)
        return 1
    agentls = find_agentls()
    version = subprocess.run([helix, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"helix e2e: {version} ({helix}) against {agentls}")
    artifacts = ROOT / "target/helix-e2e" / time.strftime("%Y%m%d-%H%M%S")
    artifacts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="agentls-helix-") as tmp:
        try:
            problems = scenario(helix, agentls, pathlib.Path(tmp), artifacts)
        except AssertionError as failure:
            problems = [str(failure)]
            log = pathlib.Path(tmp) / "helix.log"
            if log.exists():
                (artifacts / "helix.log").write_text(log.read_text())
                print(f"  helix log: {artifacts / 'helix.log'}")
    took = time.monotonic() - started
    if problems:
        for problem in problems:
            print(f"helix e2e: FAIL: {problem}")
        return 1
    print(f"helix e2e: passed in {took:.1f}s; artifacts in {artifacts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
