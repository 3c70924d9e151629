"""Personal data end to end: sealed per customer from the first write, readable while the key
exists, unreadable everywhere after erasure (including projections rebuilt afterwards), while
the history keeps its shape and every hash still verifies."""

from __future__ import annotations

from api.bootstrap import projection_handlers
from consumers.rebuild import rebuild

CONTACT = {"name": "Ana Pereira", "email": "ana.pereira@example.org", "phone": "+351 912 345 678",
           "address": "Rua das Flores 12, Porto"}


def stored_bytes(services) -> bytes:
    return b"".join(n.state for n in services.app.recorder.select_notifications(start=1, limit=10_000))


def project(services) -> None:
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    services.checkpointer().run_until_caught_up()


def test_contact_details_are_sealed_readable_and_then_erased_everywhere(services, client):
    created = client.post("/v1/tickets", json={"customer_id": "cust-9", "channel": "email", "category": "billing",
                                               "subject": "refund", "contact": CONTACT})
    assert created.status_code == 201
    ticket = created.json()["ticket_id"]
    client.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "ana"})
    project(services)

    for value in CONTACT.values():
        assert value.encode() not in stored_bytes(services), "never stored in clear"
    assert client.get(f"/v1/tickets/{ticket}").json()["contact"] == CONTACT
    assert client.get("/v1/customers/cust-9/history").json()["contact"] == CONTACT
    assert client.get("/v1/tickets").json()["tickets"][0]["contact"] == CONTACT

    erased = client.delete("/v1/customers/cust-9/personal-data")
    assert erased.status_code == 200 and erased.json()["had_personal_data"] is True

    assert client.get(f"/v1/tickets/{ticket}").json()["contact"] == {"erased": True}
    history = client.get("/v1/customers/cust-9/history").json()
    assert history["contact"] == {"erased": True} and len(history["tickets"]) == 1, "structure kept"
    rebuild(projection_handlers()[0], lambda h: services.projector(h, source="embedded"))
    assert client.get("/v1/tickets").json()["tickets"][0]["contact"] == {"erased": True}
    assert client.get("/v1/audit/verify").json()["intact"] is True, "hashes still verify"
    events = client.get(f"/v1/tickets/{ticket}/events").json()["events"]
    assert "ciphertext" in events[0]["contact"] and len(events) == 2


def test_erasing_one_customer_leaves_the_others_readable(services, client):
    for customer in ("a", "b"):
        client.post("/v1/tickets", json={"customer_id": customer, "channel": "web", "category": "x", "subject": "s",
                                         "contact": {"email": f"{customer}@example.org"}})
    project(services)
    client.delete("/v1/customers/a/personal-data")
    assert client.get("/v1/customers/a/history").json()["contact"] == {"erased": True}
    assert client.get("/v1/customers/b/history").json()["contact"] == {"email": "b@example.org", "name": None,
                                                                        "phone": None, "address": None}


def test_a_sealed_value_cannot_be_moved_to_another_customer(services):
    sealed = services.vault.seal("a", b'{"email": "a@example.org"}')
    services.vault.seal("b", b"{}")
    moved = sealed.model_copy(update={"key_owner": "b"})
    assert services.vault.unseal(sealed) is not None
    assert services.vault.unseal(moved) is None
