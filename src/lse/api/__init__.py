"""The REST API (FastAPI) under /api/v1: a skin over the evaluation services.

`create_app(settings)` is in `lse.api.app`; every response is the Kaapi envelope.
"""
