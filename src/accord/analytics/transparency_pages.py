"""What a brand holds about a person, on the person's relationship page, and a way to stop it.

`panel` builds the context of the "Scores" panel that the relationship page includes; the
POST route withdraws profiling, which deletes every score at once (the score rows reference
the profiling grant with ON DELETE CASCADE).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics.models import CustomerScore, ModelFit
from accord.analytics.segments import SEGMENTS
from accord.brands import service as brands
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.templates import flash
from accord.people.deps import PersonDep
from accord.relationships import decisions
from accord.relationships.decisions import PORTAL
from accord.relationships.models import PurposeGrant
from accord.relationships.vocabulary import Purpose, State

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

MODEL_NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "pnbd": "Pareto/NBD"}


@dataclass(frozen=True)
class ScoreLine:
    name: str
    value: str
    meaning: str


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}".strip()


def _option(fit: ModelFit | None, *names: str) -> Any:
    options = (fit.options or {}) if fit is not None else {}
    for name in names:
        if options.get(name) is not None:
            return options[name]
    return None


def score_lines(score: CustomerScore, fit: ModelFit | None) -> list[ScoreLine]:
    """Every figure of one score row, with what it means in plain words."""
    horizon = _option(fit, "horizon_months", "horizon")
    period = f"the next {horizon} months" if horizon else "the period the brand looks ahead"
    currency = str(_option(fit, "currency") or "")
    weeks = round(score.recency_weeks)
    lines = [
        ScoreLine(
            "Customer lifetime value",
            _money(score.clv, currency),
            f"What the brand expects your future purchases over {period} to be worth to it, "
            "in today's money. It is an estimate from your past purchases, not a fact.",
        ),
        ScoreLine(
            "Chance you are still a customer",
            f"{score.p_alive:.0%}",
            "How likely the brand's model thinks it is that you still buy from it, judged "
            "from how often and how recently you bought.",
        ),
        ScoreLine(
            "Expected purchases",
            f"{score.expected_purchases:.2f}",
            f"How many purchases the model expects from you over {period}.",
        ),
        ScoreLine(
            "Expected spend per purchase",
            _money(score.expected_spend, currency),
            "What the model expects one purchase of yours to be worth, from what you "
            f"spent before (on average {_money(score.average_spend, currency)}).",
        ),
        ScoreLine(
            "Purchase history used",
            f"{score.frequency} repeat purchase{'s' if score.frequency != 1 else ''}",
            f"Your last purchase came {weeks} week{'s' if weeks != 1 else ''} after your first, "
            f"which was {round(score.age_weeks)} weeks before the model's cut-off date.",
        ),
    ]
    if score.segment:
        segment = SEGMENTS.get(score.segment)
        label = segment.label if segment else score.segment
        meaning = segment.meaning if segment else ""
        rfm = f" (recency, frequency and spend scores {score.rfm})" if score.rfm else ""
        lines.append(
            ScoreLine(
                "Segment",
                label,
                f"{meaning} The brand groups customers by how recently, how often and how much "
                f"they bought, each scored 1 to 5 against its other customers{rfm}.",
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


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> dict[str, Any]:
    """The context of the scores panel on the person's relationship page."""
    granted = profiling_granted(session, person_id, brand_id)
    found = session.execute(
        select(CustomerScore, ModelFit)
        .outerjoin(ModelFit, ModelFit.id == CustomerScore.fit_id)
        .where(CustomerScore.person_id == person_id, CustomerScore.brand_id == brand_id)
    ).first()
    lines: list[ScoreLine] = []
    computed_at: datetime | None = None
    model = cutoff = None
    if found is not None:
        score, fit = found
        lines = score_lines(score, fit)
        computed_at = score.computed_at
        if fit is not None:
            model = MODEL_NAMES.get(fit.model, fit.model)
            cutoff = fit.cutoff.date().isoformat()
    return {
        "granted": granted,
        "lines": lines,
        "computed_at": computed_at,
        "model": model,
        "cutoff": cutoff,
    }


@router.post("/relationships/{brand_id}/profiling/withdraw")
def withdraw_profiling(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    """Withdraw profiling from the scores panel: the scores go in the same transaction."""
    rel = decisions.get(session, person.person_id, brand_id)
    brand = brands.get_brand(session, brand_id)
    ended = rel.state == State.ended
    if not ended and decisions.set_purpose(session, rel, Purpose.profiling, False, PORTAL):
        flash(
            request,
            f"Profiling is withdrawn: {brand.name} no longer holds any scores about you, and "
            "your purchases count only in anonymous totals.",
            "success",
        )
    else:
        flash(request, f"{brand.name} had no permission to profile you. Nothing changed.")
    return RedirectResponse(f"/relationships/{brand_id}#scores-h", status_code=303)
