# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the collection's docs build (tools/docs.sh): the generated module pages and the guides
of docs/docsite. Built offline: links into the Ansible docs resolve through ansible_offline.inv (see
offline_inventory.py) instead of downloading Ansible's inventory."""

import os

project = "hyperv.avma"
copyright = "hyperv.avma contributors"  # pylint: disable=redefined-builtin
title = "hyperv.avma Collection Documentation"
html_short_title = title

extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_modindex = False
html_use_index = False
html_copy_source = False
default_role = "any"
nitpicky = True

intersphinx_mapping = {
    "ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", os.path.join(os.path.dirname(os.path.abspath(__file__)), "ansible_offline.inv")),
}
