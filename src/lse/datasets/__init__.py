"""Golden datasets: from CSV uploads and from archived runs that reviewers approved."""
