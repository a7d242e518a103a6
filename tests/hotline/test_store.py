"""The hand-written SQL of the hot path stores exactly what the ORM would (on PostgreSQL it
hands psycopg the Python values without the ORM's preparation)."""

from __future__ import annotations

from refuge.hotline import adapters, merge, services, store
from refuge.hotline.models import Call, CallEvent
from tests.hotline.helpers import T0


def test_every_hot_column_is_one_the_fast_preparation_knows(db):
    for model, names in (
        (Call, store._WRITE),
        (Call, store._INSERT),
        (CallEvent, store._EVENT[1:]),
    ):
        assert len(store._pg_plan(model, tuple(names))) == len(names)


def test_a_call_written_by_the_hot_path_reads_back_as_the_orm_saves_it(db, orgs):
    services.line_save(by=None, number="74950000001", organisation=orgs["a"], service_area="RU-MOW")
    events = [
        merge.Event("leg", 1, "appeared", float(T0), location="operator", operator="101"),
        merge.Event("leg", 2, "connected", T0 + 9.0, location="operator", operator="101"),
        merge.Event("leg", 3, "disconnected", T0 + 99.0, location="operator", operator="101"),
    ]
    result = None
    for ev in events:
        inbound = adapters.Inbound("json", "store-1", event=ev, line="74950000001",
                                   external_number="+74951234567")  # fmt: skip
        result = services.call_event_ingest(inbound=inbound)
    written = result.call
    fresh = Call.objects.get(pk=written.pk)
    for name in store._WRITE:
        f = Call._meta.get_field(name)
        if name == "updated_at":
            continue
        assert getattr(fresh, f.attname) == getattr(written, f.attname), name
    # Saved again by the ORM, nothing changes.
    fresh.save()
    again = Call.objects.get(pk=written.pk)
    assert [
        getattr(again, Call._meta.get_field(n).attname) for n in store._WRITE if n != "updated_at"
    ] == [
        getattr(fresh, Call._meta.get_field(n).attname) for n in store._WRITE if n != "updated_at"
    ]
    assert (fresh.state, fresh.answered, fresh.talk_seconds, fresh.event_count) == (
        "disconnected", True, 90, 3
    )  # fmt: skip
    assert list(fresh.events.values_list("seq", flat=True).order_by("seq")) == [1, 2, 3]
