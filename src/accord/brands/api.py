"""Brand-scoped REST API: the brand, its members and its API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from accord.brands import service
from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.brands.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    BrandOut,
    BrandUpdate,
    MemberCreate,
    MemberOut,
)
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep
from accord.core.web.params import CursorParam

router = APIRouter(tags=["brand", BRAND_SCOPED])

LimitQuery = Query(default=50, ge=1, le=200)


@router.get("/brand", response_model=BrandOut)
async def read_brand(caller: BrandDep) -> BrandOut:
    """The calling key's or member's brand."""
    caller.require(Permission.read_brand)
    # Read with the credential (brands.service); async: nothing here waits for the database.
    return BrandOut.model_validate(caller.brand)


@router.patch("/brand", response_model=BrandOut)
def update_brand(data: BrandUpdate, caller: BrandDep, session: SessionDep) -> BrandOut:
    caller.require(Permission.manage_brand)
    return BrandOut.model_validate(service.update_brand(session, caller.brand_id, data))


@router.get("/members", response_model=Page[MemberOut])
def list_members(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = LimitQuery,
) -> Page[MemberOut]:
    caller.require(Permission.read_brand)
    rows, next_cursor = service.list_members(session, caller.brand_id, cursor=cursor, limit=limit)
    return Page(items=[MemberOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
def add_member(data: MemberCreate, caller: BrandDep, session: SessionDep) -> MemberOut:
    caller.require(Permission.manage_members)
    return MemberOut.model_validate(service.add_member(session, caller.brand_id, data))


@router.get("/members/{member_id}", response_model=MemberOut)
def read_member(member_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> MemberOut:
    caller.require(Permission.read_brand)
    return MemberOut.model_validate(service.get_member(session, caller.brand_id, member_id))


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = LimitQuery,
) -> Page[ApiKeyOut]:
    caller.require(Permission.manage_api_keys)
    rows, next_cursor = service.list_api_keys(session, caller.brand_id, cursor=cursor, limit=limit)
    return Page(items=[ApiKeyOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(data: ApiKeyCreate, caller: BrandDep, session: SessionDep) -> ApiKeyCreated:
    """Create a key. The response holds the secret; it is never shown again."""
    caller.require(Permission.manage_api_keys)
    key, secret = service.create_api_key(
        session, caller.brand_id, data, created_by=caller.member_id
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), secret=secret)


@router.get("/api-keys/{api_key_id}", response_model=ApiKeyOut)
def read_api_key(api_key_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> ApiKeyOut:
    caller.require(Permission.manage_api_keys)
    return ApiKeyOut.model_validate(service.get_api_key(session, caller.brand_id, api_key_id))


@router.post("/api-keys/{api_key_id}/revoke", response_model=ApiKeyOut)
def revoke_api_key(api_key_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> ApiKeyOut:
    caller.require(Permission.manage_api_keys)
    return ApiKeyOut.model_validate(service.revoke_api_key(session, caller.brand_id, api_key_id))
