"""broadcast: daily Vietnamese audio bulletins on administrative reform."""

__version__ = "0.1.0"
