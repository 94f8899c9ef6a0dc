"""The stored-run record: the contract between the fetch, the archive files and the database.

A stored run is the run exactly as the LangSmith API returned it (JSON-safe) plus:

- `feedback_records`: the run's native feedback objects, or `None` when unknown;
- `feedback_fetch_status`: one of FeedbackStatus — why `feedback_records` is what it is;
- `feedback_fetch_error`: the reason when the status is `not_fetched`.

"Unknown" is never "empty": a run whose feedback could not be fetched carries
`feedback_records: null` and status `not_fetched`; an archive line from before feedback
capture has neither key and reads as `unknown`.
"""

from lse.records.feedback_status import FeedbackStatus, feedback_status_of
from lse.records.merge import merge_feedback, merge_run

__all__ = ["FeedbackStatus", "feedback_status_of", "merge_feedback", "merge_run"]
