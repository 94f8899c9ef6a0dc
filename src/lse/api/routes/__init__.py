"""One router per resource: configs, datasets, evaluations."""
