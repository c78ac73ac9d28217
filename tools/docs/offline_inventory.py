# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a Sphinx inventory of the Ansible docs labels that the collection's pages link to.

The docs build runs without network access, so Sphinx cannot download Ansible's own inventory; this one lists the
labels antsibull-docs' templates and our docs refer to. A link to a label missing here fails the build (-W), and the
label is then added below.
"""
import sys
import zlib

LABELS = {
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings", "Ansible Configuration Settings"),
    "playbooks_delegation": ("playbook_guide/playbooks_delegation.html#playbooks-delegation", "Controlling where tasks run"),
    "module_defaults": ("playbook_guide/playbooks_module_defaults.html#module-defaults", "Module defaults"),
    "windows_winrm": ("os_guide/windows_winrm.html#windows-winrm", "Windows Remote Management"),
    "ansible_collections.ansible.builtin.debug_module": ("collections/ansible/builtin/debug_module.html", "ansible.builtin.debug module"),
    "ansible_collections.ansible.builtin.winrm_connection": ("collections/ansible/builtin/winrm_connection.html", "ansible.builtin.winrm connection"),
    "ansible_collections.ansible.builtin.psrp_connection": ("collections/ansible/builtin/psrp_connection.html", "ansible.builtin.psrp connection"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
}

# Ansible's configuration environment variables that plugin pages link to (their cache options, for example).
ENVIRONMENT_VARIABLES = ("ANSIBLE_CACHE_PLUGIN", "ANSIBLE_CACHE_PLUGIN_CONNECTION", "ANSIBLE_CACHE_PLUGIN_PREFIX", "ANSIBLE_CACHE_PLUGIN_TIMEOUT")


def main(path):
    entries = "".join("%s std:label -1 %s %s\n" % (label, uri, title) for label, (uri, title) in sorted(LABELS.items()))
    entries += "".join("%s std:envvar -1 reference_appendices/config.html#envvar-%s -\n" % (name, name) for name in ENVIRONMENT_VARIABLES)
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
    with open(path, "wb") as inventory:
        inventory.write(header.encode() + zlib.compress(entries.encode()))


if __name__ == "__main__":
    main(sys.argv[1])
