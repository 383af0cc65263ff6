#!/usr/bin/env python3
"""A real OTLP/HTTP receiver for the tests: what a collector would see of the service's traces and metrics.

    otlp-receiver.py SPANS_FILE      (run by scripts/python-otlp's interpreter)

Listens on 127.0.0.1, on a port the system chooses, and prints that port on a line of its own once it listens.
Accepts POST /v1/traces (protobuf, as OTLP/HTTP sends by default, or JSON; gzip or not), decoded with the
opentelemetry-proto package, and appends each span to SPANS_FILE as one line of JSON: trace_id, span_id and
parent_span_id in lower-case hex (parent "" for a root), name, kind, status {code, message}, attributes, and the
resource's service_name. Answers 200 with an empty ExportTraceServiceResponse. Accepts POST /v1/metrics the same way,
appending each metric as {"metric": name, "points": number of data points}. Any other request is appended as
{"unexpected": "METHOD PATH"} and answered 404, so that a test can tell that nothing at all arrived. Runs until
it is killed.
"""
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

lock = threading.Lock()


def attribute_value(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [attribute_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: attribute_value(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind) if kind else None


def attributes(pairs):
    return {pair.key: attribute_value(pair.value) for pair in pairs}


def span_lines(request):
    for resource_spans in request.resource_spans:
        service = attributes(resource_spans.resource.attributes).get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": span.kind,
                    "status": {"code": span.status.code, "message": span.status.message},
                    "attributes": attributes(span.attributes),
                    "service_name": service,
                }


def metric_lines(request):
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                yield {"metric": metric.name, "points": len(getattr(metric, kind).data_points) if kind else 0}


# What each path takes: the request and response messages, and the lines a request makes.
SIGNALS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse, span_lines),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse, metric_lines),
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path not in SIGNALS:
            self.unexpected()
            return
        request_type, response_type, lines = SIGNALS[self.path]
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = request_type()
        is_json = self.headers.get("Content-Type", "").startswith("application/json")
        if is_json:
            json_format.Parse(body, request)
        else:
            request.ParseFromString(body)
        write([json.dumps(line, sort_keys=True) for line in lines(request)])
        response = response_type()
        answer = json_format.MessageToJson(response).encode() if is_json else response.SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if is_json else "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):
        self.unexpected()

    def unexpected(self):
        write([json.dumps({"unexpected": f"{self.command} {self.path}"})])
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def write(lines):
    with lock, open(sys.argv[1], "a", encoding="utf-8") as spans:
        for line in lines:
            spans.write(line + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: otlp-receiver.py SPANS_FILE")
    open(sys.argv[1], "a", encoding="utf-8").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
