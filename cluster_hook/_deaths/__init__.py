"""Worker deaths: the scheduler's watch, the worker's and nanny's reports, the death snapshot."""
