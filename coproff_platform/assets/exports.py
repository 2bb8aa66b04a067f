"""Exports of a published millésime: GeoPackage and CSV. (Issue 5.)"""

EXPORT_ASSETS: list = []
