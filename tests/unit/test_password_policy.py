"""NIST 800-63B passwords: length and a common/guessable list, no composition rules (issue 22, 10)."""

from __future__ import annotations

import pytest

from reminders.domain.staff.accounts import InvalidAccount, check_password


@pytest.mark.parametrize(
    "weak", ["aaaaaaaaaa", "1234567890", "password12", "qwertyuiop", "nurse.kim2026"]
)
def test_common_and_guessable_passwords_are_refused(weak):
    with pytest.raises(InvalidAccount, match="common or easily guessed"):
        check_password(weak, username="nurse.kim")


@pytest.mark.parametrize(
    "good", ["correct horse battery", "lamp orbit ferry cactus", "tulip 7 gravel dusk"]
)
def test_long_unusual_passwords_need_no_capital_or_symbol(good):
    check_password(good)
