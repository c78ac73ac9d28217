# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Methods of the Software Licensing classes (SoftwareLicensingService, SoftwareLicensingProduct).

slmgr.vbs calls RefreshLicenseStatus after every change; it asks the service to re-evaluate licenses and returns 0.
In the lab the state is always current, so it changes nothing and is not counted as a write.
"""

from .methods import MethodResult, method


def refresh_license_status(_call):
    """SoftwareLicensingService.RefreshLicenseStatus(): always 0."""
    return MethodResult(0)


METHODS = (
    method("root/cimv2", "SoftwareLicensingService", "RefreshLicenseStatus", refresh_license_status),
)
