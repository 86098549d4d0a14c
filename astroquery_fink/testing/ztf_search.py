"""Emulated ZTF search endpoints: conesearch, latests, classes, anomaly, statistics, skymap."""
from __future__ import annotations

from .wire import Route

#: The search routes, registered by `app.create_app`.
ROUTES: list[Route] = []
