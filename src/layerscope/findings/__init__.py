"""Findings: problems in an image, each with its rule, layers, bytes and fix (above the core)."""
