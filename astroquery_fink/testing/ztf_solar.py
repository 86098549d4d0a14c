"""Emulated ZTF solar-system, tracklet and resolver endpoints."""
ROUTES: list = []
