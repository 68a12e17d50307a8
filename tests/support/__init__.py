"""Helpers shared by tests of several subjects."""
