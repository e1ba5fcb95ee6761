import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from brokerage.nhs_number import (
    check_digit,
    format_nhs_number,
    is_valid,
    normalise,
    numbers_in_test_range,
    validate_nhs_number,
)


def test_the_nhs_data_dictionary_example_is_valid():
    # 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 % 11 = 2; 11 - 2 = 9.
    assert check_digit("943476591") == 9
    assert is_valid("9434765919")
    assert is_valid("943 476 5919")
    assert is_valid("943-476-5919")


def test_a_wrong_check_digit_is_invalid():
    assert not is_valid("9434765918")


def test_a_remainder_of_zero_gives_check_digit_zero():
    # 11 - 0 = 11 -> 0
    assert check_digit("000000000") == 0
    assert is_valid("0000000000")


def test_nine_digits_that_would_need_check_digit_ten_can_never_be_valid():
    # 1*10 = 10 ... find such a prefix: sum % 11 == 1 gives 11 - 1 = 10.
    nine = "100000000"  # 1 * 10 = 10, 10 % 11 = 10 -> 11 - 10 = 1
    assert check_digit(nine) == 1
    nine = "000000006"  # 6 * 2 = 12, 12 % 11 = 1 -> 10: invalid
    assert check_digit(nine) is None
    assert not any(is_valid(nine + str(d)) for d in range(10))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("943476591", "length"),
        ("94347659190", "length"),
        ("94347659A9", "digits"),
        ("９４３４７６５９１９", "digits"),  # full-width digits are not ASCII digits
        ("9434765918", "check_digit"),
    ],
)
def test_the_validator_names_what_is_wrong(value, code):
    with pytest.raises(ValidationError) as error:
        validate_nhs_number(value)
    assert error.value.code == code
    assert "NHS number" in error.value.message


def test_test_range_numbers_are_valid_distinct_and_start_with_999():
    numbers = numbers_in_test_range(200)
    assert len(set(numbers)) == 200
    assert all(n.startswith("999") and len(n) == 10 and is_valid(n) for n in numbers)


def test_numbers_are_formatted_three_three_four():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert normalise(" 943 476-5919 ") == "9434765919"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_have_at_most_one_valid_check_digit(nine):
    valid = [d for d in range(10) if is_valid(f"{nine}{d}")]
    expected = check_digit(nine)
    assert valid == ([] if expected is None else [expected])


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(0, 9), st.integers(1, 9))
def test_changing_any_single_digit_of_a_valid_number_makes_it_invalid(number, position, delta):
    if not is_valid(number):
        return
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert not is_valid("".join(digits))
