#!/usr/bin/env bash
# The main job: start the lab fleet, run the collection's activation report playbook against it over WinRM, and
# print the report. Works on a fresh clone with only Python 3.11 installed. The lab keeps running afterwards so that
# you can run your own playbooks against it; stop it with:
#   PYTHONPATH=tests .venv/bin/python -m hvlab down --dir .lab/demo
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

FLEET=${FLEET:-$ROOT/tests/hvlab/fleets/foundation.yml}
LAB_DIR="$ROOT/.lab/demo"

ensure_venv
link_collection
export PATH="$VENV/bin:$PATH" PYTHONPATH="$ROOT/tests" ANSIBLE_NOCOLOR=1

log "starting the lab fleet $(basename "$FLEET") in $LAB_DIR"
python -m hvlab down --dir "$LAB_DIR" >/dev/null 2>&1 || true
python -m hvlab up "$FLEET" --dir "$LAB_DIR"

log "running hyperv.avma's activation report against the lab"
ansible-playbook -i "$LAB_DIR/inventory.yml" "$ROOT/playbooks/activation_report.yml"

log "the lab is still running: inventory $LAB_DIR/inventory.yml, admin $(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$LAB_DIR/admin.json")"
