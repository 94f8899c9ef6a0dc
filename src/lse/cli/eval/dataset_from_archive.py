"""`lse eval dataset from-archive`: a golden dataset from what reviewers approved."""

from __future__ import annotations

import typer

from lse.cli.console import out, print_json
from lse.cli.eval.dataset import dataset_app, datasets_table
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.cli.options import DateOpt, EndDateOpt, StartDateOpt, days_from
from lse.settings import load_settings


@dataset_app.command("from-archive")
def from_archive(
    name: str = typer.Option(..., "--name", help="Dataset name, unique in the project."),
    source_project: str = typer.Option(..., "--source-project", help="Archived LangSmith project."),
    date: DateOpt = None,
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    key: str = typer.Option("final_verdict", "--key", help="Feedback key holding the verdict."),
    verdict: str = typer.Option("PASS", "--verdict", help="Verdict that counts as approved."),
    question_field: str = typer.Option("question", "--question-field", help="inputs field with the question."),
    answer_field: str = typer.Option("answer", "--answer-field", help="outputs field with the answer."),
    max_items: int | None = typer.Option(None, "--max-items", min=1, help="Keep at most this many pairs."),
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the dataset as JSON."),
) -> None:
    """Build a dataset from archived runs whose newest verdict is approved (loaded with to-db)."""
    from lse.datasets.from_archive import dataset_from_archive

    days = days_from(date, start_date, end_date)
    settings = load_settings()
    result = dataset_from_archive(
        settings,
        tenant_for(settings, org, project, create=True),
        name=name,
        source_project=source_project,
        days=days,
        key=key,
        verdict=verdict,
        question_field=question_field,
        answer_field=answer_field,
        max_items=max_items,
    )
    if as_json:
        print_json(result)
        return
    out.print(datasets_table([result]))
