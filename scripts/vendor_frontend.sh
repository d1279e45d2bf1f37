#!/usr/bin/env bash
# Vendor the dashboard's front-end libraries into the Python package, at pinned versions.
#
# The dashboard (api/http/static/dashboard/) works offline: no CDN, no tile server. Its two
# libraries are installed with npm into a temporary folder and their built files copied to
# api/http/static/vendor/<lib>-<version>/, each with its licence:
#
#   Leaflet 1.9.4  (BSD-2-Clause)  the map: GeoJSON and polylines drawn with its SVG renderer
#   uPlot   1.6.32 (MIT)           small, fast charts
#
# Re-run it to refresh the files (it replaces those two folders and nothing else); change a
# version here, re-run, and commit the new folder. `pip install` ships what it wrote
# (pyproject.toml: [tool.setuptools.package-data], "api.http" = ["static/**/*"]).
set -euo pipefail

LEAFLET_VERSION="1.9.4"
UPLOT_VERSION="1.6.32"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$here/api/http/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact \
    "leaflet@$LEAFLET_VERSION" "uplot@$UPLOT_VERSION" >/dev/null

leaflet="$vendor/leaflet-$LEAFLET_VERSION"
rm -rf "$leaflet"
mkdir -p "$leaflet/images"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$leaflet/"
cp node_modules/leaflet/dist/images/*.png "$leaflet/images/"
cp node_modules/leaflet/LICENSE "$leaflet/LICENSE"

uplot="$vendor/uplot-$UPLOT_VERSION"
rm -rf "$uplot"
mkdir -p "$uplot"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$uplot/"
cp node_modules/uplot/LICENSE "$uplot/LICENSE"

# what was installed, for the record (the exact versions npm resolved)
for lib in leaflet uplot; do
    node -e "const p=require('./node_modules/$lib/package.json');\
console.log(p.name+' '+p.version+' '+p.license)"
done
echo "vendored into $vendor"
