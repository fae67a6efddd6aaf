"""Reading snapshots safely: the file and its zstd frames, the tar, the signature, the pieces."""
