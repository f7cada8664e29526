"""Landing files -> raw tables."""
