"""Every request of a batch gets exactly one outcome; whatever does not add up is an anomaly.

- a custom_id in neither file is `missing`;
- a custom_id seen twice keeps one verdict (a success over anything else, else the first)
  and is noted; one we never sent is noted and ignored; an unreadable line is noted;
- the provider's `request_counts` are checked against the requests answered (one per
  custom_id: 200s vs `completed`, the rest vs `failed`, all sent vs `total`), and its
  `usage` against the lines' usage.
Pure: lines in, outcomes and anomalies out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lse.evals.batch.lines import BadLine, LineVerdict
from lse.evals.batch.request_file import RequestRef
from lse.evals.batch.states import MISSING, SUCCEEDED
from lse.providers.usage import Usage

MAX_LISTED = 20  # custom_ids named in one anomaly; the count is always exact


@dataclass
class Reconciliation:
    verdicts: dict[str, LineVerdict]  # custom_id -> its one verdict (MISSING ones included)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # summed over the verdicts kept

    def by_kind(self) -> Counter[str]:
        return Counter(v.kind for v in self.verdicts.values())


def _note(out: list[dict[str, Any]], kind: str, message: str, ids: Sequence[str] = ()) -> None:
    entry: dict[str, Any] = {"kind": kind, "message": message, "count": max(1, len(ids))}
    if ids:
        entry["custom_ids"] = list(ids[:MAX_LISTED])
    out.append(entry)


def _better(new: LineVerdict, old: LineVerdict) -> bool:
    return new.kind == SUCCEEDED and old.kind != SUCCEEDED


def reconcile(
    refs: Sequence[RequestRef],
    lines: Iterable[LineVerdict | BadLine],
    *,
    request_counts: dict[str, Any] | None,
    provider_usage: dict[str, Any] | None,
) -> Reconciliation:
    sent = {r.custom_id for r in refs}
    kept: dict[str, LineVerdict] = {}
    dupes: list[str] = []
    unknown: list[str] = []
    bad: list[BadLine] = []
    for line in lines:
        if isinstance(line, BadLine):
            bad.append(line)
            continue
        if line.custom_id not in sent:
            unknown.append(line.custom_id)
            continue
        old = kept.get(line.custom_id)
        if old is None:
            kept[line.custom_id] = line
            continue
        dupes.append(line.custom_id)
        if _better(line, old):
            kept[line.custom_id] = line
    anomalies: list[dict[str, Any]] = []
    lines_200 = sum(1 for v in kept.values() if v.status_code == 200)
    lines_other = len(kept) - lines_200
    missing = [r.custom_id for r in refs if r.custom_id not in kept]
    for cid in missing:
        kept[cid] = LineVerdict(
            cid, MISSING, error="in neither the output nor the error file", error_code="batch_result_missing"
        )
    if missing:
        _note(anomalies, "missing_results", f"{len(missing)} request(s) in neither result file", missing)
    if dupes:
        _note(anomalies, "duplicate_results", f"{len(dupes)} extra line(s) for custom_ids already seen", dupes)
    if unknown:
        _note(anomalies, "unknown_custom_ids", f"{len(unknown)} line(s) for custom_ids this batch never sent", unknown)
    for b in bad[:MAX_LISTED]:
        _note(anomalies, "unreadable_line", f"result line {b.number}: {b.reason}")
    usage = Usage()
    for v in kept.values():
        usage.add(v.usage)
    if request_counts is not None:
        got = {"total": len(refs), "completed": lines_200, "failed": lines_other}
        claimed = {k: request_counts.get(k) for k in got}
        if claimed != got:
            _note(anomalies, "request_counts_mismatch", f"the provider reports {claimed}, the files hold {got}")
    if provider_usage is not None:
        theirs = Usage.from_api(provider_usage) or Usage()
        ours = (usage.input_tokens, usage.output_tokens)
        if (theirs.input_tokens, theirs.output_tokens) != ours:
            _note(
                anomalies,
                "usage_mismatch",
                f"the provider reports {theirs.input_tokens} input / {theirs.output_tokens} output tokens, "
                f"the lines {ours[0]} / {ours[1]}",
            )
    return Reconciliation(kept, anomalies, usage)
