#!/usr/bin/env bash
# Starts the lab in the first play of the playbook, runs the role on the lab's machines, and stops the lab on exit.
set -eux
# setup_hvlab is a sibling target.
export ANSIBLE_ROLES_PATH=..
trap 'ansible-playbook -i "$INVENTORY_PATH" ../setup_hvlab/stop.yml' EXIT
ansible-playbook -i "$INVENTORY_PATH" test.yml "$@"
