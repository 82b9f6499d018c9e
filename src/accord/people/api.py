"""People's REST API: sign-up, sign-in links, own profile."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from accord.core.web.deps import SessionDep, SettingsDep
from accord.people import service
from accord.people.deps import PersonDep
from accord.people.schemas import Accepted, PersonOut, ProfileUpdate, SignIn, SignUp

router = APIRouter(tags=["people"])

CHECK_INBOX = "If the address can be used, a sign-in link is on its way. It expires soon."


@router.post("/people", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def sign_up(data: SignUp, request: Request, session: SessionDep, settings: SettingsDep) -> Accepted:
    """Create an account for an e-mail address and mail it a sign-in link."""
    service.sign_up(session, settings, request.app.state.mailer, data)
    return Accepted(detail=CHECK_INBOX)


@router.post("/auth/sign-in-links", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def sign_in_link(
    data: SignIn, request: Request, session: SessionDep, settings: SettingsDep
) -> Accepted:
    """Mail a single-use sign-in link. The answer is the same whether or not the account exists."""
    service.request_sign_in(session, settings, request.app.state.mailer, data.email)
    return Accepted(detail=CHECK_INBOX)


@router.get("/me", response_model=PersonOut)
def me(person: PersonDep, session: SessionDep) -> PersonOut:
    return PersonOut.model_validate(service.get_person(session, person.person_id))


@router.patch("/me", response_model=PersonOut)
def update_me(data: ProfileUpdate, person: PersonDep, session: SessionDep) -> PersonOut:
    return PersonOut.model_validate(service.update_profile(session, person.person_id, data))
