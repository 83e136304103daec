"""Reusable widgets of the station screen."""
