"""The demo's conversations and ideas: Groove Records' inbox with open and closed threads
(written in the portal and the console, one answered by e-mail through the real reply path),
an internal note and saved replies; Velo Cycles with a thread waiting on it; and Groove's
ideas board with votes, comments and a shipped idea.

Idempotent: a brand that has threads (or a board) already is left alone."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.conversations import service as conversations
from accord.conversations.models import Thread
from accord.core.principals import BrandCaller
from accord.core.settings import Settings
from accord.ideas import service as ideas
from accord.people.models import Person
from accord.relationships import service as relationships


def _followers(session: Session, brand: Brand, people: list[Person]) -> list[Person]:
    return [
        p
        for p in people
        if relationships.state_of(session, p.id, brand.id) in ("active", "paused")
        and not relationships.asked_no_contact(session, p.id)
    ]


def _caller(session: Session, brand: Brand, local: str) -> BrandCaller:
    member = session.scalars(
        select(Member).where(Member.brand_id == brand.id, Member.email.startswith(local + "@"))
    ).one()
    return BrandCaller(brand_id=brand.id, role=member.role, member_id=member.id)


def _email_reply(
    session: Session, settings: Settings, thread: Thread, person: Person, text: str, quoted: str
) -> None:
    """A reply as a mail program writes it, taken through the inbound SMTP endpoint's path."""
    message = EmailMessage()
    message["From"] = f"{person.display_name} <{person.email}>"
    message["To"] = conversations.reply_address_for(settings, thread.id)
    message["Subject"] = f"Re: {thread.subject}"
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    message.set_content(f"{text}\n\nOn Tue, 1 Dec 2026 at 10:02, Groove Records wrote:\n{quote}\n")
    conversations.take_inbound_mail(session, settings, bytes(message), str(message["To"]))


def seed_conversations(
    session: Session, settings: Settings, brands: dict[str, Brand], people: list[Person]
) -> int:
    """Threads for Groove Records and Velo Cycles; how many were made (0 the second time)."""
    groove, velo = brands["groove"], brands["velo"]
    if session.scalar(select(func.count()).where(Thread.brand_id == groove.id)):
        return 0
    fans = _followers(session, groove, people)
    owner = _caller(session, groove, "owner")
    made = 0

    ada, bea, carlos = fans[0], fans[1], fans[2]
    vinyl, _ = conversations.start_person_thread(
        session,
        settings,
        ada.id,
        groove.id,
        subject="Kind of Blue on 180g vinyl?",
        body="Hello! Is the Kind of Blue reissue on 180g vinyl back in stock?",
    )
    answer = "It arrives on Friday. Shall we put one aside for you?"
    conversations.brand_reply(session, settings, owner, vinyl.id, body=answer, via="console")
    _email_reply(session, settings, vinyl, ada, "Yes please, I'll collect it on Saturday.", answer)
    conversations.note(
        session, vinyl, "Regular customer: keep the first copy for her.", owner.member_id
    )
    made += 1

    cracked, _ = conversations.start_person_thread(
        session,
        settings,
        bea.id,
        groove.id,
        subject="Order arrived with a cracked case",
        body="My CD order arrived today but the jewel case is cracked.",
    )
    conversations.brand_reply(
        session,
        settings,
        owner,
        cracked.id,
        body="Sorry about that! A new case is in the post today; keep the disc.",
        via="console",
        close=True,
    )
    made += 1

    special, _ = conversations.start_brand_thread(
        session,
        settings,
        owner,
        carlos.id,
        subject="Your special order has arrived",
        body="The Buena Vista Social Club box set you ordered is here.",
        via="console",
    )
    _email_reply(
        session,
        settings,
        special,
        carlos,
        "Wonderful, thank you!",
        "The Buena Vista Social Club box set you ordered is here.",
    )
    made += 1

    riders = _followers(session, velo, people)
    conversations.start_person_thread(
        session,
        settings,
        riders[0].id,
        velo.id,
        subject="Service next week?",
        body="Could you service my road bike next week? The gears skip.",
    )
    made += 1
    for title, body in (
        ("Back in stock", "Good news: it is back in stock. Shall we put one aside for you?"),
        ("Order shipped", "Your order left our shop today; it should reach you in 2-3 days."),
    ):
        conversations.create_saved_reply(session, groove.id, title, body)
    session.flush()
    return made


def seed_ideas(
    session: Session, settings: Settings, brands: dict[str, Brand], people: list[Person]
) -> int:
    """Groove Records' ideas board with votes, comments and a shipped idea; ideas made."""
    groove = brands["groove"]
    if ideas.boards(session, groove.id):
        return 0
    fans = _followers(session, groove, people)
    owner = _caller(session, groove, "owner")
    board = ideas.create_board(
        session,
        groove.id,
        title="What should Groove Records do next?",
        description="Propose what we should stock, start or change, and vote for your favourites.",
    )
    specs = [
        ("A listening corner with turntables", "Try before you buy, like in the old days.", 9),
        ("Monthly jazz vinyl subscription", "One hand-picked record a month.", 7),
        ("Stock more Afrobeat reissues", "Fela, Tony Allen, Ebo Taylor…", 5),
        ("Open on Sundays", "", 3),
    ]
    made = []
    for i, (title, body, votes) in enumerate(specs):
        author = fans[i % len(fans)]
        idea = ideas.propose(session, author.id, board, title=title, body=body)
        for voter in fans[i + 1 : i + votes]:
            if voter.id != author.id:
                ideas.vote(session, voter.id, idea)
        made.append(idea)
    corner, subscription, afrobeat, sundays = made
    ideas.comment(session, corner, "Yes! With headphones please.", person_id=fans[3].id)
    ideas.set_status(
        session,
        settings,
        corner,
        "shipped",
        reply="Done: two turntables and headphones by the window. Come and listen!",
        member_id=owner.member_id,
    )
    ideas.set_status(
        session,
        settings,
        subscription,
        "planned",
        reply="Starting in the spring; we are choosing the first records.",
        member_id=owner.member_id,
    )
    ideas.set_status(session, settings, afrobeat, "under_review", reply=None, member_id=None)
    ideas.comment(
        session, sundays, "We are looking at it for the summer.", member_id=owner.member_id
    )
    return len(made)
