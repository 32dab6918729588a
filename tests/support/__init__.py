"""Helpers shared by several test modules (importable as ``support``: tests/ is on sys.path via conftest)."""
