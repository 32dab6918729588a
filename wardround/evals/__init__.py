"""Benchmark evaluation: dataset adapters, runners, scorers and reports."""
