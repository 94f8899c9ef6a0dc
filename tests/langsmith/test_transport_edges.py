"""Transport edge cases against real local HTTP servers (no mocks)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lse.errors import ConfigError, UpstreamError
from lse.langsmith.transport import LangSmithApi
from lse.settings import Settings, load_settings


class _HtmlProxy(BaseHTTPRequestHandler):
    """A misconfigured endpoint: 200 with an HTML page for every request."""

    hits = 0

    def do_GET(self):
        type(self).hits += 1
        body = b"<html><body>Welcome to nginx</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        return


def test_a_non_json_200_is_retried_then_a_clear_upstream_error(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            data_dir=tmp_path,
            langsmith_endpoint=f"http://127.0.0.1:{server.server_port}",
            langsmith_api_key="k",
            request_delay_ms=0,
            max_retries=2,
            retry_base_wait_s=0.01,
        )
        api = LangSmithApi(settings)
        with pytest.raises(UpstreamError, match="not JSON"):
            api.get_json("/sessions", {"name": "x"}, endpoint="sessions")
        assert _HtmlProxy.hits == 3
        assert api.counters.requests == 3 and api.counters.retries == 2 and api.counters.errors == 3
    finally:
        server.shutdown()


def test_a_bad_setting_is_one_config_error(monkeypatch):
    monkeypatch.setenv("LSE_REQUEST_DELAY_MS", "abc")
    with pytest.raises(ConfigError, match="LSE_REQUEST_DELAY_MS"):
        load_settings()
