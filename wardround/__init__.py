"""wardround."""
