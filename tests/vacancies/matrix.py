from refuge.core.roles import Role as R
from refuge.vacancies.models import Room
from tests.directory.factories import make_facility
from tests.matrix_base import Case, roles

BOARD = roles(R.COORDINATOR, R.OPERATOR, R.CASEWORKER, R.MANAGER)
MANAGERS = roles(R.CASEWORKER, R.MANAGER)


def _facility(ctx):
    f = make_facility(
        ctx.orgs["a"], "Matrix shelter", rooms=[("family", 3), ("dorm", 2)], free=[3, 1]
    )
    return {"facility_id": f.pk}


def _room(ctx):
    ids = _facility(ctx)
    return {**ids, "room_id": Room.objects.filter(facility_id=ids["facility_id"]).first().pk}


CASES = [
    Case("vacancies:board", allowed=BOARD),
    Case("vacancies:board_rows", allowed=BOARD),
    Case("vacancies:facility", setup=_facility, allowed=MANAGERS),
    Case("vacancies:report", method="post", setup=_facility, allowed=MANAGERS, ok=302),
    Case("vacancies:confirm", method="post", setup=_facility, allowed=MANAGERS, ok=302),
    Case(
        "vacancies:settings",
        method="post",
        setup=_facility,
        data={"source": "reported", "ttl_hours": 12},
        allowed=MANAGERS,
        ok=302,
    ),
    Case("vacancies:room_new", setup=_facility, allowed=MANAGERS),
    Case("vacancies:room_edit", setup=_room, allowed=MANAGERS),
]
