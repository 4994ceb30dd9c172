"""Benchmarks: ``python -m bench`` (or ``make bench``) prints one table; each row compares with a
baseline measured in the same run, because these machines are noisy."""
