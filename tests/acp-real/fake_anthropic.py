#!/usr/bin/env python3
"""A fake Anthropic Messages API on 127.0.0.1, for scripts/test-acp-real.sh.

It plays one scripted agent turn to whatever Claude Code sends, deciding
from the request alone (no state, so the CLI's side requests and retries
cannot put it out of step):

1. a request offering tools, with no tool_result yet: a tool_use of the
   offered read tool for WORKSPACE/src/lib.rs;
2. after the read's tool_result: a tool_use of the offered edit tool
   changing `41` to `42` in that file;
3. after the edit's tool_result: the text "Done." with stop_reason
   end_turn.

A request offering no tools (a title, a quota probe, ...) gets a short text.
`"stream": true` is answered with the documented SSE events
(message_start, content_block_start, content_block_delta with text_delta or
input_json_delta, content_block_stop, message_delta, message_stop); other
requests with a JSON message. POST .../count_tokens gets an estimate; any
other path a JSON 404 in the API's error shape. It is also the agent's
HTTPS_PROXY: a CONNECT (a fetch from another host) is refused with 403. Every request is logged as
one JSON line to LOG (method, path, model, stream, the names of the tools
offered, the last message, and the reply given).

    fake_anthropic.py --workspace DIR --log FILE --port-file FILE

It listens on a free port of 127.0.0.1 and writes the port to --port-file
once it is listening.
"""

import argparse
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

READ_NAMES = ("mcp__acp__Read", "Read")
EDIT_NAMES = ("mcp__acp__Edit", "Edit")
# Claude Code's own Write tool, for --escape: it writes on the disk itself.
WRITE_NAME = "Write"
TARGET = "src/lib.rs"

log_lock = threading.Lock()


def tool_names(body):
    return [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]


def pick(names, wanted):
    for name in wanted:
        if name in names:
            return name
    return None


def tool_results(messages):
    """The tool_result blocks of the conversation, by tool_use id."""
    results = {}
    for message in messages:
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                results[block.get("tool_use_id")] = block
    return results


def tool_uses(messages):
    """The assistant's tool_use blocks of the conversation, in order."""
    uses = []
    for message in messages:
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                uses.append(block)
    return uses


def result_text(block):
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"
        )
    return ""


def plan(body, workspace, escape=None):
    """The content blocks and stop reason of the answer to this request.
    `escape`: after the edit, a Write of that path (outside the workspace)
    with Claude Code's own tool, which only a sandbox can stop."""
    names = tool_names(body)
    read = pick(names, READ_NAMES)
    edit = pick(names, EDIT_NAMES)
    if not names or not read or not edit:
        return [{"type": "text", "text": "Fix the answer in src/lib.rs"}], "end_turn"
    messages = body.get("messages") or []
    uses = tool_uses(messages)
    results = tool_results(messages)
    path = os.path.join(workspace, TARGET)
    done_reads = [u for u in uses if u.get("name") == read and u.get("id") in results]
    done_edits = [u for u in uses if u.get("name") == edit and u.get("id") in results]
    escapes = [u for u in uses if u.get("name") == WRITE_NAME and u.get("id") in results]
    if done_edits and escape and WRITE_NAME in names and not escapes:
        return [
            {"type": "text", "text": "Writing outside the workspace."},
            {
                "type": "tool_use",
                "id": "toolu_escape_" + uuid.uuid4().hex[:12],
                "name": WRITE_NAME,
                "input": {"file_path": escape, "content": "escaped\n"},
            },
        ], "tool_use"
    if done_edits:
        return [{"type": "text", "text": "Done."}], "end_turn"
    if done_reads:
        text = result_text(results[done_reads[-1]["id"]])
        if "41" not in text:
            return [{"type": "text", "text": "The read did not show 41: " + text[:200]}], "end_turn"
        return [
            {"type": "text", "text": "Changing 41 to 42."},
            {
                "type": "tool_use",
                "id": "toolu_edit_" + uuid.uuid4().hex[:12],
                "name": edit,
                "input": {"file_path": path, "old_string": "41", "new_string": "42"},
            },
        ], "tool_use"
    return [
        {"type": "text", "text": "Reading src/lib.rs."},
        {
            "type": "tool_use",
            "id": "toolu_read_" + uuid.uuid4().hex[:12],
            "name": read,
            "input": {"file_path": path},
        },
    ], "tool_use"


