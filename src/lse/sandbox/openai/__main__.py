"""`python -m lse.sandbox.openai --port 8001 --api-key sk-sandbox`: a standalone sandbox."""

from __future__ import annotations

import argparse

from .server import serve_forever


def main() -> None:
    parser = argparse.ArgumentParser(description="Local OpenAI-compatible server (Responses, Embeddings, Models).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default="sk-sandbox")
    args = parser.parse_args()
    serve_forever(args.host, args.port, args.api_key)


if __name__ == "__main__":
    main()
