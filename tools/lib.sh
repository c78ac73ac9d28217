#!/usr/bin/env bash
# Shared set-up steps of tools/test.sh and tools/demo.sh. Each step creates what it needs, so both work on a fresh
# clone with nothing installed but Python 3.11.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
TOOLS_VENV="$ROOT/.venv-tools"
BUILD="$ROOT/.build"
STAGED="$BUILD/ansible_collections/hyperv/avma"
# The ansible-core releases the test command covers, oldest first; each has its pinned
# tests/requirements-ansible-X.Y.txt. The main venv (.venv: pytest, the demo, ansible-test integration) runs the newest.
ANSIBLE_VERSIONS=(2.16 2.17 2.18 2.19 2.20 2.21)
ANSIBLE_OLDEST=${ANSIBLE_VERSIONS[0]}
ANSIBLE_NEWEST=${ANSIBLE_VERSIONS[-1]}

log() { printf '==> %s\n' "$*" >&2; }

# ansible_python VERSION: the Python minor version the test command runs ansible-core VERSION on. 2.20 and later need
# 3.12 or newer on the controller.
ansible_python() {
  case $1 in
    2.16 | 2.17 | 2.18 | 2.19) echo 3.11 ;;
    2.20) echo 3.12 ;;
    *) echo 3.13 ;;
  esac
}

# find_python MINOR: the path of a working pythonMINOR, from the PATH or from pyenv (whose shims on the PATH fail for
# a version that is installed but not selected).
find_python() {
  local minor=$1 candidate prefix
  candidate=$(command -v "python$minor" 2>/dev/null || true)
  if [ -n "$candidate" ] && "$candidate" -c '' 2>/dev/null; then
    echo "$candidate"
    return
  fi
  if command -v pyenv >/dev/null && prefix=$(pyenv prefix "$minor" 2>/dev/null) && [ -x "$prefix/bin/python$minor" ]; then
    echo "$prefix/bin/python$minor"
    return
  fi
  log "no Python $minor found: neither python$minor on the PATH nor \`pyenv prefix $minor\` gives a working interpreter; install it (e.g. \`pyenv install $minor\`)"
  return 1
}

# make_venv DIR REQUIREMENTS [PYTHON]: a virtual environment with pinned requirements, rebuilt when they or the
# interpreter change (the file, the shared runtime list it includes and the Python version).
# Two runs side by side wait for each other here instead of building the same venv at once.
make_venv() {
  local venv=$1 requirements=$2 python=${3:-$(find_python 3.11)} wanted lock
  [ -n "$python" ] || return 1
  wanted=$({ cat "$requirements" "$ROOT/tests/requirements-runtime.txt"; "$python" --version; } | sha256sum | cut -d' ' -f1)
  exec {lock}>"$venv.lock"
  flock "$lock"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$wanted" ]; then
    exec {lock}>&-
    return
  fi
  log "creating $venv with the pinned requirements of $(basename "$requirements")"
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$venv/.requirements.sha256"
  exec {lock}>&-
}

# ansible_venv VERSION: where the venv of ansible-core VERSION lives; the newest is the main venv.
ansible_venv() {
  if [ "$1" = "$ANSIBLE_NEWEST" ]; then echo "$VENV"; else echo "$ROOT/.venv-ansible-$1"; fi
}

ensure_ansible_venv() {
  local python
  python=$(find_python "$(ansible_python "$1")") || return 1
  make_venv "$(ansible_venv "$1")" "$ROOT/tests/requirements-ansible-$1.txt" "$python"
}

ensure_venv() { ensure_ansible_venv "$ANSIBLE_NEWEST"; }
# The Kerberos tools the transport tests need: a KDC and kadmin.local for the throwaway realm (tests/kerberos_realm.py),
# kinit, libkrb5-dev to build gssapi/krb5/pykerberos, faketime to skew kinit's clock. Debian packages; no service runs.
ensure_kerberos_tools() {
  apt_install krb5-kdc /usr/sbin/krb5kdc
  apt_install krb5-admin-server /usr/sbin/kadmin.local
  apt_install krb5-user kinit
  apt_install libkrb5-dev krb5-config
  apt_install faketime faketime
}

# ensure_auth_extras [VENV]: the authentication extras (tests/requirements-auth.txt) in VENV, the main venv by default;
# the test command also puts them into the oldest ansible-core's venv, where all integration tests run too. gssapi,
# krb5 and pykerberos build from source against libkrb5-dev (minutes on 2 cores) the first time for each Python
# version; pip keeps the wheels it built, so a venv rebuilt later gets them in seconds. Reinstalled when the file or
# the venv changes.
ensure_auth_extras() {
  local venv=${1:-$VENV} requirements="$ROOT/tests/requirements-auth.txt" wanted lock
  ensure_kerberos_tools
  wanted=$(cat "$requirements" "$venv/.requirements.sha256" | sha256sum | cut -d' ' -f1)
  exec {lock}>"$venv.lock"
  flock "$lock"
  if [ "$(cat "$venv/.auth-requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
    log "installing the authentication extras of $(basename "$requirements") into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$venv/.auth-requirements.sha256"
  fi
  exec {lock}>&-
}
ensure_tools_venv() { make_venv "$TOOLS_VENV" "$ROOT/tests/requirements-tools.txt"; }

# Collections are found under ansible_collections/<namespace>/<name>; ansible-playbook follows a symlink to the work tree.
# The link is made under a name of this process's own and renamed into place, which replaces the old link atomically:
# two runs side by side (two demos) never see it missing nor fail to create it. coreutils 9.1's `ln -sfn` does the
# same inside (strace: symlinkat to a temporary name, then renameat); older releases unlink the old link and then
# create the new one, and of two such runs at once one can fail with "File exists".
link_collection() {
  local parent="$BUILD/collections/ansible_collections/hyperv"
  mkdir -p "$parent"
  ln -sfn "$ROOT" "$parent/.avma.$$"
  mv -Tf "$parent/.avma.$$" "$parent/avma"
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

# ansible-test keeps its virtual environments in ~/.ansible/test/venv, shared by every run on the machine: two runs
# installing into one at once break each other's pip. A call waits until the other run's ansible-test has finished.
ansible_test() {
  local lock status=0
  mkdir -p "$HOME/.ansible/test"
  exec {lock}>"$HOME/.ansible/test/.hyperv-avma.lock"
  if ! flock -n "$lock"; then
    log "waiting for another run's ansible-test to finish (its virtual environments in ~/.ansible/test are shared)"
    flock "$lock"
  fi
  ansible-test "$@" || status=$?
  exec {lock}>&-
  return "$status"
}

# ansible-test bootstraps pip in its virtual environments with a script it downloads (get-pip 23.1.2 for ansible-core
# 2.16-2.17, 24.2 for 2.18-2.19, 25.2 for 2.20-2.21); where that host cannot be
# reached, a stand-in that uses ensurepip's bundled pip takes its place.
ensure_get_pip() {
  local version cache
  for version in 23.1.2 24.2 25.2; do
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
  # Another apt run on the machine holds the dpkg lock for a while: wait for it instead of failing.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$1" >/dev/null
}

ensure_chromium() { apt_install chromium chromium; }

# pdfinfo, pdftotext and pdftoppm check the report's print-to-PDF.
ensure_poppler() { apt_install poppler-utils pdftoppm; }

ensure_shellcheck() { apt_install shellcheck shellcheck; }
