"""The DataLoader's machinery: collation (collate.py), fetching samples for one batch (fetch.py) and the worker
processes' loop (worker.py)."""

MP_STATUS_CHECK_INTERVAL = 5.0
"""Seconds between a waiting side's checks that the other side is still alive."""

from . import collate, fetch, worker  # noqa: E402,F401
