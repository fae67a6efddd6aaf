"""Error storms across the cluster: one budget of snapshots per failure, kept by the scheduler."""
