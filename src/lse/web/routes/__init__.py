"""The viewer's pages, one router per area."""
