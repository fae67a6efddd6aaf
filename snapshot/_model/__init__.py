"""The manifest as a typed model: its value classes and the one validating builder."""
