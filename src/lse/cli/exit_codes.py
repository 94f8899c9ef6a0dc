"""Exit codes are a contract (README "Exit codes"): 0 ok, 1 error, 2 usage, 3 partial, 130 interrupted."""

OK = 0
ERROR = 1
USAGE = 2
PARTIAL = 3
INTERRUPTED = 130
