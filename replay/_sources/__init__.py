"""Verified source for the frames and by-value functions: candidates, code matching, reports."""
