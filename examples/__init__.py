"""Runnable examples of the buckyos api runtime (import them from the repository root)."""
