"""Names ``vulture`` takes for dead code that frameworks call or require (``make check``).

Faust calls signal receivers as ``receiver(sender, *args, signal=..., **kwargs)``;
``__aexit__`` takes ``(exc_type, exc, tb)``; aiohttp's connector hook takes
``traces``; http.server reads its handler's class attributes and ``do_*``.
"""

# ruff: noqa
sender  # Faust signal receivers
signal
exc_type  # __aexit__
tb
traces  # aiohttp BaseConnector._create_connection
