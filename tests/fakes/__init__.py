"""Local HTTP fakes of the sync destinations (HubSpot, Salesforce, webhook receiver).

Each fake is a real HTTP server on 127.0.0.1 that speaks the destination's wire format, records
every call and injects the failures the real service produces. See ``base.FakeService``.
"""

from __future__ import annotations

from tests.fakes.base import RANDOM_FAULT_STATUSES, FakeService, RecordedRequest
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.webhook import FakeWebhookReceiver, sign

__all__ = [
    "RANDOM_FAULT_STATUSES",
    "FakeHubSpot",
    "FakeSalesforce",
    "FakeService",
    "FakeWebhookReceiver",
    "RecordedRequest",
    "sign",
]
