"""The words of personal terms: effects, answers, ledger actions."""

from __future__ import annotations

from enum import StrEnum


class Effect(StrEnum):
    """What an agreement in force changes in Accord (see docs/terms.md for each)."""

    no_tracking = "no_tracking"
    no_profiling = "no_profiling"
    no_sharing = "no_sharing"
    no_ai_training = "no_ai_training"
    intent_only = "intent_only"
    portability = "portability"
    # Not from the roster: the person wants relationships only on their terms, and this brand
    # has not accepted every agreement they proffer to it.
    no_marketing = "no_marketing"


EFFECT_TEXT = {
    Effect.no_tracking: "No open or click tracking in messages to you, and nothing targeted by "
    "tracking.",
    Effect.no_profiling: "No individual scores or profiles about you (the stricter rule wins over "
    "a profiling grant).",
    Effect.no_sharing: "Your data is not shared with anyone else, and nothing is sent to you for "
    "sharing purposes.",
    Effect.no_ai_training: "Your data is not used to train AI models.",
    Effect.intent_only: "No marketing: the brand contacts you only about intents you publish.",
    Effect.portability: "The brand gives you your data on request, in a portable format.",
    Effect.no_marketing: "No marketing: the brand has not accepted every agreement you proffer, "
    "and you chose relationships only on your terms.",
}


class Status(StrEnum):
    """Where one agreement between a person and a brand stands."""

    pending = "pending"  # proffered, no answer yet
    accepted = "accepted"  # in force: signed by the instance and the brand
    alternative = "alternative"  # the brand offered another roster entry instead
    declined = "declined"
    withdrawn = "withdrawn"  # the person withdrew it (or the proffer it came from)


LIVE = (Status.pending, Status.accepted, Status.alternative, Status.declined)


class Answer(StrEnum):
    accept = "accept"
    alternative = "alternative"
    decline = "decline"


class Action(StrEnum):
    """Ledger actions (the person's chain)."""

    proffer = "terms_proffer"
    agreed = "terms_agreed"
    alternative = "terms_alternative"
    declined = "terms_declined"
    withdraw = "terms_withdraw"
    only_mine = "terms_only_mine"
