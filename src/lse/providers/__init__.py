"""OpenAI Responses / Embeddings through the official SDK, built by one factory; the price table.

- `client.openai_client(settings)`: every SDK client (base URL, key, timeout, max_retries=0);
- `responses.create_response`, `embeddings.create_embeddings`: adapters that return
  text/vectors + usage + headers and raise `errors.ProviderCallError` (an lse error);
- `retry_rules`: OpenAI's failures as data for the one retry classifier (`lse.retry`);
- `prices`: synchronous rates, `cost_usd(model, usage)`.
"""
