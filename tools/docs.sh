#!/usr/bin/env bash
# Build the collection's documentation (module pages from their DOCUMENTATION, and the guides of docs/docsite) with
# antsibull-docs and Sphinx, failing on any warning. Output: .build/docs/build/html/index.html
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

ensure_tools_venv
link_collection
export PATH="$TOOLS_VENV/bin:$PATH"
out="$BUILD/docs"

log "antsibull-docs: lint the collection's docs"
(cd "$BUILD/collections/ansible_collections/hyperv/avma" && antsibull-docs lint-collection-docs --plugin-docs .)

log "antsibull-docs + Sphinx: build the docs site (warnings are errors)"
rm -rf "$out"
mkdir -p "$out/rst"
chmod og-w "$out/rst"
cp "$ROOT/tools/docs/conf.py" "$out/"
python "$ROOT/tools/docs/offline_inventory.py" "$out/ansible_offline.inv"
antsibull-docs --config-file "$ROOT/tools/docs/antsibull-docs.cfg" collection --use-current --fail-on-error \
  --cleanup everything --dest-dir "$out/rst" hyperv.avma
cp "$ROOT/tools/docs/index.rst" "$out/rst/index.rst"
sphinx-build -M html "$out/rst" "$out/build" -c "$out" -W --keep-going -q
log "docs built: $out/build/html/index.html"
