"""What the pages show, computed from the services' answers; shared with `lse report`."""
