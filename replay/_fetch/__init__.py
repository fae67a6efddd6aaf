"""Getting the snapshot: from a path, a URL, a failed future, a client copy or a worker."""
