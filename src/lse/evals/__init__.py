"""The evaluation engine: configs, runs, the fast pipeline, retry classification and rate adaptation."""
