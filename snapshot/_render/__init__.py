"""One self-contained HTML page per snapshot, from its manifest and captured sources only.

The page of ``python -m replay html``, of the dashboard's Snapshots pages and
of a ``Replay`` in Jupyter: the error and its chain, the frames innermost
first with their verified source and locals, the call, the capture report, a
death, the environment and the commands to replay it.  Nothing is unpickled;
every string from the file is escaped, and control and bidi characters are
shown as visible escapes.
"""
