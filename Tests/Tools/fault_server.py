#!/usr/bin/env python3
"""Loopback HTTP server with faults, for zoo's download tests and `zoo-bench fetch`.

Usage: fault_server.py ROOT   -- prints the port on stdout, serves until stdin closes.

GET /<mode>/<any/path>/<name> serves ROOT/<name> (Range supported unless the mode says not).
Modes (each counts the requests per full path, so a fault can hit only the first one):
  ok        plain file server, honours Range
  drop      first request: sends ~40% of the body, then closes the connection
  norange   always 200 with the whole body, Range ignored
  flaky503  first two requests: 503; then ok
  busy429   first request: 429; then ok
  corrupt   the body with one byte flipped
  missing   404
  forbidden 403
  stall     first request: sends ~25% of the body then stops sending (no bytes) for 60 s
  slow      ~1 MB/s, honours Range (for Ctrl-C and concurrency tests)
  redirect  302 to the same path under /ok/
Every request is logged, before its body is sent, as one JSON line {path, range, status, sent}
(sent: the body bytes the server is about to send) in ROOT/_requests.jsonl, and GET /_log returns
the same as a JSON list.
Standard library only.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[1]
LOCK = threading.Lock()
LOG = []
COUNTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def record(self, status, sent, rng):
        entry = {"path": self.path, "range": rng, "status": status, "sent": sent}
        with LOCK:
            LOG.append(entry)
            with open(os.path.join(ROOT, "_requests.jsonl"), "a") as log:
                log.write(json.dumps(entry) + "\n")

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                body = json.dumps(LOG).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        parts = self.path.strip("/").split("/")
        mode, name = parts[0], parts[-1]
        rng = self.headers.get("Range")
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            count = COUNTS[self.path]
        file = os.path.join(ROOT, name)
        if mode == "missing" or not os.path.isfile(file) or len(parts) < 2:
            return self.error(404, rng)
        if mode == "redirect":
            self.record(302, 0, rng)
            self.send_response(302)
            self.send_header("Location", "/ok/" + "/".join(parts[1:]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "forbidden":
            return self.error(403, rng)
        if mode == "flaky503" and count <= 2:
            return self.error(503, rng)
        if mode == "busy429" and count <= 1:
            return self.error(429, rng)
        size = os.path.getsize(file)
        start = 0
        if rng and mode != "norange":
            spec = rng.replace("bytes=", "").split("-")[0]
            start = int(spec) if spec else 0
            if start >= size:
                return self.error(416, rng)
        length = size - start
        if start > 0:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "none" if mode == "norange" else "bytes")
        self.end_headers()
        self.wfile.flush()
        limit = length
        if mode == "drop" and count == 1:
            limit = int(size * 0.4)
        if mode == "stall" and count == 1:
            limit = int(size * 0.25)
        sent = 0
        status = 206 if start > 0 else 200
        self.record(status, limit, rng)
        try:
            with open(file, "rb") as f:
                f.seek(start)
                if mode in ("ok", "norange", "flaky503", "busy429") or (mode in ("drop", "stall") and limit == length):
                    sent = self.connection.sendfile(f, start, limit)
                else:
                    chunk = 64 * 1024
                    while sent < limit:
                        data = f.read(min(chunk, limit - sent))
                        if not data:
                            break
                        if mode == "corrupt" and start + sent <= size // 2 < start + sent + len(data):
                            i = size // 2 - start - sent
                            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
                        self.wfile.write(data)
                        sent += len(data)
                        if mode == "slow":
                            time.sleep(0.06)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if mode == "stall" and limit < length:
            time.sleep(60)
        self.close_connection = True

    def error(self, status, rng):
        self.record(status, 0, rng)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    # Exit when the parent goes away (its end of our stdin closes).
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
