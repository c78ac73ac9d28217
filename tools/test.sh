#!/usr/bin/env bash
# The whole test suite: unit tests, the lab integration tests (real ansible-playbook runs over WinRM against the lab,
# which the tests start themselves), the execution environment, the docs build, ansible-lint and ansible-test sanity.
# Works on a fresh clone with only Python 3.11 installed.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

ensure_venv
ensure_tools_venv
ensure_shellcheck
ensure_chromium
ensure_get_pip
link_collection
export PATH="$VENV/bin:$PATH" HYPERV_AVMA_TOOLS_BIN="$TOOLS_VENV/bin"

log "pytest: unit and lab integration tests"
# pytest exits 5 when it collected no test; set -e turns that, like any failure, into a failed run.
# --dist loadfile: the tests of one file share that file's lab fleet, so they run in one worker.
(cd "$ROOT" && pytest -p no:cacheprovider -n 2 --dist loadfile tests/unit tests/integration "$@")

"$ROOT/tools/docs.sh"

log "ansible-lint (production profile): roles and playbooks"
lint_paths=(playbooks/)
[ -d "$ROOT/roles" ] && lint_paths+=(roles/)
(cd "$ROOT" && "$TOOLS_VENV/bin/ansible-lint" --offline --profile production "${lint_paths[@]}")

log "ansible-test sanity (ansible-core $(ansible --version | head -1 | sed 's/.*core \([0-9.]*\).*/\1/'), Python 3.11)"
stage_collection
(cd "$STAGED" && ansible-test sanity --venv --python 3.11 --color no)

log "all tests passed"
