"""A stand-in API server on 127.0.0.1 that records each request and answers plausible JSON.

There is no KFP server or Vertex AI here: the tests check the requests the real clients send.
"""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
from urllib.parse import urlsplit
from typing import Callable, Iterator

Answer = Callable[[str, str, bytes], dict]


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self, answer: Answer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def find(self, method: str, path_part: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and path_part in r["path"]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"method": self.command, "path": self.path, "body": body,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
        payload = json.dumps(self.server.answer(self.command, self.path, body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@contextlib.contextmanager
def serving(answer: Answer, timeout: float = 30.0) -> Iterator[Recorder]:
    """A recorder in a daemon thread, shut down on exit; no request may hang past `timeout`."""
    server = Recorder(answer)
    server.timeout = timeout
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout)


def kfp_answer(pipeline_exists: bool):
    """Plausible v2beta1 answers: no experiment of that name yet; the pipeline new or existing."""
    def answer(method: str, path: str, body: bytes) -> dict:
        route = urlsplit(path).path.removeprefix("/apis/v2beta1")
        sent = json.loads(body) if body.startswith(b"{") else {}
        if route == "/healthz":
            return {"multi_user": False}
        if route == "/experiments":
            return {"experiment_id": "exp-1", **sent} if method == "POST" else {}
        if route == "/runs":
            return {"run_id": "run-1", **sent}
        if route == "/pipelines":
            return {"pipelines": [{"pipeline_id": "pipe-1", "display_name": "flowers"}]} if pipeline_exists else {}
        if route == "/pipelines/upload":
            return {"pipeline_id": "pipe-1", "display_name": "flowers"}
        if route == "/pipelines/pipe-1/versions":
            return {"pipeline_versions": [{"pipeline_id": "pipe-1", "pipeline_version_id": "ver-1"}]}
        if route == "/pipelines/upload_version":
            return {"pipeline_id": "pipe-1", "pipeline_version_id": "ver-2"}
        if route == "/recurringruns":
            return {"recurring_run_id": "rr-1", **sent}
        return {}
    return answer


def vertex_answer(method: str, path: str, body: bytes) -> dict:
    route = urlsplit(path).path
    if route.startswith("/storage/v1/b/"):  # aiplatform checks the pipeline root's bucket exists
        return {"name": route.rsplit("/", 1)[-1]}
    if method == "POST" and route.endswith("/pipelineJobs"):
        return {**json.loads(body), "name": "projects/p/locations/europe-west4/pipelineJobs/job-1"}
    if method == "POST" and route.endswith("/schedules"):
        return {**json.loads(body), "name": "projects/p/locations/europe-west4/schedules/sched-1"}
    return {}
