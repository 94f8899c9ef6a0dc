"""Jobs that compose parts: fetch a project-day (langsmith → archive → store records),
full sweep (fetch + to-db), re-fetch of the retention window. CLI and API call these."""
