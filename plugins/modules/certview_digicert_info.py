#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certview_digicert_info
short_description: List the DigiCert organizations, products and EV approvers of an intermediate CA
version_added: 0.1.0
description:
  - Reads the DigiCert organizations, products and EV approvers that Qualys
    Certificate View offers for enrollment through one DigiCert intermediate CA.
  - The ids it returns are the values that M(qualys.certview.certview_order)
    takes in O(qualys.certview.certview_order#module:organization_id),
    O(qualys.certview.certview_order#module:product_name_id) and
    O(qualys.certview.certview_order#module:ev_approver_user_ids).
  - The module never changes anything.
options:
  intermediate_ca:
    description:
      - The DigiCert intermediate CA to ask about. Set at least one of the
        suboptions; when more than one is set, all of them must name the same CA.
    type: dict
    required: true
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
  gather:
    description:
      - Which lists to read. Each one is a separate API call.
    type: list
    elements: str
    choices: [organizations, products, ev_approvers]
    default: [organizations, products, ev_approvers]
extends_documentation_fragment:
  - qualys.certview.connection
  - qualys.certview.attributes
  - qualys.certview.attributes.info_module
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode changes nothing about what it does.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
author:
  - qualys.certview maintainers (@qualys)
"""

EXAMPLES = r"""
- name: Read the organizations, products and EV approvers of the DigiCert CA
  qualys.certview.certview_digicert_info:
    platform: US1
    username: "{{ certview_username }}"
    password: "{{ certview_password }}"
    intermediate_ca:
      common_name: DigiCert Test SHA2 Intermediate CA-1
  delegate_to: localhost
  register: digicert

- name: Use the id of the organization named "Qualys, Inc"
  ansible.builtin.set_fact:
    organization_id: "{{ (digicert.organizations | selectattr('name', 'equalto', 'Qualys, Inc') | first).id }}"

- name: Read only the products, naming the CA by its certhash
  qualys.certview.certview_digicert_info:
    gateway_url: https://gateway.qg2.apps.qualys.com
    token: "{{ certview_jwt }}"
    intermediate_ca:
      certhash: a52d05988b61a33d6ac3edb449eb47150fa5b7a26c7dfc4e61f905ca36e165ee
    gather: [products]
  delegate_to: localhost
  register: products
"""

RETURN = r"""
organizations:
  description: DigiCert organizations registered for the CA. Absent unless gathered.
  returned: when O(gather) contains C(organizations)
  type: list
  elements: dict
  contains:
    id:
      description: Organization id, the value of O(qualys.certview.certview_order#module:organization_id).
      type: int
      sample: 525858
    name:
      description: Organization name.
      type: str
      sample: Qualys, Inc
    display_name:
      description: Name DigiCert displays.
      type: str
    assumed_name:
      description: Assumed (DBA) name, or null.
      type: str
    status:
      description: DigiCert status of the organization, such as C(active).
      type: str
    active:
      description: Whether the organization can be used for orders.
      type: bool
products:
  description: DigiCert products available for the CA. Absent unless gathered.
  returned: when O(gather) contains C(products)
  type: list
  elements: dict
  contains:
    name_id:
      description: Product id, the value of O(qualys.certview.certview_order#module:product_name_id).
      type: str
      sample: ssl_ev_securesite
    name:
      description: Product name.
      type: str
      sample: Secure Site EV SSL
    group_name:
      description: Product group.
      type: str
    type:
      description: Product type, such as C(ssl_certificate).
      type: str
    ssl_certificate_type:
      description: Certificate type, or null.
      type: str
ev_approvers:
  description: EV approvers registered with DigiCert. Absent unless gathered.
  returned: when O(gather) contains C(ev_approvers)
  type: list
  elements: dict
  contains:
    user_id:
      description: Approver id, a string, for O(qualys.certview.certview_order#module:ev_approver_user_ids).
      type: str
      sample: "1541521"
    name:
      description: Full name.
      type: str
    first_name:
      description: First name.
      type: str
    last_name:
      description: Last name.
      type: str
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.qualys.certview.plugins.module_utils.api import CertViewError, client_from_module
from ansible_collections.qualys.certview.plugins.module_utils.base import create_module, fail_with_error
from ansible_collections.qualys.certview.plugins.module_utils.orders import (
    OrderInputError,
    intermediate_ca_argument_spec,
    intermediate_ca_body,
    validate_intermediate_ca,
)


def main():
    argument_spec = dict(
        intermediate_ca=intermediate_ca_argument_spec(required=True),
        gather=dict(
            type="list",
            elements="str",
            choices=["organizations", "products", "ev_approvers"],
            default=["organizations", "products", "ev_approvers"],
        ),
    )
    module = create_module(argument_spec)
    try:
        validate_intermediate_ca(module.params["intermediate_ca"])
    except OrderInputError as error:
        module.fail_json(msg=str(error))
    certificate_authority = intermediate_ca_body(module.params["intermediate_ca"])
    client = client_from_module(module)

    result = dict(changed=False)
    for name in ("organizations", "products", "ev_approvers"):
        if name not in module.params["gather"]:
            continue
        try:
            items = getattr(client, "list_" + name)(certificate_authority)
        except CertViewError as error:
            fail_with_error(module, error, "Failed to list the DigiCert %s" % name.replace("_", " "))
        result[name] = [camel_dict_to_snake_dict(item) for item in items]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
