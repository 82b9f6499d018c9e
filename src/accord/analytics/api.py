"""Brand API for analytics: transaction batches, fits, equity, holdout checks, scores.

Scores are returned only for a related person who grants `profiling` to the calling brand and
was scored; every other case is the same kind of 404, so nothing about a person without that
consent leaves Accord.
"""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query, status

from accord.analytics import service
from accord.analytics.batch import import_batch
from accord.analytics.schemas import (
    BatchResult,
    FitOut,
    FitRequest,
    HoldoutOut,
    ScoreOut,
    TransactionBatch,
)
from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.core.errors import InvalidInput, NotFound
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep
from accord.core.web.params import IdempotencyKeyParam
from accord.relationships import service as relationships

router = APIRouter(prefix="/analytics", tags=["analytics", BRAND_SCOPED])


@router.post("/transactions", response_model=BatchResult)
def import_transactions(
    data: TransactionBatch,
    caller: BrandDep,
    session: SessionDep,
    idempotency_key: IdempotencyKeyParam = None,
) -> BatchResult:
    """Import up to 10,000 transactions. Rows are checked one by one: the good ones are stored,
    the others come back in `errors` with their index and reason. Sending a row again is
    harmless (idempotent by order id); an order id sent with another amount is rejected."""
    caller.require(Permission.write_analytics)
    if not idempotency_key:
        raise InvalidInput(
            "Send an Idempotency-Key header with every batch.", field="Idempotency-Key"
        )
    return import_batch(session, caller.brand_id, data.transactions)


@router.post("/fits", response_model=FitOut, status_code=status.HTTP_201_CREATED)
def create_fit(data: FitRequest, caller: BrandDep, session: SessionDep) -> FitOut:
    """Fit the purchase model (and Gamma-Gamma) at the cut-off; store equity and the scores of
    consenting people. A 422 says why when the data are too few or the fit does not converge."""
    caller.require(Permission.write_analytics)
    result = service.fit(
        session,
        caller.brand_id,
        calibration_start=data.calibration_start,
        cutoff=data.cutoff,
        model=data.model,
        spend=data.spend,
        discount_monthly=data.discount_monthly,
        margin=data.margin,
        horizon_months=data.horizon_months,
        currency=data.currency,
    )
    return FitOut.model_validate(result)


@router.get("/fits/{fit_id}", response_model=FitOut)
def read_fit(fit_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> FitOut:
    caller.require(Permission.read_analytics)
    return FitOut.model_validate(service.get_fit(session, caller.brand_id, fit_id))


@router.get("/equity", response_model=FitOut)
def read_equity(caller: BrandDep, session: SessionDep) -> FitOut:
    """The latest fit: total equity, equity of consenting people, equity lost, per segment."""
    caller.require(Permission.read_analytics)
    result = service.equity(session, caller.brand_id)
    if result is None:
        raise NotFound("No fit yet: run one with POST /api/v1/analytics/fits.")
    return FitOut.model_validate(result)


@router.get("/holdout/{fit_id}", response_model=HoldoutOut)
def read_holdout(
    fit_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    holdout_end: date | None = Query(
        default=None, description="Last day of the holdout period; default: last purchase."
    ),
) -> HoldoutOut:
    """Weekly cumulative expected against actual repeat purchases after the cut-off."""
    caller.require(Permission.read_analytics)
    return HoldoutOut.model_validate(service.holdout(session, caller.brand_id, fit_id, holdout_end))


@router.get("/people/{person_id}/scores", response_model=ScoreOut)
def read_scores(person_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> ScoreOut:
    """A related person's scores: only while they grant `profiling` to your brand."""
    caller.require(Permission.read_analytics)
    if relationships.find(session, person_id, caller.brand_id) is None:
        raise NotFound("No such person.")
    score = service.scores_for(session, caller.brand_id, person_id)
    if score is None:
        raise NotFound("No scores: the person does not grant profiling, or was not scored.")
    return ScoreOut.model_validate(score)
