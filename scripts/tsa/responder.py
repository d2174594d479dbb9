#!/usr/bin/env python3
"""A local RFC 3161 responder over HTTP for tests: each POSTed request is answered by
`openssl ts -reply` with the authority in DIR (scripts/tsa/make-test-tsa.sh).

    scripts/tsa/responder.py DIR [--fail-with STATUS | --hang | --huge]

Listens on 127.0.0.1 on a free port and prints that port on its first line. Run it under
`faketime` to have the authority's clock elsewhere. --fail-with answers every request with that
HTTP status instead (an authority that is down); --hang reads the request and never answers;
--huge announces a 3 GB answer. Stops on SIGTERM.
"""
import http.server
import signal
import subprocess
import sys
import tempfile
import time

directory = sys.argv[1]
fail_with = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--fail-with" else None
mode = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if fail_with is not None:
            self.send_error(fail_with)
            return
        if mode == "--hang":
            time.sleep(3600)
            return
        if mode == "--huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", "3000000000")
            self.end_headers()
            self.wfile.write(b"0" * 65536)
            return
        with tempfile.NamedTemporaryFile(dir=directory) as query, tempfile.NamedTemporaryFile(dir=directory) as reply:
            query.write(body)
            query.flush()
            done = subprocess.run(["openssl", "ts", "-reply", "-config", f"{directory}/tsa.cnf",
                                   "-queryfile", query.name, "-out", reply.name], capture_output=True)
            if done.returncode != 0:
                self.send_error(500)
                return
            answer = reply.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


# A parent may have blocked these (its child inherits the mask): stop when told to.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
