"""A golden dataset from approved archived traces, stored like any uploaded CSV."""

from __future__ import annotations

from datetime import date

from lse.datasets.approved import approved_pairs, pairs_csv
from lse.datasets.schemas import DatasetPublic
from lse.datasets.service import DatasetUpload, upload_dataset
from lse.errors import ValidationFailed
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.tenancy import Tenant


def dataset_from_archive(
    settings: Settings,
    tenant: Tenant,
    *,
    name: str,
    source_project: str,
    days: list[date],
    key: str = "final_verdict",
    verdict: str = "PASS",
    question_field: str = "question",
    answer_field: str = "answer",
    description: str | None = None,
    max_items: int | None = None,
) -> DatasetPublic:
    pairs = approved_pairs(
        get_engine(settings),
        source_project,
        days,
        key=key,
        verdict=verdict,
        question_field=question_field,
        answer_field=answer_field,
    )
    if max_items is not None:
        pairs = pairs[:max_items]
    if not pairs:
        raise ValidationFailed(
            f"no archived run of {source_project!r} on {days[0]}..{days[-1]} has a {key!r} verdict "
            f"{verdict!r} with inputs.{question_field} and outputs.{answer_field}; load the days with "
            "`lse archive to-db` first",
            code="no_approved_runs",
        )
    text = description or f"{len(pairs)} runs of {source_project} {days[0]}..{days[-1]} with {key} = {verdict}"
    return upload_dataset(
        settings,
        tenant,
        DatasetUpload(
            name=name, data=pairs_csv(pairs), filename=f"{name}.csv", content_type="text/csv", description=text
        ),
    )
