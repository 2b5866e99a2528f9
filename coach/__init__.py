"""Mentor Coach: curricula for reverse-mentoring pairs, grounded in a knowledge base."""

__version__ = "0.1.0"
