"""A snapshot written on a worker from the scheduler's record of a task: the one builder that death snapshots and snapshots asked for (``cluster_hook.capture``) share."""
