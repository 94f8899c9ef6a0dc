"""`responses_body(params)`: Kaapi's params → the Responses request body, one allowlist.

A pure function (the fast engine calls it per call, batch mode per JSONL line), so a
table of inputs and the exact bodies they give says what it does."""

from __future__ import annotations

import pytest

from lse.providers.params import ParamError, extra_params, responses_body


@pytest.mark.parametrize(
    "params,body",
    [
        ({"model": "gpt-4o-mini"}, {"model": "gpt-4o-mini"}),
        (
            {"model": "gpt-4o-mini", "instructions": "Be brief.", "temperature": 0.2, "top_p": 0.9},
            {"model": "gpt-4o-mini", "instructions": "Be brief.", "temperature": 0.2, "top_p": 0.9},
        ),
        ({"model": "gpt-4o-mini", "reasoning": "high"}, {"model": "gpt-4o-mini"}),  # not a reasoning model
        (
            {"model": "gpt-5-mini", "reasoning": "low", "temperature": 0.3},
            {"model": "gpt-5-mini", "reasoning": {"effort": "low"}},
        ),
        (
            {"model": "o4-mini", "reasoning": {"effort": "high", "summary": "auto"}, "top_p": 0.5},
            {"model": "o4-mini", "reasoning": {"effort": "high", "summary": "auto"}},
        ),
        (
            {"model": "gpt-4o", "knowledge_base_ids": ["vs_1", "vs_2"]},
            {
                "model": "gpt-4o",
                "tools": [{"type": "file_search", "vector_store_ids": ["vs_1", "vs_2"], "max_num_results": 20}],
            },
        ),
        (
            {"model": "gpt-4o", "knowledge_base_ids": ["vs_1"], "max_num_results": 5},
            {"model": "gpt-4o", "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 5}]},
        ),
        (
            {"model": "gpt-4o", "tools": [{"type": "file_search", "vector_store_ids": ["vs_9"]}]},
            {"model": "gpt-4o", "tools": [{"type": "file_search", "vector_store_ids": ["vs_9"]}]},
        ),
        (
            {"model": "gpt-4o", "max_output_tokens": 256, "text": {"format": {"type": "json_object"}}},
            {"model": "gpt-4o", "max_output_tokens": 256, "text": {"format": {"type": "json_object"}}},
        ),
        ({"model": "gpt-4o", "instructions": None, "temperature": None}, {"model": "gpt-4o"}),
    ],
)
def test_params_map_to_the_body(params, body):
    assert responses_body(params) == body
    assert responses_body(params, input="q") == {**body, "input": "q"}


@pytest.mark.parametrize(
    "params,param",
    [
        ({"model": "m", "extra_headers": {"Authorization": "x"}}, "extra_headers"),
        ({"model": "m", "extra_body": {"model": "o1-pro"}}, "extra_body"),
        ({"model": "m", "background": True}, "background"),
        ({"model": "m", "tools": [{"type": "mcp", "server_url": "https://x"}]}, "tools[0].type"),
        (
            {"model": "m", "tools": [{"type": "file_search", "vector_store_ids": ["v"], "filters": {}}]},
            "tools[0].filters",
        ),
        ({"model": "m", "reasoning": "extreme"}, "reasoning"),
        ({"model": "m", "reasoning": {"effort": "low", "budget": 1}}, "reasoning.budget"),
        ({"model": "m", "temperature": 3}, "temperature"),
        ({"model": "m", "temperature": True}, "temperature"),
        ({"model": "m", "max_output_tokens": 8}, "max_output_tokens"),
        ({"model": "m", "knowledge_base_ids": []}, "knowledge_base_ids"),
        ({"model": "m", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"instructions": "no model"}, "model"),
    ],
)
def test_what_is_not_allowed_is_named(params, param):
    with pytest.raises(ParamError) as caught:
        responses_body(params)
    assert caught.value.param == param and caught.value.details == {"param": param}
    assert caught.value.http_status == 422


def test_a_deployment_may_allow_more_but_never_the_transport_options():
    assert extra_params("store, metadata,extra_headers,, timeout") == {"store", "metadata"}
    body = responses_body(
        {"model": "m", "store": False, "metadata": {"a": "b"}}, extra_allowed=extra_params("store,metadata")
    )
    assert body == {"model": "m", "store": False, "metadata": {"a": "b"}}
    with pytest.raises(ParamError):
        responses_body({"model": "m", "extra_headers": {}}, extra_allowed=extra_params("extra_headers"))
