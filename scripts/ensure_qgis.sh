#!/usr/bin/env bash
# Makes sure QGIS's Python bindings are there for Debian's Python (/usr/bin/python3): the test
# that opens the published layers as a GIS analyst would (tests/test_qgis_layers.py) runs QGIS
# headless in a subprocess with them. Installs python3-qgis with apt on a Debian machine where we
# are root (about 1.5 min); otherwise says what to install. The project's venv cannot import these
# bindings: they are built for Debian's own interpreter.
set -euo pipefail

PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import qgis.core' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing python3-qgis (apt, about 1.5 min)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-qgis >/dev/null
fi
"$PY" -c 'import qgis.core' >/dev/null 2>&1 || {
  echo "QGIS Python bindings not found for $PY: install them (Debian: apt-get install python3-qgis)" >&2; exit 1; }
echo "==> QGIS ready: $("$PY" -c 'from qgis.core import Qgis; print(Qgis.QGIS_VERSION)')"
