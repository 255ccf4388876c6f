"""analysis package (pure Python, no Django)."""
