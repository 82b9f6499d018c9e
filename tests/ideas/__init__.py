"""Helpers for the ideas tests: a brand with a board and people who follow it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.ideas import service
from accord.ideas.models import IdeaBoard
from accord.people.models import Person
from tests.builders import make_api_key, make_brand, make_member, make_person, make_relationship


@dataclass
class Board:
    brand: Brand
    board: IdeaBoard
    member: Member
    key: str
    people: list[Person]


def a_board(session: Session, *, people: int = 3, name: str | None = None) -> Board:
    brand = make_brand(session, name=name)
    member = make_member(session, brand=brand)
    _, key = make_api_key(session, brand=brand)
    board = service.create_board(session, brand.id, title="What should we stock?")
    followers = [make_person(session) for _ in range(people)]
    for person in followers:
        make_relationship(session, person=person, brand=brand)
    return Board(brand, board, member, key, followers)
