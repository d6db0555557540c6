#!/usr/bin/env python3
"""A loopback OTLP/HTTP collector stand-in for the benchmark: reads every export whole and answers 200.

    otlp_sink.py --port P [--log FILE]

The relay's OpenTelemetry SDK does all of its work (spans, metrics, protobuf encoding, HTTP posts); this
only receives them, and counts the requests and bytes per signal in the log when it is stopped.
"""
import argparse
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = counts.setdefault(self.path, [0, 0])
        seen[0] += 1
        seen[1] += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)

    def stop(*_):
        for path, (requests, size) in sorted(counts.items()):
            print("%s: %d requests, %d bytes" % (path, requests, size), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
