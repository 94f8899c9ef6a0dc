"""The evaluation pipeline every run mode shares: named stages over typed records.

    prepare → call → collect → gate → embed → score → cost → finish

A mode brings its own `call` and `collect` (fast: synchronous Responses calls, `lse.evals.fast`;
batch: the Batch API) and hands the shared stages one `ItemOutcome` per item; from there
`stages.embed_and_score`, `cost.run_cost` and `stages.finish` do the rest. Each stage
persists its result before it is recorded done. The contract of every stage (inputs,
outputs, persistence) is in docs/fast-evaluation.md ("Stages").
"""
