"""What a brand holds about a person, on the person's relationship page, and a way to stop it.

`panel` builds the context of the "Scores" panel that the relationship page includes; the
POST route withdraws profiling, which deletes every score at once (the score rows reference
the profiling grant with ON DELETE CASCADE).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics.scores import PersonScore, scores_for
from accord.analytics.segments import CLV_BAND_LABELS, SEGMENTS, segment_of
from accord.brands import service as brands
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.templates import flash
from accord.people.deps import PersonDep
from accord.relationships import service as relationships
from accord.relationships.models import PurposeGrant
from accord.relationships.service import PORTAL
from accord.relationships.vocabulary import Purpose, State

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

MODEL_NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}


@dataclass(frozen=True)
class ScoreLine:
    name: str
    value: str
    meaning: str


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}".strip()


def score_lines(score: PersonScore, currency: str) -> list[ScoreLine]:
    """Every figure of one score, with what it means in plain words."""
    period = f"the next {score.horizon_months} months"
    weeks = round(score.recency_weeks)
    repeat = f"{score.frequency} repeat purchase{'s' if score.frequency != 1 else ''}"
    once = score.frequency == 0
    alive = (
        "How likely the brand's model thinks it is that you still buy from it, judged from how "
        "often and how recently you bought."
    )
    if once and score.model == "bgnbd":
        alive += " With a single purchase day, this model always assumes you are still a customer."
    if once:
        spend = (
            "You bought on one day only, so this is what the model expects of customers like you."
        )
        history = (
            f"You bought on one day only, {round(score.age_weeks)} weeks before the model's "
            "cut-off date."
        )
    else:
        spend = (
            "What the model expects one purchase of yours to be worth, from what you spent "
            f"before (your repeat purchases averaged {_money(score.average_spend, currency)})."
        )
        history = (
            f"Days you bought again after your first purchase. Your last purchase came {weeks} "
            f"week{'s' if weeks != 1 else ''} after your first, which was "
            f"{round(score.age_weeks)} weeks before the model's cut-off date."
        )
    lines = [
        ScoreLine(
            "Customer lifetime value",
            _money(score.clv, currency),
            f"What the brand expects your purchases over {period} to be worth to it (its "
            "margin, in today's money). It is an estimate from your past purchases, not a fact.",
        ),
        ScoreLine("Chance you are still a customer", f"{score.p_alive:.0%}", alive),
        ScoreLine(
            "Expected purchases",
            f"{score.expected_purchases:.2f}",
            f"On how many days the model expects you to buy over {period}.",
        ),
        ScoreLine("Expected spend per purchase", _money(score.expected_spend, currency), spend),
        ScoreLine("Purchase history used", repeat, history),
    ]
    if score.segment:
        lines.append(
            ScoreLine(
                "Value group",
                CLV_BAND_LABELS.get(score.segment, score.segment),
                "Where your lifetime value ranks among the brand's customers: the top 10%, "
                "the next 40% or the bottom 50%.",
            )
        )
    if score.rfm and len(score.rfm) == 3 and score.rfm.isdigit():
        r, f, m = (int(c) for c in score.rfm)
        segment = SEGMENTS[segment_of(r, f, m)]
        lines.append(
            ScoreLine(
                "Purchase segment",
                f"{segment.label} ({score.rfm})",
                f"{segment.meaning} How recently, how often and how much you bought, each "
                "scored 1 to 5 against the brand's other customers.",
            )
        )
    return lines


def profiling_granted(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> bool:
    status = session.scalar(
        select(PurposeGrant.status).where(
            PurposeGrant.person_id == person_id,
            PurposeGrant.brand_id == brand_id,
            PurposeGrant.purpose == Purpose.profiling.value,
        )
    )
    return status == "granted"


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, Any]:
    """The context of the scores panel on the person's relationship page."""
    if brand_id is None:
        return {"granted": False, "lines": [], "computed_at": None, "model": None}
    # The page has read the person's choices already (relationships' read memo).
    chosen = relationships.choices(session, person_id, brand_id)
    granted = chosen.purposes.get(Purpose.profiling.value) == "granted"
    score = scores_for(session, brand_id, person_id) if granted else None
    if score is None:
        return {"granted": granted, "lines": [], "computed_at": None, "model": None}
    return {
        "granted": granted,
        "lines": score_lines(score, score.currency),
        "computed_at": score.computed_at,
        "model": MODEL_NAMES.get(score.model, score.model),
        "cutoff": score.cutoff.date().isoformat(),
    }


@router.post("/relationships/{brand_id}/profiling/withdraw")
def withdraw_profiling(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    """Withdraw profiling from the scores panel: the scores go in the same transaction."""
    rel = relationships.get(session, person.person_id, brand_id)
    brand = brands.get_brand(session, brand_id)
    ended = rel.state == State.ended
    if not ended and relationships.set_purpose(session, rel, Purpose.profiling, False, PORTAL):
        flash(
            request,
            f"Profiling is withdrawn: {brand.name} no longer holds any scores about you, and "
            "your purchases count only in anonymous totals.",
            "success",
        )
    else:
        flash(request, f"{brand.name} had no permission to profile you. Nothing changed.")
    return RedirectResponse(f"/relationships/{brand_id}#scores-h", status_code=303)
