"""api part of lse (see docs/ and ../shared/DESIGN.md)."""
