#!/usr/bin/env bash
# The whole test suite, on the newest ansible-core (2.21, the main venv): the changelog fragments, ansible-lint on the
# whole repository, the docs build, galaxy-importer on the built tarball, unit tests, the lab integration tests (real
# ansible-playbook runs over WinRM against the lab, which the tests start themselves), the execution environment,
# ansible-test units, sanity and integration (tests/integration/targets, against the lab). Then the matrix: ansible-test units and sanity on
# every other ansible-core from 2.16 to 2.20, and all integration tests (pytest, with the Kerberos and CredSSP
# extras, and targets) on the oldest, 2.16.
# Works on a fresh clone with Python 3.11, 3.12 and 3.13 installed (on the PATH or through pyenv).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

ensure_venv
ensure_auth_extras
ensure_tools_venv
ensure_shellcheck
ensure_chromium
ensure_poppler
ensure_get_pip
link_collection
export HYPERV_AVMA_TOOLS_BIN="$TOOLS_VENV/bin"
started=$SECONDS
matrix=()

# step VERSION NAME COMMAND...: run COMMAND with ansible-core VERSION's venv first on the PATH, next to the Python it
# runs on (ansible-test --python X.Y looks pythonX.Y up on the PATH), and record its result and time for the matrix.
step() {
  local version=$1 name=$2 venv python begin status=0
  shift 2
  venv=$(ansible_venv "$version")
  python=$(find_python "$(ansible_python "$version")")
  log "ansible-core $version (Python $(ansible_python "$version")): $name"
  begin=$SECONDS
  PATH="$venv/bin:$(dirname "$python"):$PATH" "$@" || status=$?
  matrix+=("$(printf '%-6s %-8s %-22s %-6s %4ss' "$version" "$(ansible_python "$version")" "$name" \
    "$([ "$status" = 0 ] && echo pass || echo FAIL)" "$((SECONDS - begin))")")
  if [ "$status" != 0 ]; then
    print_matrix
    log "FAILED: ansible-core $version: $name"
    exit "$status"
  fi
}

print_matrix() {
  log "matrix (ansible-core, Python, step, result, time); $((SECONDS - started)) s in all"
  printf '%s\n' "${matrix[@]}" >&2
}

# pytest exits 5 when it collected no test; set -e turns that, like any failure, into a failed run.
# --dist loadfile: the tests of one file share that file's lab fleet, so they run in one worker.
# --durations: the slowest tests and what they cost (two demos side by side, the site playbook over every transport).
# Arguments of this script go to the first pytest run.
pytest_arguments=("$@")
# tests/integration/test_transports.py provisions its Kerberos realm itself; in these runs a missing requirement (a
# Python module of tests/requirements-auth.txt, a Kerberos tool, faketime) fails the test that needs it.
pytest_all() {
  (cd "$ROOT" && HYPERV_AVMA_REQUIRE_TRANSPORTS=1 pytest -p no:cacheprovider -n 2 --dist loadfile --durations=15 \
    tests/unit tests/integration tests/live "${pytest_arguments[@]}")
}

# units VERSION: ansible-test units in a copy of the collection of its own, as collection CI runs them: test files are
# imported as ansible_collections.hyperv.avma.tests.unit..., in a venv that gets tests/unit/requirements.txt.
units() {
  local staged="$BUILD/ansible-$1/ansible_collections/hyperv/avma"
  stage_collection "$staged"
  (cd "$staged" && ansible_test units --venv --requirements --python "$(ansible_python "$1")" --num-workers 2 --color no)
}

pytest_integration() {
  (cd "$ROOT" && HYPERV_AVMA_REQUIRE_TRANSPORTS=1 pytest -p no:cacheprovider -q -n 2 --dist loadfile --durations=15 \
    tests/integration "$@")
}

# sanity VERSION: ansible-test sanity in a copy of the collection of its own.
sanity() {
  local staged="$BUILD/ansible-$1/ansible_collections/hyperv/avma"
  stage_collection "$staged"
  (cd "$staged" && ansible_test sanity --venv --python "$(ansible_python "$1")" --color no)
}

# targets VERSION: ansible-test integration runs tests/integration/targets on the controller (its venv gets
# tests/integration/requirements.txt); setup_hvlab starts a lab
# fleet on loopback for them.
targets() {
  local staged="$BUILD/ansible-$1/ansible_collections/hyperv/avma"
  stage_collection "$staged"
  (cd "$staged" && ansible_test integration --venv --requirements --python "$(ansible_python "$1")" --color no)
}

lint() {
  # The whole repository; .ansible-lint names what is not Ansible content and why.
  (cd "$ROOT" && PATH="$TOOLS_VENV/bin:$PATH" ansible-lint --offline --profile production)
}

# galaxy-importer, the check Galaxy runs on upload, on the tarball ansible-galaxy builds. It exits 0 on warnings and
# even on some errors, so its log is read too: any WARNING or ERROR line fails the step.
galaxy_import() {
  local out="$BUILD/galaxy"
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$ROOT" && ansible-galaxy collection build --output-path "$out" >/dev/null)
  (cd "$out" && PATH="$TOOLS_VENV/bin:$PATH" python -m galaxy_importer.main hyperv-avma-*.tar.gz >importer.log 2>&1) || {
    cat "$out/importer.log" >&2
    return 1
  }
  if grep -E '^(WARNING|ERROR)' "$out/importer.log" >&2; then
    return 1
  fi
  grep -F 'Importer processing completed successfully' "$out/importer.log" >&2
}

# The changelog fragments, each parsed and checked against changelogs/config.yaml.
changelog_lint() {
  (cd "$ROOT" && "$TOOLS_VENV/bin/antsibull-changelog" lint)
}

# The quick static checks first, so that a broken fragment or doc fails in a minute, not after the long pytest run.
newest=$ANSIBLE_NEWEST
step "$newest" "changelog fragments" changelog_lint
step "$newest" "ansible-lint" lint
step "$newest" "docs" "$ROOT/tools/docs.sh"
step "$newest" "galaxy-importer" galaxy_import
step "$newest" "pytest unit+integration" pytest_all
step "$newest" "ansible-test units" units "$newest"
step "$newest" "sanity" sanity "$newest"
step "$newest" "integration targets" targets "$newest"
for version in "${ANSIBLE_VERSIONS[@]}"; do
  [ "$version" = "$newest" ] && continue
  ensure_ansible_venv "$version"
  step "$version" "ansible-test units" units "$version"
  step "$version" "sanity" sanity "$version"
done
ensure_auth_extras "$(ansible_venv "$ANSIBLE_OLDEST")"
step "$ANSIBLE_OLDEST" "pytest integration" pytest_integration
step "$ANSIBLE_OLDEST" "integration targets" targets "$ANSIBLE_OLDEST"

print_matrix
log "all tests passed"
