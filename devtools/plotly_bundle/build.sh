#!/usr/bin/env bash
# Rebuild featviz/chart/vendor/plotly-featviz.min.js: plotly.js with only the traces featviz's
# browser charts draw (scatter, bar, scatter3d). 1.8 MB against the full bundle's 4.8 MB: a new
# tab compiles it in about a third of the time (bench/bench_app.py).
#
#   devtools/plotly_bundle/build.sh [VERSION]      # default: the version named in featviz/chart/__init__.py
#
# Needs node and npm (the package registry); takes about a minute. The traces: index-featviz.js.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${1:-$(sed -n 's/^PLOTLY_JS_VERSION = "\(.*\)".*/\1/p' "$repo/featviz/chart/__init__.py")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "plotly.js@$version" >/dev/null
tar xzf "plotly.js-$version.tgz"
cd package
npm install --omit=dev --ignore-scripts --no-audit --no-fund --silent
npm install --no-save --ignore-scripts --no-audit --no-fund --silent \
  esbuild esbuild-plugin-glsl esbuild-plugin-inline-css esbuild-plugin-environment stream-browserify
cp "$here/index-featviz.js" lib/index-featviz.js
NODE_PATH="$PWD/node_modules" node "$here/build.js" "$repo/featviz/chart/vendor/plotly-featviz.min.js" "$version"
