#!/usr/bin/env bash
# Shared set-up steps of tools/test.sh and tools/demo.sh. Each step creates what it needs, so both work on a fresh
# clone with nothing installed but Python 3.11.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
TOOLS_VENV="$ROOT/.venv-tools"
ANSIBLE_218_VENV="$ROOT/.venv-ansible-2.18"
BUILD="$ROOT/.build"
STAGED="$BUILD/ansible_collections/hyperv/avma"
PYTHON=${PYTHON:-python3.11}

log() { printf '==> %s\n' "$*" >&2; }

# make_venv DIR REQUIREMENTS: a virtual environment with pinned requirements, rebuilt when they change (the file and
# the shared runtime list it includes).
# Two runs side by side wait for each other here instead of building the same venv at once.
make_venv() {
  local venv=$1 requirements=$2 wanted lock
  wanted=$(cat "$requirements" "$ROOT/tests/requirements-runtime.txt" | sha256sum | cut -d' ' -f1)
  exec {lock}>"$venv.lock"
  flock "$lock"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$wanted" ]; then
    exec {lock}>&-
    return
  fi
  log "creating $venv with the pinned requirements of $(basename "$requirements")"
  "$PYTHON" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$venv/.requirements.sha256"
  exec {lock}>&-
}

ensure_venv() { make_venv "$VENV" "$ROOT/tests/requirements.txt"; }
ensure_tools_venv() { make_venv "$TOOLS_VENV" "$ROOT/tests/requirements-tools.txt"; }
ensure_ansible_218_venv() { make_venv "$ANSIBLE_218_VENV" "$ROOT/tests/requirements-ansible-2.18.txt"; }

# Collections are found under ansible_collections/<namespace>/<name>; ansible-playbook follows a symlink to the work tree.
link_collection() {
  mkdir -p "$BUILD/collections/ansible_collections/hyperv"
  ln -sfn "$ROOT" "$BUILD/collections/ansible_collections/hyperv/avma"
  export ANSIBLE_COLLECTIONS_PATH="$BUILD/collections"
}

# ansible-test insists that its working directory really is ansible_collections/<namespace>/<name>, so it gets a copy
# of the files git knows about (committed or not, minus the ignored ones), in $STAGED or the directory given. The copy
# gets a git index of its own:
# ansible-test lists a collection's files with git, and the work tree's git ignores .build.
stage_collection() {
  local staged=${1:-$STAGED}
  rm -rf "$staged"
  mkdir -p "$staged"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$staged"
  (cd "$staged" && git init --quiet && git add --all)
}

# ansible-test bootstraps pip in its virtual environments with a script it downloads; where that host cannot be
# reached, a stand-in that uses ensurepip's bundled pip takes its place.
ensure_get_pip() {
  local version cache
  for version in 24.2 23.1.2; do
    cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
    [ -s "$cache" ] && continue
    mkdir -p "$(dirname "$cache")"
    if curl -fsSL --max-time 15 -o "$cache.download" "https://ci-files.testing.ansible.com/ansible-test/get-pip-$version.py" 2>/dev/null; then
      mv "$cache.download" "$cache"
    else
      rm -f "$cache.download"
      log "get-pip $version could not be downloaded; using the ensurepip stand-in"
      cp "$ROOT/tools/get_pip_standin.py" "$cache"
    fi
  done
}

# apt_install PACKAGE COMMAND: install a Debian package unless COMMAND is already on the PATH.
apt_install() {
  command -v "$2" >/dev/null && return
  log "installing $1 (Debian package)"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

ensure_chromium() { apt_install chromium chromium; }

# pdfinfo, pdftotext and pdftoppm check the report's print-to-PDF.
ensure_poppler() { apt_install poppler-utils pdftoppm; }

ensure_shellcheck() { apt_install shellcheck shellcheck; }
