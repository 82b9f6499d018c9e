"""People's REST API: sign-up, sign-in links, own profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from accord.core.web.deps import SessionDep, SettingsDep, client_ip
from accord.core.web.timing import equal_time
from accord.people import service
from accord.people.deps import PersonDep
from accord.people.schemas import Accepted, PersonOut, ProfileUpdate, SignIn, SignUp

router = APIRouter(tags=["people"])

CHECK_INBOX = "If the address can be used, a sign-in link is on its way. It expires soon."


# Known address or not, the answer is the same and takes the same time.
EQUAL_TIME = [Depends(equal_time, scope="function")]


@router.post(
    "/people",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=EQUAL_TIME,
)
def sign_up(data: SignUp, request: Request, session: SessionDep, settings: SettingsDep) -> Accepted:
    """Create an account for an e-mail address and mail it a sign-in link."""
    service.sign_up(session, settings, request.app.state.mailer, data, ip=client_ip(request))
    return Accepted(detail=CHECK_INBOX)


@router.post(
    "/auth/sign-in-links",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=EQUAL_TIME,
)
def sign_in_link(
    data: SignIn, request: Request, session: SessionDep, settings: SettingsDep
) -> Accepted:
    """Mail a single-use sign-in link. The answer is the same whether or not the account exists."""
    mailer = request.app.state.mailer
    service.request_sign_in(session, settings, mailer, data.email, ip=client_ip(request))
    return Accepted(detail=CHECK_INBOX)


@router.get("/me", response_model=PersonOut)
def me(person: PersonDep, session: SessionDep) -> PersonOut:
    return PersonOut.model_validate(service.get_person(session, person.person_id))


@router.patch("/me", response_model=PersonOut)
def update_me(data: ProfileUpdate, person: PersonDep, session: SessionDep) -> PersonOut:
    return PersonOut.model_validate(service.update_profile(session, person.person_id, data))
