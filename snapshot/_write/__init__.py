"""Writing snapshots: pieces pickled one by one, the manifest, a tar in a zstd stream."""
