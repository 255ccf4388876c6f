"""Every write in the app happens here: keyword-only, typed, transactional functions."""
