"""Snapshots asked for: ``cluster_hook.capture(future)`` writes one of a task that finished, failed or has yet to run."""
