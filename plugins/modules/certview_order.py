#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certview_order
short_description: Create or update a DigiCert enrollment or renewal order in Qualys Certificate View
version_added: 0.1.0
description:
  - Without O(uuid), creates an enrollment order, or a renewal order when
    O(renewal_of_certificate) is set, and returns its uuid.
  - With O(uuid), reads that order and brings it to the options the task sets.
    Only the options that are set are compared. Lists are compared without
    regard to order and hash names without regard to case. The module sends
    an update only when something differs.
  - An order can be edited only while its status is C(SUBMITTED). An order
    past that status that differs from the task makes the module fail with the
    API's reason (HTTP 409, error code 1920); one that matches is reported
    unchanged.
  - With O(auto_generate_csr=true), Certificate View generates the key and the
    CSR. The private key is part of the create response only, so the module
    writes it to O(private_key_path) with mode 0600 before it returns. The key
    never appears in the module result or the log.
notes:
  - The API has no call that lists orders, so the module cannot find an order
    it did not create in this run. Keep the returned uuid and pass it as
    O(uuid) on later runs. The role C(qualys.certview.certificate) stores it
    on the managed host right after the order is created.
  - If the create request may have reached Certificate View but no answer came
    back (a read timeout or a dropped connection), the module does not send it
    again and fails with a message saying that an order may now exist.
  - O(comment) is sent with every create and update but is not compared,
    because the API does not return it.
extends_documentation_fragment:
  - qualys.certview.connection
  - qualys.certview.attributes
attributes:
  check_mode:
    support: full
    details: In check mode no create or update request is sent. The order is read to predict the result.
  diff_mode:
    support: full
    details: The diff shows the options that differ, before and after.
  idempotent:
    support: partial
    details: With O(uuid) the module is idempotent. Without it every run creates a new order.
options:
  uuid:
    description:
      - UUID of an existing order to bring to the options that are set.
      - Without it the module creates a new order.
    type: str
  common_name:
    description:
      - Fully qualified domain name the certificate is for.
      - Must start with C(*.) for a wildcard product.
      - Required to create an order.
    type: str
  approver_user_names:
    description:
      - Certificate View users who may approve the order. Each must have the
        role approver, manager or PKI admin.
      - Required to create an order.
    type: list
    elements: str
  intermediate_ca:
    description:
      - The DigiCert public intermediate CA that issues the certificate. The CA
        must have a DigiCert API key configured in Certificate View.
      - Required to create an order. An existing order cannot move to another CA.
    type: dict
    suboptions:
      certhash:
        description: SHA-256 hash of the CA certificate, 64 hexadecimal characters.
        type: str
      common_name:
        description: Common name of the CA certificate.
        type: str
      serial_number:
        description: Serial number of the CA certificate.
        type: str
  csr:
    description:
      - PEM-encoded certificate signing request.
      - Set either O(csr) or O(auto_generate_csr=true) to create an order.
    type: str
  auto_generate_csr:
    description:
      - Let Certificate View generate the key and the CSR. The key is written to O(private_key_path).
      - Cannot be combined with O(csr).
    type: bool
  private_key_path:
    description:
      - File on the host that runs the module where the private key of a
        service-generated CSR is written, with mode 0600.
      - Required with O(auto_generate_csr=true) when an order is created. The
        file must not exist yet, so that the key of an earlier order is never
        overwritten.
    type: path
  organization_units:
    description: Organizational units (OU) of the certificate subject.
    type: list
    elements: str
  signature_hash:
    description:
      - Hash of the certificate signature. V(SHA-256), V(SHA-384) or V(SHA-512);
        case and the dash do not matter (V(sha256) is V(SHA-256)).
      - Required to create an order.
    type: str
  validity_years:
    description:
      - Validity in years, from 1 to 3.
      - Set exactly one of O(validity_years), O(validity_days) and O(custom_expiration_date) to create an order.
    type: int
  validity_days:
    description: Validity in days, from 1 to 397.
    type: int
  custom_expiration_date:
    description: Expiration date of the certificate, C(YYYY-MM-DD), in the future.
    type: str
  organization_id:
    description:
      - DigiCert organization id, as returned by M(qualys.certview.certview_digicert_info).
      - Required to create an order.
    type: int
  product_name_id:
    description:
      - DigiCert product id such as V(ssl_plus), as returned by M(qualys.certview.certview_digicert_info).
      - Required to create an order.
    type: str
  ev_approver_user_ids:
    description:
      - DigiCert EV approver ids. Required for an EV product.
    type: list
    elements: str
  renewal_of_certificate:
    description:
      - Certhash of the certificate to renew. Setting it makes the order a renewal.
      - The certificate must be a leaf in the Certificate View inventory, not
        already in renewal, and expire within 60 days.
      - An enrollment order cannot become a renewal, nor the other way round.
    type: str
  previous_order_id:
    description: DigiCert id of the order being renewed. Required with O(renewal_of_certificate).
    type: int
  comment:
    description: Comment sent with the order.
    type: str
