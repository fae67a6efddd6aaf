"""``shrink``: the call's inputs minimized (delta debugging) while the failure stays the same."""
