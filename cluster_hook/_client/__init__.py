"""The client's part: copies of its failures' snapshots, their sources, fetching them."""
