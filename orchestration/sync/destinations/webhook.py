"""Webhook: signed JSON batches POSTed to a URL of your own. Configured by
LEADSCORE_WEBHOOK_URL and LEADSCORE_WEBHOOK_SECRET (the HMAC-SHA256 key)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from orchestration.sync.destinations.base import (
    DestinationConfig,
    DestinationSpec,
    HttpDestination,
    SyncConfigError,
    json_body,
    upsert_only,
)
from orchestration.sync.engine import Rejection, SyncRecord

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings


class WebhookDestination(HttpDestination):
    """JSON batches POSTed to the URL exactly as configured (its query string included, no
    slash added): ``{"batch_id", "destination", "sent_at", "records": [{"key", "data"}]}``,
    signed with HMAC-SHA256 over the body in ``X-Leadscore-Signature: sha256=<hex>``.
    ``X-Leadscore-Delivery`` (the batch id) is derived from the contents, so a batch sent
    again after a lost answer carries the same id and the receiver can drop it. 2xx
    acknowledges the batch, except the keys listed in an optional ``{"rejected": [{"key",
    "error"}]}`` answer."""

    name = "webhook"
    max_batch_size = 10_000

    def __init__(self, config: DestinationConfig, url: str, secret: str):
        upsert_only(config)
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise SyncConfigError("LEADSCORE_WEBHOOK_URL is not a valid URL") from error
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise SyncConfigError("LEADSCORE_WEBHOOK_URL must be an absolute http(s) URL")
        super().__init__(None, {"Content-Type": "application/json"})
        self.config = config
        self._url = parsed
        self._secret = secret.encode()

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        digest = hashlib.sha256()
        for record in batch:
            digest.update(f"{record.key}\x1f{record.payload_hash}\x1e".encode())
        answer = self._post(
            digest.hexdigest()[:32],
            {"records": [{"key": r.key, "data": dict(r.values)} for r in batch]},
        )
        rejected = answer.get("rejected", []) if isinstance(answer, dict) else []
        return [
            Rejection(
                str(r.get("key")), str(r.get("error", "rejected")), "rejected by the receiver"
            )
            for r in rejected
        ]

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """An erase event, signed like a batch: ``{"batch_id", "destination", "sent_at",
        "event": "erase", "records": [{"key"}]}``; the receiver deletes what it holds for
        those keys and answers 2xx."""
        if not keys:
            return 0
        digest = hashlib.sha256(("erase\x1e" + "\x1f".join(sorted(keys))).encode())
        self._post(
            digest.hexdigest()[:32], {"event": "erase", "records": [{"key": k} for k in keys]}
        )
        return len(keys)

    def _post(self, batch_id: str, content: dict[str, Any]) -> Any:
        body = json.dumps(
            {
                "batch_id": batch_id,
                "destination": self.config.destination,
                "sent_at": datetime.now(UTC).isoformat(),
                **content,
            },
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        response = self.request(
            "POST",
            self._url,
            content=body,
            headers={
                "X-Leadscore-Signature": f"sha256={signature}",
                "X-Leadscore-Delivery": batch_id,
            },
        )
        return json_body(response)


def build(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> WebhookDestination:
    return WebhookDestination(config, env["LEADSCORE_WEBHOOK_URL"], env["LEADSCORE_WEBHOOK_SECRET"])


DESTINATION = DestinationSpec(
    "webhook",
    "sync_webhook__leads",
    "webhook",
    "Signed JSON batches POSTed to LEADSCORE_WEBHOOK_URL (HMAC-SHA256 with "
    "LEADSCORE_WEBHOOK_SECRET).",
    build,
    required_env=("LEADSCORE_WEBHOOK_URL", "LEADSCORE_WEBHOOK_SECRET"),
)