author:
  - qualys.certview maintainers (@qualys)
"""

EXAMPLES = r"""
- name: Order a certificate for a CSR made on the host
  qualys.certview.certview_order:
    platform: US1
    username: "{{ certview_username }}"
    password: "{{ certview_password }}"
    common_name: www.example.com
    csr: "{{ lookup('ansible.builtin.file', 'www.example.com.csr') }}"
    approver_user_names: [pki_approver]
    intermediate_ca:
      common_name: DigiCert Global G2 TLS RSA SHA256 2020 CA1
    organization_id: 525858
    product_name_id: ssl_plus
    signature_hash: SHA-256
    validity_days: 397
  delegate_to: localhost
  register: order

- name: Let Certificate View make the key; keep it in a 0600 file
  qualys.certview.certview_order:
    common_name: api.example.com
    auto_generate_csr: true
    private_key_path: /etc/pki/private/api.example.com.key
    approver_user_names: [pki_approver]
    intermediate_ca:
      certhash: a52d05988b61a33d6ac3edb449eb47150fa5b7a26c7dfc4e61f905ca36e165ee
    organization_id: 525858
    product_name_id: private_ssl_plus
    signature_hash: SHA-384
    validity_years: 1
  delegate_to: localhost

- name: Add an approver to an order that is still SUBMITTED
  qualys.certview.certview_order:
    uuid: "{{ order.uuid }}"
    approver_user_names: [pki_approver, pki_manager]
  delegate_to: localhost

- name: Renew a certificate that expires within 60 days
  qualys.certview.certview_order:
    common_name: www.example.com
    csr: "{{ lookup('ansible.builtin.file', 'www.example.com.csr') }}"
    renewal_of_certificate: 3f8a1c0b9e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a
    previous_order_id: 123456789
    approver_user_names: [pki_approver]
    intermediate_ca:
      common_name: DigiCert Global G2 TLS RSA SHA256 2020 CA1
    organization_id: 525858
    product_name_id: ssl_plus
    signature_hash: SHA-256
    validity_days: 397
  delegate_to: localhost
"""

RETURN = r"""
uuid:
  description: UUID of the order. Null in check mode when an order would be created.
  returned: always
  type: str
  sample: cb95d100-ec30-11ea-920d-eb66140967e3
order:
  description:
    - The order as Certificate View returns it, with snake_case keys and
      without the private key. Null in check mode when an order would be created.
  returned: always
  type: dict
  sample:
    uuid: cb95d100-ec30-11ea-920d-eb66140967e3
    status: SUBMITTED
    ca_status: ""
    approver_user_names: [pki_approver]
    requester_user_name: pki_requester
    certificate:
      common_name: www.example.com
      organization_units: []
      signature_hash: SHA-256
      encoded_csr: "-----BEGIN CERTIFICATE REQUEST-----..."
      dns_names: null
    intermediate_ca:
      name: DigiCert Test SHA2 Intermediate CA-1
      certhash: a52d05988b61a33d6ac3edb449eb47150fa5b7a26c7dfc4e61f905ca36e165ee
    validity:
      validity_years: 1
      validity_days: null
      custom_expiration_date: null
    digicert_organization:
      id: 525858
    digicert_product_name_id: ssl_plus
    digicert_ev_approver_user_ids: null
    renewal: null
    created: "2020-09-01T08:54:50.473+0000"
    updated: "2020-09-01T08:54:50.473+0000"
private_key_path:
  description: File the private key of a service-generated CSR was written to.
  returned: when an order with O(auto_generate_csr=true) was created
  type: str
msg:
  description: What the module did, or would do in check mode.
  returned: always
  type: str
  sample: Created order cb95d100-ec30-11ea-920d-eb66140967e3 for www.example.com.
