#!/usr/bin/env bash
# Makes sure GDAL's command-line tools (ogr2ogr, ogrinfo) are there: the GeoPackage export runs
# ogr2ogr from PostGIS and its tests read the file back with ogrinfo. Installs gdal-bin with apt
# on a Debian machine where we are root; otherwise says what to install.
set -euo pipefail

if command -v ogr2ogr >/dev/null 2>&1 && command -v ogrinfo >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing gdal-bin (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin >/dev/null
fi
command -v ogr2ogr >/dev/null 2>&1 || { echo "ogr2ogr not found: install GDAL (Debian: apt-get install gdal-bin)" >&2; exit 1; }
echo "==> GDAL ready: $(ogr2ogr --version)"
