"""Helpers shared by the test modules (landing zones, ...)."""
