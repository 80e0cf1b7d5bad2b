#!/usr/bin/env bash
# Screenshots of the product page for the README: serves the demo ledger and lets headless
# Chromium (Debian's `chromium`) draw a refurbished item's page and a flagged item's page at a
# phone's width. Usage: scripts/screenshots.sh [OUTPUT_DIR]   (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
work=$(mktemp -d)
swift build --product retrace >/dev/null
bin=$(swift build --show-bin-path)/retrace
"$bin" serve --demo --db "$work/demo.sqlite" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "serving" "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
base=$(sed -n 's/.* at \(http[^ ]*\)\/$/\1/p' "$work/serve.out")
shoot() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
        --user-data-dir="$work/profile" --window-size=430,1500 --screenshot="$out/$1.png" "$base$2" 2>/dev/null
    echo "$out/$1.png  <-  $base$2"
}
shoot product-page-refurbished /01/09506000134352/21/NWX26A1185   # the demo's certified pre-owned phone
shoot product-page-recycled /01/09506000300146/21/NWT26A1074      # certified recycled, so any unit seen is a clone
shoot insights-page /insights                                     # return insights: rates, reasons, recovery, recalls
