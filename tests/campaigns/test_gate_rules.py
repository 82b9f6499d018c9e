"""The list of the gate's rules keeps its shape: one rule per reason, in the order of `Reason`,
deferring rules after every rule that refuses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from accord.campaigns.gate_rules import RULES, Reason, check_order


def test_rules_follow_the_reasons() -> None:
    order = [rule.reason for rule in RULES]
    assert order == [reason for reason in Reason if reason in order]
    assert [rule.reason for rule in RULES if rule.defers] == ["legal_window", "quiet_hours"]


def test_a_rule_out_of_order_is_refused() -> None:
    swapped = (RULES[1], RULES[0], *RULES[2:])
    with pytest.raises(ValueError, match="order of Reason"):
        check_order(swapped)


def test_a_deferring_rule_before_a_refusing_one_is_refused() -> None:
    deferring_first = (replace(RULES[0], defers=True), *RULES[1:])
    with pytest.raises(ValueError, match="deferring"):
        check_order(deferring_first)
