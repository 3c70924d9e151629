"""The global event feed, in log order: a page at a time, or live as server-sent events."""

import asyncio
import json
from typing import Annotated, Any

from api.body import StrictJsonRoute
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.bootstrap import Services
from api.dependencies import InjectedServices

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=StrictJsonRoute)
MAX_POSITION = 2**62  # log positions are 64-bit integers in every store


def page(services: Services, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Ticket events after a position, and the position to continue from."""
    deliveries = services.embedded_source().poll({"log": after}, limit)
    events = [{"position": d.position, **{k: v for k, v in d.event.items() if not k.startswith("_")}}
              for d in deliveries if d.event is not None]
    return events, deliveries[-1].position if deliveries else after


@router.get("")
def feed(services: InjectedServices, after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Events after ``after`` (a position from a previous page's ``next``)."""
    events, next_position = page(services, after, limit)
    return {"events": events, "next": next_position}


@router.get("/stream")
async def stream(request: Request, services: InjectedServices,
                 after: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
                 last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """Server-sent events: ``id`` is the position (resume with ``Last-Event-ID``), ``event`` the type."""
    start = after if after is not None else int(last_event_id) if (last_event_id or "").isdigit() \
        else services.app.event_count()

    async def events():
        position = start
        yield ": servicetrail event stream\n\n"
        while not await request.is_disconnected():
            batch, position_after = await asyncio.to_thread(page, services, position, 500)
            for event in batch:
                yield f"id: {event['position']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
            if position_after == position:
                await asyncio.sleep(0.5)
            position = position_after

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
