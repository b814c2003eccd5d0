"""The API's request and response shapes; the OpenAPI document is generated from these."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictFloat, StrictInt, StrictStr

MAX_BATCH = 1000


class EventIn(Schema):
    """One event, in a shape that maps onto each MMP's rules."""

    id: str | None = Field(
        None, description="Your id for this event, up to 100 characters: sending it again queues it once."
    )
    # Strict: a boolean or 1.0 is not an app id, nor true a revenue of 1 (lax unions coerce them).
    app: StrictStr | StrictInt = Field(..., description="App name or id (one this API key may send to).")
    event: str = Field(..., description="Adjust event token or Tenjin event name (or its readable name).")
    device_ids: dict[str, Any] = Field(
        default_factory=dict,
        description='Device ids by type, e.g. {"idfa": "..."}; Tenjin: advertising_id, '
        "developer_device_id, analytics_installation_id.",
    )
    callback_params: dict[str, Any] | None = Field(None, description="Flat object of strings (Adjust).")
    partner_params: dict[str, Any] | None = Field(None, description="Flat object of strings (Adjust).")
    revenue: StrictStr | StrictInt | StrictFloat | None = None
    currency: str | None = Field(None, description="ISO 4217 code, e.g. EUR.")
    created_at: StrictStr | StrictInt | None = Field(
        None, description="Unix seconds or ISO 8601 with a zone (Adjust)."
    )
    environment: str | None = Field(None, description="sandbox or production; default: the app's.")
    ip_address: str | None = None
    user_agent: str | None = None
    fields: dict[str, Any] | None = Field(
        None,
        description="Other fields of the app's MMP by their wire names, e.g. os_version, value, product_id.",
    )


class EventBatchIn(Schema):
    events: list[EventIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class ItemOut(Schema):
    index: int
    id: str | None
    status: str = Field(
        ..., description="accepted, duplicate (queued before: delivery_id is that one's) or rejected."
    )
    delivery_id: int | None = None
    errors: dict[str, list[str]] = Field(default_factory=dict, description="Rejected: messages per field.")


class BatchOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemOut]


class SkanOut(Schema):
    """SKAdNetwork values from the MMP's answer, to pass on to the app's
    updatePostbackConversionValue; null fields were not in the answer."""

    fine_value: int | None = Field(None, description="The fine conversion value, 0-63.")
    coarse_value: str | None = Field(None, description="low, medium or high.")
    lock_window: bool | None = None


class AttemptOut(Schema):
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    response_status: int | None
    mmp_message: str
    explanation: str
    error: str
    duration_ms: float | None
    skan: SkanOut | None = Field(None, description="SKAdNetwork values in this attempt's answer, if any.")


class DeliveryOut(Schema):
    id: int
    app: str
    event: str
    environment: str
    status: str
    final: bool
    ambiguous: bool
    attempt_count: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_http_status: int | None
    last_message: str
    last_explanation: str
    last_response_body: str
    skan: SkanOut | None = Field(
        None, description="The latest SKAdNetwork values an answer carried (Adjust, iOS); null for none."
    )
    attempts: list[AttemptOut]


class ErrorOut(Schema):
    error: str
    details: list[dict[str, Any]] | None = None
