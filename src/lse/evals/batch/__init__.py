"""Batch mode's own machinery: provider batches from request file to per-item results.

prepare (request files in the object store, rows in the database) → submit (upload, create,
recover a lost create by its client key) → poll (leased, never fatal) → collect (both result
files copied, every line judged by content, every custom_id reconciled). What comes out is
item results in the fast mode's shape, for the shared embed/score/cost/finish stages.
See docs/batch-evaluation.md.
"""
