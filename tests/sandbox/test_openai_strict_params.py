"""The sandbox refuses what the real Responses API refuses, through the real SDK: unknown
top-level parameters (`unknown_parameter`), wrongly typed ones (`invalid_type`), and the
same one level down in reasoning, text and tools — so a client that sends Kaapi's params
verbatim fails here as it would against OpenAI."""

from __future__ import annotations

import openai
import pytest


def _refused(openai_client, **kwargs) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="gpt-4o-mini", input="hi", **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "extra_body,param,code",
    [
        ({"knowledge_base_ids": ["vs_1"]}, "knowledge_base_ids", "unknown_parameter"),
        ({"max_num_results": 5}, "max_num_results", "unknown_parameter"),
        ({"reasoning": "low"}, "reasoning", "invalid_type"),
        ({"temperature": "0.2"}, "temperature", "invalid_type"),
        ({"max_output_tokens": 64.5}, "max_output_tokens", "invalid_type"),
        ({"store": "yes"}, "store", "invalid_type"),
        ({"tools": {"type": "file_search"}}, "tools", "invalid_type"),
        ({"reasoning": {"effort": "low", "budget": 3}}, "reasoning.budget", "unknown_parameter"),
        ({"text": {"format": {"type": "text"}, "style": "x"}}, "text.style", "unknown_parameter"),
        ({"tools": [{"type": "file_search"}]}, "tools[0].vector_store_ids", "missing_required_parameter"),
        ({"tools": [{"type": "teleport"}]}, "tools[0].type", "invalid_value"),
    ],
)
def test_unknown_and_wrongly_typed_parameters_are_400(openai_client, openai_sandbox, extra_body, param, code):
    err = _refused(openai_client, extra_body=extra_body)
    assert err.param == param and err.code == code, (err.param, err.code, err.message)
    assert openai_sandbox.stats.responses_bodies == []


def test_messages_read_as_the_real_apis(openai_client):
    assert _refused(openai_client, extra_body={"knowledge_base_ids": []}).message.endswith(
        "Unknown parameter: 'knowledge_base_ids'."
    )
    assert (
        "Invalid type for 'reasoning': expected an object, but got a string instead."
        in _refused(openai_client, extra_body={"reasoning": "low"}).message
    )


def test_what_the_api_accepts_is_accepted_and_recorded(openai_client, openai_sandbox):
    tools = [{"type": "file_search", "vector_store_ids": ["vs_abc"], "max_num_results": 5}]
    resp = openai_client.responses.create(
        model="o4-mini", input="hi", reasoning={"effort": "low"}, tools=tools, store=False, metadata={"a": "b"}
    )
    assert resp.status == "completed"
    (body,) = openai_sandbox.stats.responses_bodies
    assert body["tools"] == tools and body["reasoning"] == {"effort": "low"} and body["store"] is False
    err = _refused(openai_client, tools=[{"type": "file_search", "vector_store_ids": ["not-a-store"]}])
    assert "Vector store with id 'not-a-store' not found." in err.message
