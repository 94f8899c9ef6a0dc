"""The README's main command: the offline demo runs end to end on embedded defaults."""

from __future__ import annotations

from helpers.cli import lse_env, run_lse


def test_demo_runs_offline_end_to_end(tmp_path):
    proc = run_lse("demo", "--quiet", env=lse_env(LSE_DATA_DIR=str(tmp_path / "data")), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    assert "feedback coverage 100%" in text
    assert "feedback_stats values = {}" in text and '"rationale"' in text
    assert "verdicts among them" in text and "most frequent true rationale factors" in text
    assert "SUCCESS" in text  # lse archive status
    assert "completed" in text and "cosine_similarity avg" in text and "Cost" in text
    assert "Published to LangSmith" in text and "→ confirmed" in text and "where to look" in text
    assert (tmp_path / "data" / "lse.db").is_file()
