"""Reliability tests (issue 7): crash, outage, restart, concurrency and hostile input."""
