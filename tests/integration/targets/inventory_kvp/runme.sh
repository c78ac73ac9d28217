#!/usr/bin/env bash
# The kvp inventory plugin against the lab: ansible-inventory lists the guests of the lab's Hyper-V host from their
# KVP data, and plays run with that inventory on the guests, through the groups the plugin made. Stops the lab on exit.
set -eux
# setup_hvlab is a sibling target.
export ANSIBLE_ROLES_PATH=..
trap 'ansible-playbook -i "$INVENTORY_PATH" ../setup_hvlab/stop.yml' EXIT
ansible-playbook -i "$INVENTORY_PATH" setup.yml "$@"
ansible-inventory -i "$OUTPUT_DIR/lab.kvp.yml" --graph guests_of_tghv > "$OUTPUT_DIR/graph.txt"
for guest in tg22 tg19dx tg22eval; do grep -qx -- "  |--$guest" "$OUTPUT_DIR/graph.txt"; done
ansible-playbook -i "$OUTPUT_DIR/lab.kvp.yml" guests.yml "$@"
