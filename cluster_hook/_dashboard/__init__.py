"""The Snapshots pages on the Dask dashboard: the list, each snapshot's page, its download.

The scheduler's part (``scheduler``, ``routes``, ``serve``) keeps an index of
the cluster's ``snapshot`` events and serves the pages on the dashboard's own
server, under its prefix; the page of one snapshot is rendered by the worker
that holds the file (``worker``: handlers the worker plugin registers) or
from the upload copy (``storage``), always through ``snapshot.render_html``.
Files are only ever read by validated name inside the configured snapshot
directories or under the upload prefix (``files``), and never unpickled.
"""