"""

from ansible_collections.qualys.certview.plugins.module_utils.api import CertViewError, OrderMayExistError, client_from_module
from ansible_collections.qualys.certview.plugins.module_utils.base import create_module, fail_with_error
from ansible_collections.qualys.certview.plugins.module_utils.keyfile import KeyFileError, ReservedKeyFile
from ansible_collections.qualys.certview.plugins.module_utils.orders import (
    EDITABLE_STATUSES,
    OrderInputError,
    build_create_body,
    build_update_body,
    compare_order,
    intermediate_ca_argument_spec,
    order_result,
    validate_order_options,
    validate_uuid,
)


def create_order(module, client, options):
    """Create an order, keeping the private key of a service-generated CSR."""
    common_name = options["common_name"]
    body = build_create_body(options)
    if module.check_mode:
        module.exit_json(changed=True, uuid=None, order=None, msg="Would create an order for %s." % common_name)

    key_file = None
    if options.get("auto_generate_csr"):
        key_file = ReservedKeyFile(module.params["private_key_path"])
        try:
            key_file.reserve()
        except KeyFileError as error:
            module.fail_json(msg=str(error))

    try:
        order = client.create_order(body)
    except OrderMayExistError as error:
        if key_file:
            key_file.discard()
        fail_with_error(module, error, "Creating the order for %s did not complete" % common_name)
    except CertViewError as error:
        if key_file:
            key_file.discard()
        fail_with_error(module, error, "Failed to create the order for %s" % common_name)

    uuid = order.get("uuid")
    result = dict(changed=True, uuid=uuid, msg="Created order %s for %s." % (uuid, common_name))
    if key_file:
        private_key = (order.get("certificate") or {}).get("privateKey")
        if not private_key:
            key_file.discard()
            module.fail_json(
                msg="Order %s was created, but the response carried no private key for the service-generated CSR. "
                "Cancel the order with qualys.certview.certview_order_status and create a new one." % uuid,
                changed=True,
                uuid=uuid,
            )
        module.no_log_values.add(private_key)
        key_file.write(private_key)
        result["private_key_path"] = key_file.path
    result["order"] = order_result(order)
    if module._diff:
        result["diff"] = dict(before={}, after=dict((name, value) for name, value in options.items() if value is not None))
    module.exit_json(**result)


def update_order(module, client, options):
    """Bring an existing order to the options the task sets."""
    uuid = module.params["uuid"]
    try:
        order = client.get_order(uuid)
    except CertViewError as error:
        fail_with_error(module, error, "Failed to read order %s" % uuid)

    before, after = compare_order(options, order)
    result = dict(uuid=uuid, order=order_result(order))
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    if not after:
        module.exit_json(changed=False, msg="Order %s already matches." % uuid, **result)

    status = order.get("status")
    differing = ", ".join(sorted(after))
    if module.check_mode:
        if "intermediate_ca" in after:
            module.fail_json(
                msg="Order %s cannot move to another intermediate CA (the API rejects the update with HTTP 400, error code 140002). "
                "Create a new order for the other CA." % uuid,
                changed=False,
                error_code="140002",
                **result
            )
        if status not in EDITABLE_STATUSES:
            module.fail_json(
                msg="Order %s is %s and can no longer be edited (the API rejects the update with HTTP 409, error code 1920). "
                "Options that differ: %s." % (uuid, status, differing),
                changed=False,
                error_code="1920",
                **result
            )
        module.exit_json(changed=True, msg="Would update %s of order %s." % (differing, uuid), **result)

    try:
        updated = client.update_order(uuid, build_update_body(options, order))
    except CertViewError as error:
        fail_with_error(module, error, "Failed to update %s of order %s (status %s)" % (differing, uuid, status), uuid=uuid)
    result["order"] = order_result(updated)
    module.exit_json(changed=True, msg="Updated %s of order %s." % (differing, uuid), **result)


def main():
    argument_spec = dict(
        uuid=dict(type="str"),
        common_name=dict(type="str"),
        approver_user_names=dict(type="list", elements="str"),
        intermediate_ca=intermediate_ca_argument_spec(),
        csr=dict(type="str"),
        auto_generate_csr=dict(type="bool"),
        private_key_path=dict(type="path", no_log=False),
        organization_units=dict(type="list", elements="str"),
        signature_hash=dict(type="str"),
        validity_years=dict(type="int"),
        validity_days=dict(type="int"),
        custom_expiration_date=dict(type="str"),
        organization_id=dict(type="int"),
        product_name_id=dict(type="str"),
        ev_approver_user_ids=dict(type="list", elements="str"),
        renewal_of_certificate=dict(type="str"),
        previous_order_id=dict(type="int"),
        comment=dict(type="str"),
    )
    module = create_module(
        argument_spec,
        mutually_exclusive=[("validity_years", "validity_days", "custom_expiration_date")],
        required_together=[("renewal_of_certificate", "previous_order_id")],
    )
    params = module.params
    creating = params["uuid"] is None
    if params["auto_generate_csr"] and params["csr"]:
        module.fail_json(
            msg="Options csr and auto_generate_csr=true cannot be combined: remove csr to let Certificate View generate the CSR, or drop auto_generate_csr."
        )
    if creating and params["auto_generate_csr"] and not params["private_key_path"]:
        module.fail_json(msg="Option private_key_path is required with auto_generate_csr=true: the private key is returned only when the order is created.")
    try:
        if not creating:
            params["uuid"] = validate_uuid(params["uuid"])
        options = validate_order_options(params, creating)
    except OrderInputError as error:
        module.fail_json(msg=str(error))

    client = client_from_module(module)
    if creating:
        create_order(module, client, options)
    else:
        update_order(module, client, options)


if __name__ == "__main__":
    main()
