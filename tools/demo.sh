#!/usr/bin/env bash
# The main job: start the lab's demo fleet (five Hyper-V hosts, 29 guests, five planted troubles), run the collection's
# site playbook against it over WinRM (host setup, guest activation, compliance report), print where the report is and
# its summary, and stop the lab. Works on a fresh clone with only Python 3.11 installed. Each run has a lab directory
# of its own (.lab/demo-XXXXXX: state, inventory, report) and free ports, so that runs side by side do not collide.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

FLEET=${FLEET:-$ROOT/tests/hvlab/fleets/demo.yml}
mkdir -p "$ROOT/.lab"
LAB_DIR=$(mktemp -d "$ROOT/.lab/demo-XXXXXX")
REPORT_DIR="$LAB_DIR/report"

ensure_venv
link_collection
export PATH="$VENV/bin:$PATH" PYTHONPATH="$ROOT/tests" ANSIBLE_NOCOLOR=1 ANSIBLE_FORKS=10

log "starting the lab fleet $(basename "$FLEET") in $LAB_DIR"
stop_lab() { python -m hvlab down --dir "$LAB_DIR" >/dev/null || log "could not stop the lab in $LAB_DIR"; }
trap stop_lab EXIT
python -m hvlab up "$FLEET" --dir "$LAB_DIR" --http-port 0 --https-port 0

# Host setup would turn Data Exchange back on; the demo leaves the planted trouble in place so the report shows it.
log "running hyperv.avma.site against the lab: host setup, guest activation, compliance report"
status=0
ansible-playbook -i "$LAB_DIR/inventory.yml" "$ROOT/playbooks/site.yml" \
  -e '{"host_setup_data_exchange": false}' -e "compliance_report_dir=$REPORT_DIR" || status=$?
if [ ! -s "$REPORT_DIR/avma-report.json" ]; then
  log "the site playbook ended with status $status and wrote no report"
  exit 1
fi
# Guests that cannot be activated fail their tasks (status 2); that is the planted trouble, and the report names it.

python - "$REPORT_DIR/avma-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
summary = report["summary"]
print()
print("AVMA compliance report: %d hosts (%d not read, %d not ready), %d VMs, %d compliant, %d not compliant, %d unknown, %d problems"
      % (summary["hosts"], summary["hosts_failed"], summary["hosts_not_ready"], summary["vms"], summary["compliant_vms"],
         summary["non_compliant_vms"], summary["unknown_vms"], summary["problems"]))
for problem in report["problems"]:
    print("  - %s: %s" % ("/".join(part for part in (problem["host"], problem["vm"]) if part), problem["message"]))
PY
log "report: $REPORT_DIR/avma-report.html (also .json, .csv and the monthly usage avma-usage.csv)"
log "stopping the lab; to run your own playbooks against it, start it as the README's section \"The lab\" shows"
