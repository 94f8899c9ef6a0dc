"""Dataset names as Kaapi stores them: lower-case letters, digits and single underscores.

Kaapi sanitises every dataset name this way (so it can be a Langfuse dataset name), and
its clients predict the stored name from it: "My Dataset 01!" is `my_dataset_01`, and
"my-set" and "my set" are the same name.
"""

from __future__ import annotations

import re

from lse.errors import ValidationFailed

_NOT_ALLOWED = re.compile(r"[^a-z0-9_]")
_RUNS = re.compile(r"_+")


def sanitize_dataset_name(name: str) -> str:
    """Lower-case; spaces and hyphens become underscores; anything else outside [a-z0-9_]
    is dropped; runs of underscores collapse; no leading or trailing underscore."""
    text = (name or "").lower().replace(" ", "_").replace("-", "_")
    text = _RUNS.sub("_", _NOT_ALLOWED.sub("", text)).strip("_")
    if not text:
        raise ValidationFailed(
            f"dataset_name {name!r} has no letter, digit or underscore left once sanitised (a-z, 0-9, _)",
            code="invalid_dataset_name",
        )
    return text
