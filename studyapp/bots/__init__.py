"""Bots: scripted participants that play a study over HTTP (see ``runner``)."""
