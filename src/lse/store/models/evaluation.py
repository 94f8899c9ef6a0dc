"""Evaluation tables: tenancy, configs, datasets, runs, results (see issue 5)."""
