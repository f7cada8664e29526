"""Fake receiver of the webhook destination (our own contract, mirrored by the sync adapter).

Contract:

* ``POST`` to any path, ``Content-Type: application/json``, body
  ``{"batch_id": "<hex>", "destination": "webhook", "sent_at": "<iso>",
  "records": [{"key": "<sync key>", "data": {...}}]}``;
* ``X-Leadscore-Signature: sha256=<hex HMAC-SHA256 of the raw body bytes with the secret>``
  (see ``sign``), checked with ``hmac.compare_digest``; missing or wrong → 401
  ``{"error": "invalid signature"}``, nothing applied;
* ``X-Leadscore-Delivery: <batch_id>`` is the idempotency key: a delivery that was already applied
  is acknowledged again with the first answer (200) and not re-applied;
* 200 ``{"accepted": <n>, "rejected": [{"key", "error"}]}``: records whose key is in
  ``reject_keys`` are rejected, the others applied;
* an erase event (a person asked to be forgotten): the same envelope with ``"event":
  "erase"`` and ``"records": [{"key"}]`` (no data); the receiver deletes what it holds for
  those keys and answers 200 ``{"erased": <n>}``;
* 400 ``{"error": "..."}`` for a body that is not JSON, lacks ``records``, has malformed records or
  a delivery header that is missing or differs from ``batch_id``; 415 for another content type;
* scripted/random faults, rate limit (429 + ``Retry-After``) and lost responses come from the base.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from tests.fakes.base import FakeService, IncomingRequest, Reply

SIGNATURE_HEADER = "X-Leadscore-Signature"
DELIVERY_HEADER = "X-Leadscore-Delivery"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Leadscore-Signature`` value of a raw request body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeWebhookReceiver(FakeService):
    """An HTTP endpoint that receives signed batches of sync records."""

    name = "fake-webhook"

    def __init__(
        self, secret: str, *, reject_keys: Iterable[str] | None = None, **base_kwargs: Any
    ) -> None:
        super().__init__(**base_kwargs)
        self.secret = secret
        self.reject_keys = set(reject_keys or ())
        self.duplicate_deliveries = 0
        self._records: dict[str, dict[str, Any]] = {}
        self._deliveries: list[str] = []
        self._answers: dict[str, dict[str, Any]] = {}
        self._received_keys: list[str] = []
        self.erased_keys: list[str] = []  # keys of every erase event, in order

    # -- state for assertions --------------------------------------------------------------------

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        """Snapshot: key → latest applied data."""
        with self._lock:
            return {key: dict(data) for key, data in self._records.items()}

    @property
    def deliveries(self) -> list[str]:
        """Delivery ids applied, in order (each once; re-deliveries count as duplicates)."""
        with self._lock:
            return list(self._deliveries)

    def received_keys(self) -> list[str]:
        """Keys of every applied record (rejected ones excluded), in order, duplicates kept."""
        with self._lock:
            return list(self._received_keys)

    # -- wire format -----------------------------------------------------------------------------

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {"error": "rate limited"}
        return {"error": "internal error" if status >= 500 else f"HTTP {status}"}

    def authorize(self, request: IncomingRequest) -> Reply | None:
        provided = request.headers.get(SIGNATURE_HEADER.lower(), "")
        expected = sign(self.secret, request.raw_body)
        if not hmac.compare_digest(provided.encode("utf-8", "replace"), expected.encode()):
            return Reply(401, {"error": "invalid signature"})
        return None

    def handle(self, request: IncomingRequest) -> Reply:
        if request.method != "POST":
            return Reply(
                405, {"error": f"method {request.method} not allowed"}, headers={"Allow": "POST"}
            )
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return Reply(415, {"error": "Content-Type must be application/json"})
        if request.json_error is not None:
            return Reply(400, {"error": f"invalid JSON: {request.json_error}"})
        body = request.json
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return Reply(400, {"error": "body must be a JSON object with a 'records' list"})
        erase = body.get("event") == "erase"
        if body.get("event") not in (None, "erase"):
            return Reply(400, {"error": f"unknown event {body.get('event')!r}"})
        for position, record in enumerate(records):
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("key"), str)
                or not (erase or isinstance(record.get("data"), dict))
            ):
                return Reply(
                    400, {"error": f"records[{position}] needs a string 'key' and an object 'data'"}
                )
        delivery = request.headers.get(DELIVERY_HEADER.lower())
        if not delivery:
            return Reply(400, {"error": f"missing {DELIVERY_HEADER} header"})
        if body.get("batch_id") != delivery:
            return Reply(400, {"error": f"{DELIVERY_HEADER} does not match batch_id"})

        if delivery in self._answers:
            self.duplicate_deliveries += 1
            return Reply(200, self._answers[delivery], outcome="duplicate")
        if erase:
            erased = [r["key"] for r in records if self._records.pop(r["key"], None) is not None]
            self.erased_keys.extend(r["key"] for r in records)
            answer = {"erased": len(erased)}
            self._answers[delivery] = answer
            self._deliveries.append(delivery)
            return Reply(200, answer, applied=True)
        rejected = []
        for record in records:
            key = record["key"]
            if key in self.reject_keys:
                rejected.append({"key": key, "error": "rejected by receiver"})
                continue
            self._records[key] = record["data"]
            self._received_keys.append(key)
        answer = {"accepted": len(records) - len(rejected), "rejected": rejected}
        self._answers[delivery] = answer
        self._deliveries.append(delivery)
        return Reply(200, answer, applied=True)
