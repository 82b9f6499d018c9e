"""API input and output of the analytics domain (Pydantic v2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from accord.analytics import validation as v
from accord.core.validation import LINE

MAX_BATCH = 10_000


class TransactionIn(BaseModel):
    """One transaction; the same rules as a CSV row (see docs/analytics.md)."""

    model_config = ConfigDict(extra="forbid")

    customer: Annotated[str, LINE] = Field(
        min_length=1, max_length=v.MAX_ID, description="Your customer id."
    )
    time: datetime = Field(description="ISO 8601 date or date-time (UTC if no zone), YYYYMMDD.")
    # Before amount, so that the amount's check can see it.
    refund: bool = Field(default=False, description="A refund: the amount counts negative.")
    amount: Decimal = Field(description="Negative only for refunds.")
    currency: Annotated[str, LINE] = Field(description="ISO 4217 code.")
    order_id: Annotated[str, LINE] = Field(min_length=1, max_length=v.MAX_ID)
    channel: Annotated[str, LINE] | None = Field(default=None, max_length=v.MAX_CHANNEL)
    product: Annotated[str, LINE] | None = Field(default=None, max_length=v.MAX_PRODUCT)
    cost: Decimal | None = None
    email: Annotated[str, LINE] | None = Field(
        default=None, description="Links the customer to a person."
    )
    quantity: int | None = Field(default=None, description="Accepted and ignored.")

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime:
        if isinstance(value, str):
            return v.parse_time(value)
        if isinstance(value, datetime | date):
            return v.utc(value)
        raise ValueError("time must be an ISO 8601 date or date-time string")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return v.currency(value)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return v.channel(value)

    @field_validator("product")
    @classmethod
    def _product(cls, value: str | None) -> str | None:
        return v.optional_text(value, "product", v.MAX_PRODUCT)

    @field_validator("cost")
    @classmethod
    def _cost(cls, value: Decimal | None) -> Decimal | None:
        return v.cost(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return v.email(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return v.amount(value, bool(info.data.get("refund", False)))

    @field_validator("customer", "order_id")
    @classmethod
    def _id(cls, value: str, info: ValidationInfo) -> str:
        return v.text_id(value, str(info.field_name))

    def record(self, index: int) -> v.Record:
        return v.Record(
            index,
            self.customer,
            self.time,
            self.amount,
            self.currency,
            self.channel,
            self.order_id,
            self.product,
            self.cost,
            self.refund,
            self.email,
        )


class TransactionBatch(BaseModel):
    """Up to 10,000 transactions, each an object like TransactionIn. Each row is checked on
    its own: bad rows come back with their index, the good ones are stored."""

    transactions: list[dict[Annotated[str, LINE], Any]] = Field(min_length=1, max_length=MAX_BATCH)


class RowError(BaseModel):
    index: int
    field: str | None
    detail: str


class BatchResult(BaseModel):
    imported: int
    duplicates_skipped: int
    rejected: int
    errors: list[RowError]


class FitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cutoff: date = Field(description="Last day of the calibration period (inclusive).")
    calibration_start: date | None = Field(
        default=None, description="Only customers whose first purchase is on or after it."
    )
    model: Literal["bgnbd", "paretonbd"] = "bgnbd"
    spend: bool = Field(default=True, description="Fit Gamma-Gamma for spend.")
    discount_monthly: float = Field(default=0.01, ge=0, lt=1)
    margin: float = Field(default=0.3, gt=0, le=1)
    horizon_months: int = Field(default=12, ge=1, le=120)
    currency: Annotated[str, LINE] | None = Field(
        default=None, max_length=3, description="Needed with several currencies."
    )

    @field_validator("cutoff", "calibration_start")
    @classmethod
    def _in_range(cls, value: date | None) -> date | None:
        if value is not None and not v.EARLIEST_YEAR <= value.year <= v.LATEST_YEAR:
            raise ValueError(
                f"Give a date between {v.EARLIEST_YEAR} and {v.LATEST_YEAR}, like 2024-12-31"
            )
        return value

    @model_validator(mode="after")
    def _start_before_cutoff(self) -> FitRequest:
        if self.calibration_start is not None and self.calibration_start > self.cutoff:
            raise ValueError("The calibration start must be on or before the cut-off")
        return self


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    segment: str
    customers: int
    equity: float
    consented_customers: int
    consented_equity: float
    lost_equity: float | None = Field(description="null: fewer than 5 customers lost.")


class FitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fit_id: uuid.UUID
    model: str
    params: dict[str, float]
    log_likelihood: float | None
    customers: int
    calibration_start: date
    cutoff: date
    fitted_at: datetime
    horizon_months: int
    discount_monthly: float
    margin: float
    currency: str | None
    spend_params: dict[str, float] | None
    spend_log_likelihood: float | None
    spend_customers: int | None
    scored: int
    segments: list[SegmentOut]
    withheld: list[str]


class ScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: uuid.UUID
    fit_id: uuid.UUID
    model: str
    cutoff: datetime
    horizon_months: int
    frequency: int
    recency_weeks: float
    age_weeks: float
    average_spend: float
    p_alive: float
    expected_purchases: float
    expected_spend: float
    clv: float
    segment: str | None
    rfm: str | None
    computed_at: datetime


class HoldoutWeekOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    week: int
    ends: date
    expected: float
    actual: int


class HoldoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fit_id: uuid.UUID
    model: str
    cutoff: date
    holdout_end: date
    customers: int
    expected: float
    actual: int
    weeks: list[HoldoutWeekOut]
