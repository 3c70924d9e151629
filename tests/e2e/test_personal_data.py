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


def contact_of(services, customer_id: str):
    project(services)
    with services.read() as view:
        from projections import queries

        report = queries.customer_report(view, customer_id)
    return services.reveal([{"contact": report["contact"]}])[0]["contact"]


def test_contact_details_survive_a_rebuild_from_scratch_with_the_state_store_deleted(tmp_path):
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from domain import commands as c

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'events.db'}")
    services = bootstrap(settings)
    services.app.open_ticket(c.OpenTicket(customer_id="cust-1", channel="email", category="x", subject="s",
                                          contact=CONTACT))
    assert contact_of(services, "cust-1") == CONTACT
    services.close()
    for leftover in tmp_path.glob("projections.db*"):  # the operator drops the read models to rebuild
        leftover.unlink()

    services = bootstrap(settings)
    try:
        assert contact_of(services, "cust-1") == CONTACT, "the keys are not in the disposable state store"
    finally:
        services.close()


def test_keys_kept_in_the_state_store_by_earlier_versions_move_to_the_vault(tmp_path):
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from domain import commands as c
    from projections.store import StateStore

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'events.db'}")
    services = bootstrap(settings)
    services.app.open_ticket(c.OpenTicket(customer_id="cust-1", channel="email", category="x", subject="s",
                                          contact=CONTACT))
    with services.vault.store.transaction() as tx:  # where earlier versions kept the key
        keys = tx.fetchall("SELECT customer_id, key_b64 FROM customer_keys")
        tx.execute("DELETE FROM customer_keys")
    with services.state.transaction() as tx:
        tx.execute("CREATE TABLE customer_keys (customer_id TEXT PRIMARY KEY, key_b64 TEXT NOT NULL)")
        tx.executemany("INSERT INTO customer_keys VALUES (?, ?)", keys)
    services.close()

    services = bootstrap(settings)
    try:
        assert contact_of(services, "cust-1") == CONTACT
    finally:
        services.close()
    state = StateStore(settings.consumer_store_url)
    with state.transaction() as tx:
        assert not tx.fetchall("SELECT 1 FROM sqlite_master WHERE name = 'customer_keys'"), "moved, not copied"
    state.close()


def test_every_erasure_is_an_event_of_the_log_and_a_returning_customer_keeps_them(services, client, admin_key):
    from domain.access import Role

    client.post("/v1/tickets", json={"customer_id": "cust-7", "channel": "web", "category": "x", "subject": "s",
                                     "contact": CONTACT})
    first = client.delete("/v1/customers/cust-7/personal-data").json()
    assert first["had_personal_data"] is True and first["erased_by"] == "admin:admin" and first["number"] == 1
    # The customer comes back with new contact details, then is erased again by someone else.
    client.post("/v1/tickets", json={"customer_id": "cust-7", "channel": "web", "category": "x", "subject": "s",
                                     "contact": {"email": "new@example.org"}})
    other_admin, _ = services.keys.create(Role.ADMIN, "dpo")
    second = client.delete("/v1/customers/cust-7/personal-data",
                           headers={"Authorization": f"Bearer {other_admin}"}).json()
    assert second["number"] == 2 and second["erased_by"] == "admin:dpo"

    listed = client.get("/v1/audit/erasures", params={"customer_id": "cust-7"}).json()["erasures"]
    assert [(e["number"], e["erased_by"], e["had_personal_data"]) for e in listed] == [
        (1, "admin:admin", True), (2, "admin:dpo", True)], "each erasure keeps its own record"
    assert len(client.get("/v1/audit/erasures").json()["erasures"]) == 2
    erasure_events = [n for n in services.app.recorder.select_notifications(start=1, limit=10_000)
                      if n.topic.endswith("PersonalDataErasure.Erased")]
    assert len(erasure_events) == 2, "the erasures are in the log"
    for value in [*CONTACT.values(), "new@example.org"]:
        assert value.encode() not in b"".join(n.state for n in erasure_events), "no personal data in them"


def test_erasures_recorded_by_earlier_versions_become_events(tmp_path):
    from api.bootstrap import bootstrap
    from api.settings import Settings

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'events.db'}")
    services = bootstrap(settings)
    with services.state.transaction() as tx:  # the table earlier versions kept (one row per customer)
        tx.execute("CREATE TABLE customer_erasures (customer_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL, "
                   "erased_by TEXT NOT NULL)")
        tx.execute("INSERT INTO customer_erasures VALUES ('old-1', '2026-01-02T03:04:05+00:00', 'admin:root')")
    services.close()
    for _ in range(2):  # a second start records nothing twice
        services = bootstrap(settings)
        erasures = [e.describe() for e in services.app.erasures()]
        services.close()
        assert erasures == [{"customer_id": "old-1", "number": 1, "erased_at": "2026-01-02T03:04:05+00:00",
                             "erased_by": "admin:root", "had_personal_data": None}]


def test_store_files_are_created_readable_by_the_owner_only(tmp_path):
    import stat

    from api.bootstrap import bootstrap
    from api.settings import Settings
    from domain import commands as c

    home = tmp_path / "fresh" / "servicetrail"
    services = bootstrap(Settings(store_url=f"sqlite:///{home / 'events.db'}"))
    services.app.open_ticket(c.OpenTicket(customer_id="c", channel="web", category="x", subject="s",
                                          contact={"email": "c@example.org"}))
    project(services)
    services.close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    created = sorted(p.name for p in home.iterdir())
    assert {"events.db", "projections.db", "vault.db", "secret.key"} <= set(created), created
    for path in home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"
