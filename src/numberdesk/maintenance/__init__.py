"""Maintenance windows: buying, releasing and reactivating pause while one is in effect."""
