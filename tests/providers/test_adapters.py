"""Responses/Embeddings adapters against the sandbox through the real SDK."""

from __future__ import annotations

import pytest

from lse.errors import ConfigError
from lse.providers.client import openai_client
from lse.providers.embeddings import create_embeddings, plan_batches
from lse.providers.errors import ProviderAuthError, ProviderCallError, ProviderRejected
from lse.providers.params import ParamError
from lse.providers.responses import create_response
from lse.settings import Settings


@pytest.fixture
def client(openai_sandbox, settings: Settings):
    s = settings.model_copy(update={"openai_base_url": openai_sandbox.base_url, "openai_api_key": "sk-sandbox"})
    c = openai_client(s)
    assert c.max_retries == 0
    return c


def test_factory_needs_a_key(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        openai_client(settings)


def test_params_are_mapped_and_only_allowed_ones_are_sent(client, openai_sandbox) -> None:
    """Params go through the one mapping (lse.providers.params): Kaapi's keys become the
    Responses request, anything outside the allowlist is refused before any call."""
    params = {"model": "gpt-4o-mini", "instructions": "i", "knowledge_base_ids": ["vs_1"], "top_p": None}
    create_response(client, params=params, input="q")
    (body,) = openai_sandbox.stats.responses_bodies
    assert body == {
        "model": "gpt-4o-mini",
        "instructions": "i",
        "input": "q",
        "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 20}],
    }
    with pytest.raises(ParamError):
        create_response(client, params={"model": "gpt-4o-mini", "extra_body": {"model": "o1-pro"}}, input="q")
    # a parameter the deployment allows and the SDK does not know travels in extra_body
    create_response(client, params={"model": "gpt-4o-mini", "store": False}, input="q2", extra_allowed={"store"})
    assert openai_sandbox.stats.responses_bodies[-1]["store"] is False
    assert len(openai_sandbox.stats.responses_bodies) == 2


def test_response_carries_text_usage_and_rate_headers(client, openai_sandbox) -> None:
    call = create_response(
        client, params={"model": "gpt-4o-mini", "instructions": "Be brief.", "temperature": 0.0}, input="What is 2+2?"
    )
    assert call.output_text and call.response_id
    assert call.usage.input_tokens > 0 and call.usage.output_tokens > 0
    assert "x-ratelimit-remaining-requests" in call.headers
    assert openai_sandbox.stats.responses_inputs == ["What is 2+2?"]


def test_errors_are_translated(client, openai_sandbox, settings) -> None:
    with pytest.raises(ProviderRejected, match="400"):
        create_response(client, params={"model": "gpt-4o-mini"}, input="x [[bad-request]]")
    openai_sandbox.faults.server_error_next = 1
    with pytest.raises(ProviderCallError) as info:
        create_response(client, params={"model": "gpt-4o-mini"}, input="y")
    assert info.value.status == 500
    bad = openai_client(
        settings.model_copy(update={"openai_base_url": openai_sandbox.base_url, "openai_api_key": "sk-wrong"})
    )
    with pytest.raises(ProviderAuthError):
        create_response(bad, params={"model": "gpt-4o-mini"}, input="z")


def test_embeddings_one_request_per_batch(client, openai_sandbox) -> None:
    texts = [f"text {i}" for i in range(7)]
    call = create_embeddings(client, model="text-embedding-3-small", texts=texts)
    assert call.vectors.shape[0] == 7
    assert openai_sandbox.stats.embeddings_batches == [7]


def test_batch_plan_respects_both_caps() -> None:
    assert [len(b) for b in plan_batches(["a"] * 5000)] == [2048, 2048, 904]
    big = ["x" * 3000] * 10  # ~1001 tokens each by our estimate
    assert [len(b) for b in plan_batches(big, token_budget=2500)] == [2, 2, 2, 2, 2]


def test_an_answer_cut_at_max_output_tokens_says_so(client) -> None:
    call = create_response(
        client,
        params={"model": "gpt-4o-mini", "max_output_tokens": 16},
        input="Explain in detail how a modern CPU pipeline handles branch mispredictions. " * 4,
    )
    assert call.status == "incomplete" and call.output_text  # the partial text is kept ...
    assert call.error_code == "response_incomplete" and call.error == "response incomplete: max_output_tokens"


MALFORMED = {  # a message whose content is null: the SDK's output_text cannot read it
    "id": "resp_1",
    "object": "response",
    "created_at": 0,
    "status": "completed",
    "model": "gpt-4o-mini",
    "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": None}],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}


@pytest.fixture
def malformed_server():
    """A loopback server answering every POST with MALFORMED (the sandbox only speaks well-formed)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = json.dumps(MALFORMED).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_an_unreadable_output_is_an_error_not_an_empty_answer(malformed_server, settings) -> None:
    client = openai_client(settings.model_copy(update={"openai_base_url": malformed_server, "openai_api_key": "sk-x"}))
    call = create_response(client, params={"model": "gpt-4o-mini"}, input="q")
    assert call.output_text == "" and call.error_code == "malformed_output"
    assert call.error.startswith("malformed output from responses.create: TypeError")
