"""``python -m bench``: run the benchmarks against the stack the environment names."""

from bench.run import main

main()
