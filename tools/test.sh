#!/usr/bin/env bash
# The whole test suite: unit tests, the lab integration tests (real ansible-playbook runs over WinRM against the lab,
# which the tests start themselves), the execution environment, the docs build, ansible-lint and ansible-test sanity on
# ansible-core 2.19, then the unit tests and sanity again on ansible-core 2.18.
# Works on a fresh clone with only Python 3.11 installed.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

ensure_venv
ensure_tools_venv
ensure_shellcheck
ensure_chromium
ensure_poppler
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

log "ansible-core 2.18: unit tests and ansible-test sanity"
ensure_ansible_218_venv
(cd "$ROOT" && "$ANSIBLE_218_VENV/bin/pytest" -p no:cacheprovider -n 2 tests/unit)
staged_218="$BUILD/ansible-2.18/ansible_collections/hyperv/avma"
stage_collection "$staged_218"
(cd "$staged_218" && "$ANSIBLE_218_VENV/bin/ansible-test" sanity --venv --python 3.11 --color no)

log "all tests passed"
