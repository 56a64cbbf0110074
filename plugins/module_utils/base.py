# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build the AnsibleModule of a Certificate View module and report API errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.qualys.certview.plugins.module_utils import api


def create_module(argument_spec, mutually_exclusive=None, required_together=None, required_one_of=None, required_if=None, required_by=None):
    """Return an AnsibleModule with the connection options added to argument_spec.

    Fails at once when requests is missing, and warns when certificate
    validation is off.
    """
    spec = api.connection_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(
        argument_spec=spec,
        mutually_exclusive=list(api.CONNECTION_MUTUALLY_EXCLUSIVE) + list(mutually_exclusive or []),
        required_together=list(api.CONNECTION_REQUIRED_TOGETHER) + list(required_together or []),
        required_one_of=required_one_of or [],
        required_if=required_if or [],
        required_by=required_by or {},
        supports_check_mode=True,
    )
    if not api.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=api.REQUESTS_IMPORT_ERROR)
    if not module.params["validate_certs"]:
        module.warn(
            "validate_certs is false: the TLS certificate of the Certificate View gateway is not checked, "
            "so the credentials can be read by anyone between this host and the gateway."
        )
    return module


def fail_with_error(module, error, action, **result):
    """Fail the module run with the details of a CertViewError.

    action describes what the module was doing, for example "Failed to create the order".
    """
    details = error.to_result()
    details["msg"] = "%s: %s" % (action, details["msg"])
    details.update(result)
    details.setdefault("changed", False)
    module.fail_json(**details)