def last_message(body):
    messages = body.get("messages") or []
    if not messages:
        return None
    message = messages[-1]
    content = message.get("content")
    if isinstance(content, list):
        brief = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text":
                brief.append({"type": "text", "text": block.get("text", "")[:2000]})
            elif kind == "tool_result":
                brief.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": block.get("tool_use_id"),
                        "is_error": block.get("is_error", False),
                        "text": result_text(block)[:2000],
                    }
                )
            else:
                brief.append({"type": kind})
        content = brief
    elif isinstance(content, str):
        content = content[:2000]
    return {"role": message.get("role"), "content": content}


def usage(body):
    size = len(json.dumps(body.get("messages") or []))
    return {
        "input_tokens": max(1, size // 4),
        "output_tokens": 12,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"

    def log_message(self, fmt, *args):  # the JSON log is the log
        pass

    def record(self, entry):
        with log_lock, open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {"_unparsed": raw[:2000].decode("utf-8", "replace")}

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_fake_" + uuid.uuid4().hex[:12])
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, body):
        self.record(
            {"method": self.command, "path": self.path, "reply": "404", "body_keys": sorted(body)}
        )
        self.send_json(
            404,
            {"type": "error", "error": {"type": "not_found_error", "message": "fake: " + self.path}},
        )

    def do_CONNECT(self):
        # The agent's HTTPS_PROXY is this server: whatever it would fetch
        # from elsewhere (Claude Code's plugin lists on GitHub) ends here.
        self.record({"method": "CONNECT", "path": self.path, "reply": "403"})
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_GET(self):
        self.not_found({})

    def do_HEAD(self):
        self.record({"method": "HEAD", "path": self.path, "reply": "404"})
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        if path.endswith("/v1/messages/count_tokens"):
            count = usage(body)["input_tokens"]
            self.record({"method": "POST", "path": self.path, "reply": {"input_tokens": count}})
            self.send_json(200, {"input_tokens": count})
            return
        if not path.endswith("/v1/messages"):
            self.not_found(body)
            return
        blocks, stop = plan(body, self.server.workspace, self.server.escape)
        self.record(
            {
                "method": "POST",
                "path": self.path,
                "model": body.get("model"),
                "stream": bool(body.get("stream")),
                "max_tokens": body.get("max_tokens"),
                "tools": tool_names(body),
                "messages": len(body.get("messages") or []),
                "last_message": last_message(body),
                "reply": {"stop_reason": stop, "content": blocks},
            }
        )
        message = {
            "id": "msg_fake_" + uuid.uuid4().hex[:12],
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or "claude-fake",
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage(body),
        }
        if body.get("stream"):
            self.stream(message)
        else:
            self.send_json(200, message)

    def stream(self, message):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("request-id", "req_fake_" + uuid.uuid4().hex[:12])
        self.end_headers()
        self.close_connection = True

        def event(name, data):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        start = dict(message, content=[], stop_reason=None)
        start["usage"] = dict(message["usage"], output_tokens=1)
        event("message_start", {"type": "message_start", "message": start})
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
                event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": block["text"]}},
                )
            else:
                event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                    },
                )
                raw = json.dumps(block["input"])
                half = len(raw) // 2
                for part in (raw[:half], raw[half:]):
                    event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": part}},
                    )
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
        event("message_stop", {"type": "message_stop"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--escape", help="after the edit, ask for a Write of this path")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.workspace = os.path.realpath(args.workspace)
    server.log_path = args.log
    server.escape = args.escape
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
