"""Benchmarks of the running stack against the physical floor of each figure (``make bench``)."""
