"""experiments package (pure Python, no Django)."""
