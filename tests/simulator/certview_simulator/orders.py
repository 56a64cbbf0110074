"""Stored enrollment and renewal orders, their JSON views and their lifecycle steps.

Lifecycle: SUBMITTED -> APPROVED -> POSTED (sent to the CA, caStatus "pending") -> ISSUED
(caStatus "issued"), or SUBMITTED -> REJECTED / CANCELLED. The steps after APPROVED are due at
fixed times that are set when the order is approved, and the state applies them when an order is
read, so no background thread is needed.
"""

import dataclasses
import datetime
from typing import List, Optional

from .timestamps import format_timestamp

SUBMITTED, APPROVED, POSTED, ISSUED = "SUBMITTED", "APPROVED", "POSTED", "ISSUED"
REJECTED, CANCELLED = "REJECTED", "CANCELLED"
TERMINAL_STATUSES = frozenset({ISSUED, REJECTED, CANCELLED})
# Statuses a status-change request may set.
REQUESTABLE_STATUSES = (APPROVED, CANCELLED, REJECTED)
CA_STATUS_BY_STATUS = {POSTED: "pending", ISSUED: "issued"}

# The update response spells the EV approver field differently from the create and view responses.
EV_FIELD_VIEW = "digicertEVApproverUserIds"
EV_FIELD_UPDATE = "digicertEVAApproverUserIds"


@dataclasses.dataclass
class Order:
    uuid: str
    ca_name: str
    ca_certhash: str
    approver_user_names: List[str]
    requester: str
    common_name: str
    organization_units: Optional[List[str]]
    signature_hash: str
    csr_pem: str
    auto_generated_csr: bool
    dns_names: Optional[List[str]]
    renewal: Optional[dict]
    validity: dict
    organization_id: int
    product_name_id: str
    ev_approver_user_ids: Optional[List[str]]
    comment: Optional[str]
    created: datetime.datetime
    updated: datetime.datetime
    status: str = SUBMITTED
    ca_status: str = ""
    posted_due: Optional[datetime.datetime] = None
    issued_due: Optional[datetime.datetime] = None
    issued_certhash: Optional[str] = None
    history: list = dataclasses.field(default_factory=list)

    @property
    def is_renewal(self):
        return self.renewal is not None

    def record(self, status, moment, user=None, comment=None):
        """Move the order to a status and append the step to its history."""
        self.status = status
        self.ca_status = CA_STATUS_BY_STATUS.get(status, self.ca_status)
        self.updated = moment
        self.history.append({"status": status, "time": format_timestamp(moment), "user": user, "comment": comment})

    def approve(self, moment, user, comment, post_delay, issue_delay):
        self.record(APPROVED, moment, user, comment)
        self.posted_due = moment + datetime.timedelta(seconds=post_delay)
        self.issued_due = self.posted_due + datetime.timedelta(seconds=issue_delay)

    def due_steps(self, now):
        """Return the statuses (POSTED, ISSUED) whose due time has passed, in order, with their due times."""
        steps = []
        status = self.status
        if status == APPROVED and self.posted_due is not None and now >= self.posted_due:
            steps.append((POSTED, self.posted_due))
            status = POSTED
        if status == POSTED and self.issued_due is not None and now >= self.issued_due:
            steps.append((ISSUED, self.issued_due))
        return steps

    def render(self, private_key=None, ev_field=EV_FIELD_VIEW):
        """Return the order as the API shows it. Only the create response passes private_key."""
        return {
            "uuid": self.uuid,
            "intermediateCA": {"name": self.ca_name, "certhash": self.ca_certhash},
            "approverUserNames": list(self.approver_user_names),
            "requesterUserName": self.requester,
            "certificate": {
                "commonName": self.common_name,
                "organizationUnits": list(self.organization_units) if self.organization_units is not None else None,
                "signatureHash": self.signature_hash,
                "encodedCSR": self.csr_pem,
                "privateKey": private_key,
                "dnsNames": list(self.dns_names) if self.dns_names else None,
            },
            "renewal": dict(self.renewal) if self.renewal is not None else None,
            "validity": {
                "validityYears": self.validity.get("validityYears"),
                "validityDays": self.validity.get("validityDays"),
                "customExpirationDate": self.validity.get("customExpirationDate"),
            },
            "digicertOrganization": {"id": self.organization_id},
            "digicertProductNameId": self.product_name_id,
            ev_field: list(self.ev_approver_user_ids) if self.ev_approver_user_ids is not None else None,
            "status": self.status,
            "caStatus": self.ca_status,
            "created": format_timestamp(self.created),
            "updated": format_timestamp(self.updated),
        }

    def render_admin(self, issued_pem=None):
        """Return the view plus the fields only the simulator stores: comment, history, issued certificate."""
        view = self.render()
        view["comment"] = self.comment
        view["autoGenerateCSR"] = self.auto_generated_csr
        view["history"] = [dict(step) for step in self.history]
        view["postedDue"] = format_timestamp(self.posted_due) if self.posted_due else None
        view["issuedDue"] = format_timestamp(self.issued_due) if self.issued_due else None
        view["issuedCertificate"] = {"certhash": self.issued_certhash, "pem": issued_pem} if self.issued_certhash else None
        return view
