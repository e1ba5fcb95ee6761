"""NHS numbers: ten digits, the last a modulus 11 check digit (NHS Data Dictionary).

Multiply the first nine digits by 10, 9, ... 2, add the products, take the remainder on division
by 11 and subtract it from 11. A result of 11 gives check digit 0; a result of 10 means the nine
digits can never form a valid number. Test numbers for demos and tests come from the 999 range.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s-]")


def normalise(value: str) -> str:
    """``"943 476 5919"`` and ``"943-476-5919"`` -> ``"9434765919"`` (other characters are kept)."""
    return _SEPARATORS.sub("", value or "")


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no check digit can make them valid."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("give exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True))
    result = 11 - total % 11
    if result == 11:
        return 0
    if result == 10:
        return None
    return result


def is_valid(value: str) -> bool:
    value = normalise(value)
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def validate_nhs_number(value: str) -> None:
    """Django validator: names the problem so the person typing can fix it."""
    value = normalise(value)
    if not value.isascii() or not value.isdigit():
        raise ValidationError("NHS number must contain only digits, like 943 476 5919", code="digits")
    if len(value) != 10:
        raise ValidationError("NHS number must be 10 digits long", code="length")
    if not is_valid(value):
        raise ValidationError(
            "NHS number is not valid: check the digits (the last one is a check digit)", code="check_digit"
        )


def format_nhs_number(value: str) -> str:
    """``9434765919`` -> ``943 476 5919`` (the way it is printed on NHS letters)."""
    value = normalise(value)
    if len(value) != 10:
        return value
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def numbers_in_test_range(count: int, *, start: int = 0) -> list[str]:
    """``count`` valid NHS numbers from the 999 test range (never issued to a patient)."""
    numbers: list[str] = []
    serial = start
    while len(numbers) < count:
        nine = f"999{serial:06d}"
        serial += 1
        digit = check_digit(nine)
        if digit is not None:
            numbers.append(f"{nine}{digit}")
    return numbers
