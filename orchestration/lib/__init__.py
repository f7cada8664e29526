"""Helpers shared by every integration: settings, the warehouse connection, asset keys."""
