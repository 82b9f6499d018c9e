"""The gate as a service: `POST /gate/check` and `GET /suppressions`."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from accord.brands.deps import BrandDep
from accord.core.permissions import Permission
from accord.core.validation import Line
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.gatecheck import service, suppressions
from accord.gatecheck.schemas import CheckAnswer, CheckRequest, CheckResponse, UsageDay

router = APIRouter(tags=["gate as a service"])
CSV = "text/csv"


@router.post("/gate/check", response_model=CheckResponse)
def check(data: CheckRequest, caller: BrandDep, session: SessionDep) -> CheckResponse:
    """Ask the gate about up to 10,000 (person, channel, topic) items at once, with the same
    rules Accord's own sending obeys. Each answer: allowed, or the reason code, and for quiet
    hours the moment the message may go. A person the brand has no relationship with (or
    whom Accord does not know) is `no_relationship`."""
    caller.require(Permission.read_people)
    decisions = service.check(session, caller.brand_id, data.items, data.at)
    return CheckResponse(
        results=[
            CheckAnswer(
                allowed=d.allowed,
                reason=d.reason,
                defer_until=d.defer_until,
            )
            for d in decisions
        ]
    )


@router.get("/gate/usage", response_model=list[UsageDay])
def usage(caller: BrandDep, session: SessionDep) -> list[UsageDay]:
    """Checks per day (the last 31 days with any): calls and items."""
    caller.require(Permission.read_brand)
    return [
        UsageDay(day=u.day, calls=u.calls, items=u.items)
        for u in service.usage(session, caller.brand_id)
    ]


@router.get(
    "/suppressions",
    responses={200: {"content": {"application/json": {}, CSV: {}}}},
)
def list_suppressions(
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=suppressions.MAX_LIMIT)] = 1000,
    format: Annotated[Line | None, Query(pattern="^(csv|json)$")] = None,
) -> Response:
    """Every address the brand must not message, oldest first, after `cursor`: CSV
    (`?format=csv` or `Accept: text/csv`; the next cursor in the `Accord-Next-Cursor` header)
    or JSON. Keep the last cursor and ask again later for what is new."""
    caller.require(Permission.read_people)
    entries, next_cursor = suppressions.page(session, caller.brand_id, cursor=cursor, limit=limit)
    wants_csv = format == "csv" or (format is None and CSV in request.headers.get("accept", ""))
    headers = {"Accord-Next-Cursor": next_cursor or ""}
    if wants_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["address", "address_hmac", "channel", "reason", "since"])
        for e in entries:
            row = e.as_json()
            writer.writerow(
                [
                    row["address"] or "",
                    row["address_hmac"] or "",
                    row["channel"],
                    row["reason"],
                    row["since"],
                ]
            )
        return Response(out.getvalue(), media_type=f"{CSV}; charset=utf-8", headers=headers)
    body = {
        "items": [e.as_json() for e in entries],
        "next_cursor": next_cursor,
        "has_more": len(entries) == limit,
        "hmac": {
            "algorithm": "HMAC-SHA256",
            "key_hex": suppressions.hmac_key(settings),
            "input": "the lower-cased, trimmed address",
        },
    }
    return Response(json.dumps(body), media_type="application/json", headers=headers)
