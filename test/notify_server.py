#!/usr/bin/python3
"""The endpoint of calib's notification tests: an HTTP server on 127.0.0.1
that records every POST it gets, one JSON line each (path, headers, body),
in RECORD, and answers as MODE says: ok (204), fail (500), hang (reads the
request, never answers).  It writes its port to PORTFILE once listening."""
import http.server
import json
import sys
import threading

record, portfile, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with lock, open(record, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "headers": dict(self.headers.items()),
                                "body": body}) + "\n")
        if mode == "hang":
            threading.Event().wait()
        self.send_response(500 if mode == "fail" else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
