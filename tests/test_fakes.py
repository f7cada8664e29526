"""The HTTP fakes of the sync destinations enforce what they claim (wire formats, limits, faults).

Each test talks to a fake over real HTTP with httpx, as the sync adapters do.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fakes import FakeHubSpot, FakeSalesforce, FakeWebhookReceiver, sign

TOKEN = "pat-na1-test-token"
SECRET = "webhook-secret"
HS_UPSERT = "/crm/v3/objects/contacts/batch/upsert"
SF_UPSERT = "/services/data/v60.0/composite/sobjects/Lead/Leadscore_Id__c"
SF_UPDATE = "/services/data/v60.0/composite/sobjects"


def hs_input(email: str, **properties: Any) -> dict[str, Any]:
    return {"idProperty": "email", "id": email, "properties": properties}


def lead(external_id: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "Leadscore_Id__c": external_id, **fields}


def client_for(fake: Any, *, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=timeout
    )


def post_batch(
    client: httpx.Client,
    records: list[dict[str, Any]],
    *,
    batch_id: str | None = None,
    secret: str = SECRET,
    signature: str | None = None,
    body: bytes | None = None,
) -> httpx.Response:
    batch_id = batch_id or uuid.uuid4().hex
    if body is None:
        payload = {
            "batch_id": batch_id,
            "destination": "webhook",
            "sent_at": datetime.now(UTC).isoformat(),
            "records": records,
        }
        body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Leadscore-Delivery": batch_id,
        "X-Leadscore-Signature": signature if signature is not None else sign(secret, body),
    }
    return client.post("/", content=body, headers=headers)


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(TOKEN) as fake:
        yield fake


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(TOKEN, reject_values={"Lead_Stage__c": "forbidden"}) as fake:
        yield fake


# -- HubSpot ----------------------------------------------------------------------------------


def test_hubspot_rejects_missing_or_wrong_token(hubspot: FakeHubSpot) -> None:
    body = {"inputs": [hs_input("a@example.com", firstname="A")]}
    missing = httpx.post(hubspot.base_url + HS_UPSERT, json=body)
    wrong = httpx.post(
        hubspot.base_url + HS_UPSERT, json=body, headers={"Authorization": "Bearer other"}
    )

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["category"] == "INVALID_AUTHENTICATION"
        assert response.json()["status"] == "error"
        assert response.json()["message"].startswith("Authentication credentials not found.")
    assert hubspot.contacts == {}
    assert hubspot.applied_calls == 0
    assert [(r.status, r.outcome) for r in hubspot.requests] == [(401, "rejected")] * 2


def test_hubspot_upsert_creates_then_merges(hubspot: FakeHubSpot) -> None:
    with client_for(hubspot) as client:
        first = client.post(
            HS_UPSERT,
            json={
                "inputs": [
                    hs_input("a@example.com", leadscore_lead_score=42, leadscore_hot=True),
                    hs_input("b@example.com", leadscore_lead_score="7"),
                ]
            },
        )
        second = client.post(
            HS_UPSERT, json={"inputs": [hs_input("a@example.com", leadscore_segment="smb")]}
        )

    assert first.status_code == 200
    assert first.json()["status"] == "COMPLETE"
    created = first.json()["results"]
    assert [r["new"] for r in created] == [True, True]
    assert all(r["id"].isdigit() for r in created)
    assert created[0]["id"] != created[1]["id"]
    assert created[0]["properties"]["leadscore_hot"] == "true"
    assert second.status_code == 200
    updated = second.json()["results"][0]
    assert updated["new"] is False
    assert updated["id"] == created[0]["id"]
    assert hubspot.contacts["a@example.com"] == {
        "leadscore_lead_score": "42",
        "leadscore_hot": "true",
        "email": "a@example.com",
        "leadscore_segment": "smb",
    }
    assert hubspot.received_ids() == ["a@example.com", "b@example.com", "a@example.com"]
    assert hubspot.applied_calls == 2


def test_hubspot_batch_size_empty_and_duplicate_ids_are_rejected(hubspot: FakeHubSpot) -> None:
    with client_for(hubspot) as client:
        too_many = client.post(
            HS_UPSERT, json={"inputs": [hs_input(f"c{i}@example.com") for i in range(101)]}
        )
        empty = client.post(HS_UPSERT, json={"inputs": []})
        duplicated = client.post(
            HS_UPSERT,
            json={"inputs": [hs_input("d@example.com"), hs_input("d@example.com", x="1")]},
        )
        assert hubspot.contacts == {}
        exactly_100 = client.post(
            HS_UPSERT, json={"inputs": [hs_input(f"c{i}@example.com") for i in range(100)]}
        )

    assert too_many.status_code == 400
    assert too_many.json()["category"] == "VALIDATION_ERROR"
    assert too_many.json()["message"] == (
        "The maximum number of inputs supported in a batch is 100. "
        "Please reduce the number of items and try again"
    )
    assert empty.status_code == 400
    assert duplicated.status_code == 400
    assert duplicated.json()["message"] == (
        "Duplicate IDs found in batch input: [d@example.com]. IDs must be unique"
    )
    assert exactly_100.status_code == 200
    assert len(hubspot.contacts) == 100


def test_hubspot_invalid_values_reject_the_whole_batch() -> None:
    with (
        FakeHubSpot(TOKEN, known_properties={"firstname", "leadscore_lead_score"}) as hubspot,
        client_for(hubspot) as client,
    ):
        bad_email = client.post(
            HS_UPSERT,
            json={"inputs": [hs_input("ok@example.com", firstname="Ok"), hs_input("not-an-email")]},
        )
        unknown_property = client.post(
            HS_UPSERT, json={"inputs": [hs_input("ok@example.com", leadscore_bogus="1")]}
        )
        not_unique = client.post(
            HS_UPSERT,
            json={"inputs": [{"idProperty": "firstname", "id": "Ok", "properties": {}}]},
        )

        assert bad_email.status_code == 400
        assert bad_email.json()["category"] == "VALIDATION_ERROR"
        assert bad_email.json()["message"] == (
            'Property values were not valid: [{"isValid":false,"message":"Email address '
            'not-an-email is invalid","error":"INVALID_EMAIL","name":"email"}]'
        )
        assert unknown_property.status_code == 400
        assert 'Property \\"leadscore_bogus\\" does not exist' in unknown_property.json()["message"]
        assert "PROPERTY_DOESNT_EXIST" in unknown_property.json()["message"]
        assert not_unique.status_code == 400
        assert hubspot.contacts == {}  # the valid input of the first batch was not applied either
        assert hubspot.received_ids() == []


def test_hubspot_upsert_by_custom_unique_property_finds_the_same_contact() -> None:
    with (
        FakeHubSpot(TOKEN, unique_properties={"email", "leadscore_contact_id"}) as hubspot,
        client_for(hubspot) as client,
    ):
        by_email = client.post(
            HS_UPSERT, json={"inputs": [hs_input("e@example.com", leadscore_contact_id="c-1")]}
        )
        by_custom = client.post(
            HS_UPSERT,
            json={
                "inputs": [
                    {
                        "idProperty": "leadscore_contact_id",
                        "id": "c-1",
                        "properties": {"leadscore_grade": "A"},
                    }
                ]
            },
        )

    assert by_custom.json()["results"][0]["new"] is False
    assert by_custom.json()["results"][0]["id"] == by_email.json()["results"][0]["id"]
    assert hubspot.contacts == {
        "e@example.com": {
            "leadscore_contact_id": "c-1",
            "email": "e@example.com",
            "leadscore_grade": "A",
        }
    }


def test_hubspot_rolling_rate_limit_answers_429_with_the_real_body() -> None:
    with FakeHubSpot(TOKEN, rate_limit=(2, 0.4)) as hubspot, client_for(hubspot) as client:
        statuses = [
            client.post(HS_UPSERT, json={"inputs": [hs_input(f"r{i}@example.com")]})
            for i in range(3)
        ]
        time.sleep(0.45)
        after_window = client.post(HS_UPSERT, json={"inputs": [hs_input("late@example.com")]})

    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert limited.json()["errorType"] == "RATE_LIMIT"
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert limited.headers["X-HubSpot-RateLimit-Max"] == "2"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in limited.headers
    assert statuses[1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert after_window.status_code == 200
    assert hubspot.received_ids() == ["r0@example.com", "r1@example.com", "late@example.com"]


# -- faults shared by every fake --------------------------------------------------------------


def test_fail_next_answers_before_processing(hubspot: FakeHubSpot) -> None:
    hubspot.fail_next(429, times=2, retry_after="3")
    hubspot.fail_next(500, body={"oops": True})
    body = {"inputs": [hs_input("f@example.com")]}
    with client_for(hubspot) as client:
        responses = [client.post(HS_UPSERT, json=body) for _ in range(4)]

    assert [r.status_code for r in responses] == [429, 429, 500, 200]
    assert responses[0].headers["Retry-After"] == "3"
    assert responses[0].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert responses[2].json() == {"oops": True}
    assert "Retry-After" not in responses[2].headers
    assert hubspot.received_ids() == ["f@example.com"]
    assert [r.outcome for r in hubspot.requests] == ["scripted_fault"] * 3 + ["applied"]


def test_timeout_applies_nothing_and_the_next_call_works() -> None:
    with FakeHubSpot(TOKEN, timeout_seconds=0.5) as hubspot:
        hubspot.fail_next_with_timeout()
        body = {"inputs": [hs_input("t@example.com")]}
        with client_for(hubspot, timeout=0.15) as client, pytest.raises(httpx.ReadTimeout):
            client.post(HS_UPSERT, json=body)
        assert hubspot.contacts == {}
        with client_for(hubspot) as client:
            assert client.post(HS_UPSERT, json=body).status_code == 200
        deadline = time.monotonic() + 2
        while hubspot.requests[0].status is None and time.monotonic() < deadline:
            time.sleep(0.02)

        assert (hubspot.requests[0].status, hubspot.requests[0].outcome) == (504, "timeout")
        assert hubspot.received_ids() == ["t@example.com"]


def test_lost_response_applies_the_change_and_resending_is_idempotent() -> None:
    with FakeHubSpot(TOKEN, lost_response_rate=1.0) as hubspot, client_for(hubspot) as client:
        body = {"inputs": [hs_input("l@example.com", leadscore_lead_score=80)]}
        first = client.post(HS_UPSERT, json=body)
        object_id = hubspot.object_id("l@example.com")
        snapshot = hubspot.contacts
        hubspot.lost_response_rate = 0.0
        again = client.post(HS_UPSERT, json=body)

    assert first.status_code == 502
    assert snapshot == {"l@example.com": {"leadscore_lead_score": "80", "email": "l@example.com"}}
    assert again.status_code == 200
    assert again.json()["results"][0]["new"] is False
    assert again.json()["results"][0]["id"] == object_id
    assert hubspot.contacts == snapshot
    assert hubspot.received_ids() == ["l@example.com", "l@example.com"]
    assert [r.outcome for r in hubspot.requests] == ["lost_response", "applied"]


def test_random_faults_are_reproducible_and_apply_nothing() -> None:
    runs = []
    for _ in range(2):
        with (
            FakeHubSpot(TOKEN, failure_rate=0.5, seed=7) as hubspot,
            client_for(hubspot) as client,
        ):
            responses = [
                client.post(HS_UPSERT, json={"inputs": [hs_input(f"n{i}@example.com")]})
                for i in range(30)
            ]
            runs.append([r.status_code for r in responses])
            ok = [f"n{i}@example.com" for i, r in enumerate(responses) if r.status_code == 200]
            assert sorted(hubspot.contacts) == sorted(ok)
            assert all("Retry-After" not in r.headers for r in responses if r.status_code == 429)

    assert runs[0] == runs[1]
    assert set(runs[0]) <= {200, 429, 500, 502, 503}
    assert 5 < runs[0].count(200) < 25
    assert len(set(runs[0]) - {200}) >= 2


def test_delay_and_concurrent_requests() -> None:
    with FakeHubSpot(TOKEN, delay_seconds=0.1) as hubspot, client_for(hubspot) as client:
        statuses: list[int] = []

        def upsert(i: int) -> None:
            response = client.post(HS_UPSERT, json={"inputs": [hs_input(f"p{i}@example.com")]})
            statuses.append(response.status_code)

        started = time.monotonic()
        threads = [threading.Thread(target=upsert, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        assert statuses == [200] * 16
        assert 0.1 <= elapsed < 0.8  # 16 calls of 0.1 s each, served in parallel (1.6 s in series)
        assert len(hubspot.contacts) == 16
        assert len({hubspot.object_id(f"p{i}@example.com") for i in range(16)}) == 16


def test_stopped_fake_refuses_connections_and_restarts_with_its_state() -> None:
    hubspot = FakeHubSpot(TOKEN)
    with hubspot, client_for(hubspot) as client:
        client.post(HS_UPSERT, json={"inputs": [hs_input("s@example.com")]})
    with pytest.raises(httpx.ConnectError):
        httpx.post(hubspot.base_url + HS_UPSERT, json={"inputs": []}, timeout=1)
    with hubspot:
        assert hubspot.running
        assert list(hubspot.contacts) == ["s@example.com"]


# -- Salesforce -------------------------------------------------------------------------------


def test_salesforce_rejects_a_bad_session(salesforce: FakeSalesforce) -> None:
    response = httpx.patch(
        salesforce.base_url + SF_UPSERT,
        json={"allOrNone": False, "records": [lead("1")]},
        headers={"Authorization": "Bearer expired"},
    )

    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert salesforce.records == {}


def test_salesforce_upsert_creates_then_updates(salesforce: FakeSalesforce) -> None:
    with client_for(salesforce) as client:
        first = client.patch(
            SF_UPSERT,
            json={"allOrNone": False, "records": [lead("1", Lead_Score__c=42), lead("2")]},
        )
        # API names are case-insensitive on the real API, like the dbt model's lower-case columns
        second = client.patch(
            SF_UPSERT, json={"records": [lead("1", segment__c="SMB", lead_score__c=50)]}
        )

    assert first.status_code == 200
    results = first.json()
    assert [(r["success"], r["created"], r["errors"]) for r in results] == [(True, True, [])] * 2
    assert all(len(r["id"]) == 18 and r["id"].startswith("00Q") for r in results)
    assert second.json() == [
        {"id": results[0]["id"], "success": True, "errors": [], "created": False}
    ]
    assert salesforce.records[("Lead", "1")] == {
        "Id": results[0]["id"],
        "Leadscore_Id__c": "1",
        "Lead_Score__c": 50,
        "Segment__c": "SMB",
    }
    assert salesforce.received_ids("Lead") == ["1", "2", "1"]
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"


def test_salesforce_per_record_errors_leave_the_other_records_applied(
    salesforce: FakeSalesforce,
) -> None:
    records = [
        lead("ok", Segment__c="x" * 255),
        lead("long", Segment__c="x" * 256),
        lead("mail", Email="nobody-at-example"),
        lead("rule", Lead_Stage__c="forbidden"),
    ]
    with client_for(salesforce) as client:
        response = client.patch(SF_UPSERT, json={"allOrNone": False, "records": records})

    assert response.status_code == 200
    results = response.json()
    assert [r["success"] for r in results] == [True, False, False, False]
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert results[1]["errors"][0]["fields"] == ["Segment__c"]
    assert results[2]["errors"] == [
        {
            "statusCode": "INVALID_EMAIL_ADDRESS",
            "message": "Email: invalid email address: nobody-at-example",
            "fields": ["Email"],
        }
    ]
    assert results[3]["errors"][0]["statusCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "id" not in results[1]
    assert list(salesforce.records) == [("Lead", "ok")]
    assert salesforce.received_ids("Lead") == ["ok"]

    salesforce.reject_values.clear()  # the admin relaxes the validation rule
    with client_for(salesforce) as client:
        retried = client.patch(SF_UPSERT, json={"records": [records[3]]})
    assert retried.json()[0]["success"] is True
    assert salesforce.records[("Lead", "rule")]["Lead_Stage__c"] == "forbidden"


def test_salesforce_all_or_none_rolls_back_everything(salesforce: FakeSalesforce) -> None:
    with client_for(salesforce) as client:
        client.patch(SF_UPSERT, json={"records": [lead("1", Lead_Score__c=10)]})
        response = client.patch(
            SF_UPSERT,
            json={
                "allOrNone": True,
                "records": [lead("1", Lead_Score__c=99), lead("2", Email="bad")],
            },
        )

    assert response.status_code == 200
    rolled_back, failed = response.json()
    assert rolled_back["success"] is False
    assert rolled_back["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert failed["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert salesforce.records[("Lead", "1")]["Lead_Score__c"] == 10
    assert ("Lead", "2") not in salesforce.records
    assert salesforce.received_ids("Lead") == ["1"]


def test_salesforce_whole_request_errors_apply_nothing(salesforce: FakeSalesforce) -> None:
    with client_for(salesforce) as client:
        unknown_object = client.patch(
            "/services/data/v60.0/composite/sobjects/Widget__c/Leadscore_Id__c",
            json={"records": [{"attributes": {"type": "Widget__c"}, "Leadscore_Id__c": "1"}]},
        )
        unknown_field = client.patch(
            SF_UPSERT, json={"records": [lead("1"), lead("2", Bogus__c="x")]}
        )
        too_many = client.patch(SF_UPSERT, json={"records": [lead(str(i)) for i in range(201)]})
        wrong_type = client.patch(
            SF_UPSERT,
            json={"records": [{"attributes": {"type": "Contact"}, "Leadscore_Id__c": "1"}]},
        )

    assert unknown_object.status_code == 404
    assert unknown_object.json() == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]
    assert unknown_field.status_code == 400
    assert unknown_field.json() == [
        {
            "message": "No such column 'Bogus__c' on sobject of type Lead",
            "errorCode": "INVALID_FIELD",
        }
    ]
    assert too_many.status_code == 400
    assert too_many.json() == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    assert wrong_type.status_code == 400
    assert salesforce.records == {}


def test_salesforce_update_by_id(salesforce: FakeSalesforce) -> None:
    with client_for(salesforce) as client:
        created = client.patch(SF_UPSERT, json={"records": [lead("1"), lead("2")]}).json()
        deleted_id = salesforce.delete_record("Lead", "2")
        response = client.patch(
            SF_UPDATE,
            json={
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Lead"}, "Id": created[0]["id"], "Lead_Score__c": 7},
                    {"attributes": {"type": "Lead"}, "id": "00QDn0000000zzzAAA", "Status": "x"},
                    {"attributes": {"type": "Lead"}, "Id": deleted_id, "Status": "x"},
                    {"attributes": {"type": "Lead"}, "Id": "not-an-id", "Status": "x"},
                ],
            },
        )

    assert response.status_code == 200
    results = response.json()
    assert results[0] == {"id": created[0]["id"], "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in results[1:]] == [
        "INVALID_CROSS_REFERENCE_KEY",
        "ENTITY_IS_DELETED",
        "MALFORMED_ID",
    ]
    assert salesforce.records[("Lead", "1")]["Lead_Score__c"] == 7
    assert ("Lead", "2") not in salesforce.records


def test_salesforce_rate_limit_window_and_daily_limit() -> None:
    body = {"records": [lead("1")]}
    with FakeSalesforce(TOKEN, rate_limit=(1, 0.3)) as salesforce, client_for(salesforce) as c:
        first, limited = c.patch(SF_UPSERT, json=body), c.patch(SF_UPSERT, json=body)
    with FakeSalesforce(TOKEN, daily_limit=2) as salesforce, client_for(salesforce) as c:
        daily = [c.patch(SF_UPSERT, json=body).status_code for _ in range(3)]
        over = c.patch(SF_UPSERT, json=body)

    assert (first.status_code, limited.status_code) == (200, 429)
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert daily == [200, 200, 403]
    assert over.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert salesforce.received_ids("Lead") == ["1", "1"]


# -- webhook receiver -------------------------------------------------------------------------


def test_webhook_checks_the_signature_of_the_raw_body() -> None:
    records = [{"key": "k1", "data": {"score": 1}}, {"key": "k2", "data": {"score": 2}}]
    with FakeWebhookReceiver(SECRET) as receiver, httpx.Client(base_url=receiver.base_url) as c:
        unsigned = post_batch(c, records, signature="")
        wrong_secret = post_batch(c, records, secret="not-the-secret")
        tampered_body = json.dumps({"batch_id": "b1", "records": records}).encode()
        tampered = c.post(
            "/",
            content=tampered_body.replace(b'"score": 1', b'"score": 9'),
            headers={
                "Content-Type": "application/json",
                "X-Leadscore-Delivery": "b1",
                "X-Leadscore-Signature": sign(SECRET, tampered_body),
            },
        )
        assert receiver.records == {}
        signed = post_batch(c, records, batch_id="b2")

    for response in (unsigned, wrong_secret, tampered):
        assert response.status_code == 401
        assert response.json() == {"error": "invalid signature"}
    assert signed.status_code == 200
    assert signed.json() == {"accepted": 2, "rejected": []}
    assert receiver.records == {"k1": {"score": 1}, "k2": {"score": 2}}
    assert receiver.deliveries == ["b2"]


def test_webhook_rejected_keys_and_malformed_bodies() -> None:
    with (
        FakeWebhookReceiver(SECRET, reject_keys={"bad"}) as receiver,
        httpx.Client(base_url=receiver.base_url) as c,
    ):
        partial = post_batch(
            c, [{"key": "good", "data": {"a": 1}}, {"key": "bad", "data": {"a": 2}}]
        )
        not_json = post_batch(c, [], body=b"{not json")
        no_records = post_batch(c, [], body=json.dumps({"batch_id": "x"}).encode())

    assert partial.status_code == 200
    assert partial.json()["accepted"] == 1
    assert [r["key"] for r in partial.json()["rejected"]] == ["bad"]
    assert receiver.records == {"good": {"a": 1}}
    assert not_json.status_code == 400
    assert "error" in not_json.json()
    assert no_records.status_code == 400
    assert receiver.received_keys() == ["good"]


def test_webhook_redelivery_is_acknowledged_without_reapplying() -> None:
    records = [{"key": "k1", "data": {"score": 1}}]
    with (
        FakeWebhookReceiver(SECRET, lost_response_rate=1.0) as receiver,
        httpx.Client(base_url=receiver.base_url) as c,
    ):
        lost = post_batch(c, records, batch_id="d1")
        receiver.lost_response_rate = 0.0
        again = post_batch(c, records, batch_id="d1")

    assert lost.status_code == 502
    assert again.status_code == 200
    assert again.json() == {"accepted": 1, "rejected": []}
    assert receiver.duplicate_deliveries == 1
    assert receiver.deliveries == ["d1"]
    assert receiver.received_keys() == ["k1"]
    assert [r.outcome for r in receiver.requests] == ["lost_response", "duplicate"]


# -- HubSpot: properties API and batch read / update / create ---------------------------------

HS_PROPERTIES = "/crm/v3/properties/contacts"


def test_hubspot_properties_api_lists_creates_and_refuses_duplicates() -> None:
    with FakeHubSpot(TOKEN, known_properties=set()) as hubspot, client_for(hubspot) as client:
        listed = client.get(HS_PROPERTIES)
        missing_group = client.get(f"{HS_PROPERTIES}/groups/leadscore")
        group = client.post(
            f"{HS_PROPERTIES}/groups", json={"name": "leadscore", "label": "Lead scoring"}
        )
        group_again = client.post(
            f"{HS_PROPERTIES}/groups", json={"name": "leadscore", "label": "Lead scoring"}
        )
        definition = {
            "name": "leadscore_lead_score",
            "label": "Lead score",
            "type": "number",
            "fieldType": "number",
            "groupName": "leadscore",
        }
        created = client.post(HS_PROPERTIES, json=definition)
        duplicate = client.post(HS_PROPERTIES, json=definition)
        bad_field_type = client.post(
            HS_PROPERTIES, json={**definition, "name": "leadscore_x", "fieldType": "textarea"}
        )
        unknown_group = client.post(
            HS_PROPERTIES, json={**definition, "name": "leadscore_y", "groupName": "nope"}
        )
        incomplete = client.post(HS_PROPERTIES, json={"name": "leadscore_z"})
        one = client.get(f"{HS_PROPERTIES}/leadscore_lead_score")
        absent = client.get(f"{HS_PROPERTIES}/leadscore_grade")
        write_known = client.post(
            HS_UPSERT, json={"inputs": [hs_input("a@example.com", leadscore_lead_score=3)]}
        )
        write_unknown = client.post(
            HS_UPSERT, json={"inputs": [hs_input("a@example.com", leadscore_grade="A")]}
        )

    names = {p["name"] for p in listed.json()["results"]}
    assert {"email", "firstname", "hs_object_id"} <= names
    assert not any(name.startswith("leadscore_") for name in names)
    assert missing_group.status_code == 404
    assert missing_group.json()["category"] == "OBJECT_NOT_FOUND"
    assert group.status_code == 201 and group_again.status_code == 409
    assert created.status_code == 201
    assert created.json()["type"] == "number" and created.json()["groupName"] == "leadscore"
    assert duplicate.status_code == 409
    assert duplicate.json()["message"] == "Property named 'leadscore_lead_score' already exists."
    assert bad_field_type.status_code == 400 and unknown_group.status_code == 400
    assert incomplete.status_code == 400
    assert "label" in incomplete.json()["message"]
    assert one.status_code == 200 and absent.status_code == 404
    assert write_known.status_code == 200
    assert write_unknown.status_code == 400
    assert "PROPERTY_DOESNT_EXIST" in write_unknown.json()["message"]


def test_hubspot_batch_read_update_and_create_never_create_what_they_should_not() -> None:
    with FakeHubSpot(TOKEN) as hubspot, client_for(hubspot) as client:
        known = hubspot.add_contact("known@example.com", firstname="Kim")
        read = client.post(
            f"{HS_UPSERT.rsplit('/', 1)[0]}/read",
            json={
                "idProperty": "email",
                "inputs": [{"id": "Known@Example.com"}, {"id": "new@example.com"}],
                "properties": ["email"],
            },
        )
        update = client.post(
            "/crm/v3/objects/contacts/batch/update",
            json={
                "inputs": [
                    {"id": known, "properties": {"leadscore_grade": "A"}},
                    {"id": "99999999", "properties": {"leadscore_grade": "B"}},
                ]
            },
        )
        by_email = client.post(
            "/crm/v3/objects/contacts/batch/update",
            json={
                "inputs": [
                    {"id": "known@example.com", "idProperty": "email", "properties": {"x": "1"}}
                ]
            },
        )
        create = client.post(
            "/crm/v3/objects/contacts/batch/create",
            json={"inputs": [{"properties": {"email": "new@example.com", "leadscore_grade": "C"}}]},
        )
        conflict = client.post(
            "/crm/v3/objects/contacts/batch/create",
            json={
                "inputs": [
                    {"properties": {"email": "other@example.com"}},
                    {"properties": {"email": "known@example.com"}},
                ]
            },
        )

    assert read.status_code == 207
    assert [r["id"] for r in read.json()["results"]] == [known]
    assert read.json()["results"][0]["properties"]["email"] == "known@example.com"
    [error] = read.json()["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"] == {"ids": ["new@example.com"]}
    assert update.status_code == 207
    assert update.json()["errors"][0]["context"] == {"ids": ["99999999"]}
    assert hubspot.contacts["known@example.com"]["leadscore_grade"] == "A"
    assert by_email.status_code == 400
    assert "non-unique" in by_email.json()["message"]
    assert create.status_code == 201
    assert conflict.status_code == 409
    assert conflict.json()["category"] == "CONFLICT"
    assert conflict.json()["message"] == f"Contact already exists. Existing ID: {known}"
    assert set(hubspot.contacts) == {"known@example.com", "new@example.com"}
    assert hubspot.received_ids() == ["known@example.com", "new@example.com"]


# -- Salesforce: describe, query, create, OAuth -------------------------------------------------

SF_API = "/services/data/v60.0"
SF_TOKEN_PATH = "/services/oauth2/token"


def test_salesforce_describe_and_query_find_records_by_external_id(
    salesforce: FakeSalesforce,
) -> None:
    first = salesforce.add_record("Lead", "C-1", LastName="One")
    salesforce.add_record("Lead", "O'Neil", LastName="Two")
    with client_for(salesforce) as client:
        describe = client.get(f"{SF_API}/sobjects/Lead/describe")
        unknown_object = client.get(f"{SF_API}/sobjects/Widget__c/describe")
        found = client.get(
            f"{SF_API}/query",
            params={
                "q": "SELECT Id, Leadscore_Id__c FROM Lead "
                "WHERE Leadscore_Id__c IN ('C-1', 'O\\'Neil', 'C-404')"
            },
        )
        unknown_field = client.get(
            f"{SF_API}/query", params={"q": "SELECT Id FROM Lead WHERE Bogus__c IN ('x')"}
        )
        malformed = client.get(f"{SF_API}/query", params={"q": "SELECT FROM"})

    fields = {f["name"]: f for f in describe.json()["fields"]}
    assert describe.status_code == 200 and describe.json()["name"] == "Lead"
    assert fields["Leadscore_Id__c"]["externalId"] is True
    assert fields["Lead_Score__c"]["updateable"] is True
    assert fields["Id"]["updateable"] is False
    assert unknown_object.status_code == 404
    assert found.status_code == 200
    body = found.json()
    assert (body["totalSize"], body["done"]) == (2, True)
    assert {(r["Id"], r["Leadscore_Id__c"]) for r in body["records"]} == {
        (first, "C-1"),
        (salesforce.records[("Lead", "O'Neil")]["Id"], "O'Neil"),
    }
    assert body["records"][0]["attributes"]["type"] == "Lead"
    assert unknown_field.status_code == 400
    assert unknown_field.json()[0]["errorCode"] == "INVALID_FIELD"
    assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_salesforce_create_refuses_an_existing_external_id_per_record(
    salesforce: FakeSalesforce,
) -> None:
    salesforce.add_record("Lead", "C-1")
    with client_for(salesforce) as client:
        response = client.post(
            f"{SF_API}/composite/sobjects",
            json={"allOrNone": False, "records": [lead("C-2", LastName="New"), lead("C-1")]},
        )
    created, duplicate = response.json()
    assert response.status_code == 200
    assert created["success"] is True and created["id"].startswith("00Q")
    assert duplicate["success"] is False
    assert duplicate["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert {key for (_, key) in salesforce.records} == {"C-1", "C-2"}


def test_salesforce_oauth_token_endpoint_and_sessions_that_expire() -> None:
    with FakeSalesforce(
        None,
        client_id="cid",
        client_secret="csecret",
        refresh_token="rtoken",
        token_lifetime_calls=1,
    ) as salesforce:

        def token(**form: str) -> httpx.Response:
            return httpx.post(salesforce.base_url + SF_TOKEN_PATH, data=form)

        good = token(
            grant_type="refresh_token", client_id="cid", client_secret="csecret",
            refresh_token="rtoken",
        )  # fmt: skip
        revoked = token(
            grant_type="refresh_token", client_id="cid", client_secret="csecret",
            refresh_token="old",
        )  # fmt: skip
        wrong_client = token(grant_type="refresh_token", client_id="x", refresh_token="rtoken")
        wrong_secret = token(
            grant_type="refresh_token", client_id="cid", client_secret="no",
            refresh_token="rtoken",
        )  # fmt: skip
        password = token(grant_type="password", client_id="cid")
        no_credentials_flow = token(
            grant_type="client_credentials", client_id="cid", client_secret="csecret"
        )
        access = good.json()["access_token"]
        describe = f"{salesforce.base_url}{SF_API}/sobjects/Lead/describe"
        headers = {"Authorization": f"Bearer {access}"}
        first = httpx.get(describe, headers=headers)
        expired = httpx.get(describe, headers=headers)

    assert good.status_code == 200
    assert good.json()["token_type"] == "Bearer"
    assert good.json()["instance_url"] == salesforce.base_url
    assert {"access_token", "issued_at", "signature", "id"} <= set(good.json())
    for response, error in (
        (revoked, "invalid_grant"),
        (wrong_client, "invalid_client_id"),
        (wrong_secret, "invalid_client"),
        (password, "unsupported_grant_type"),
        (no_credentials_flow, "invalid_grant"),
    ):
        assert response.status_code == 400
        assert response.json()["error"] == error
    assert first.status_code == 200
    assert expired.status_code == 401
    assert expired.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert salesforce.tokens_issued == ["refresh_token"]


# -- erasure ------------------------------------------------------------------------------------


def test_hubspot_gdpr_delete_by_email_or_record_id(hubspot: FakeHubSpot) -> None:
    gdpr = "/crm/v3/objects/contacts/gdpr-delete"
    keep = hubspot.add_contact("keep@acme.com")
    gone = hubspot.add_contact("Jane@Acme.com", firstname="Jane")
    by_id = hubspot.add_contact("id@acme.com")
    with client_for(hubspot) as client:
        by_email = client.post(gdpr, json={"objectId": "jane@acme.com", "idProperty": "email"})
        unknown = client.post(gdpr, json={"objectId": "nobody@acme.com", "idProperty": "email"})
        record = client.post(gdpr, json={"objectId": by_id})
        missing = client.post(gdpr, json={"objectId": "999"})
        bad = client.post(gdpr, json={"objectId": "x", "idProperty": "firstname"})
        read_again = client.post(
            "/crm/v3/objects/contacts/batch/read",
            json={"idProperty": "email", "inputs": [{"id": "jane@acme.com"}], "properties": []},
        )

    assert [by_email.status_code, unknown.status_code, record.status_code] == [204, 204, 204]
    assert by_email.content == b""
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert bad.status_code == 400
    assert set(hubspot.contacts) == {"keep@acme.com"}
    assert hubspot.object_id("keep@acme.com") == keep and hubspot.object_id("Jane@Acme.com") is None
    assert gone not in {hubspot.object_id(k) for k in hubspot.contacts}
    assert hubspot.blocklist == {"jane@acme.com", "nobody@acme.com"}
    assert read_again.status_code == 207


def test_salesforce_deletes_records_by_id_with_sobject_collections(
    salesforce: FakeSalesforce,
) -> None:
    first = salesforce.add_record("Lead", "1", LastName="One", Company="A")
    second = salesforce.add_record("Lead", "2", LastName="Two", Company="A")
    with client_for(salesforce) as client:
        response = client.delete(
            SF_UPDATE, params={"ids": f"{first},{second},00QDn0000000zzzAAA,bad"}
        )
        again = client.delete(SF_UPDATE, params={"ids": first})
        rolled = client.delete(SF_UPDATE, params={"ids": f"{first}", "allOrNone": "true"})
        none = client.delete(SF_UPDATE)

    assert response.status_code == 200
    results = response.json()
    assert [r["success"] for r in results] == [True, True, False, False]
    assert [r["id"] for r in results[:2]] == [first, second]
    assert [r["errors"][0]["statusCode"] for r in results[2:]] == [
        "INVALID_CROSS_REFERENCE_KEY",
        "MALFORMED_ID",
    ]
    assert again.json()[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert rolled.json()[0]["success"] is False
    assert none.status_code == 400 and none.json()[0]["errorCode"] == "MISSING_ARGUMENT"
    assert salesforce.records == {}


def test_webhook_erase_event_deletes_what_the_receiver_holds() -> None:
    with FakeWebhookReceiver(SECRET) as receiver, client_for(receiver) as client:
        post_batch(client, [{"key": "1", "data": {"email": "a@b.co"}}, {"key": "2", "data": {}}])
        body = json.dumps(
            {"batch_id": "e1", "destination": "webhook", "sent_at": "2026-01-01T00:00:00+00:00",
             "event": "erase", "records": [{"key": "1"}, {"key": "9"}]}
        ).encode()  # fmt: skip
        erased = post_batch(client, [], batch_id="e1", body=body)
        unsigned = post_batch(client, [], batch_id="e2", body=body, signature="sha256=00")
        unknown = post_batch(
            client, [], batch_id="e3",
            body=json.dumps({"batch_id": "e3", "event": "purge", "records": []}).encode(),
        )  # fmt: skip

    assert erased.status_code == 200 and erased.json() == {"erased": 1}
    assert unsigned.status_code == 401
    assert unknown.status_code == 400
    assert set(receiver.records) == {"2"}
    assert receiver.erased_keys == ["1", "9"]
