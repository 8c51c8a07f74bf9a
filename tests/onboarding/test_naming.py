import pytest
from django.core.exceptions import ValidationError

from onboarding.naming import (
    gcp_project_id,
    max_name_length,
    normalise_service_control_id,
    validate_project_identity,
    validate_project_name,
)


@pytest.mark.parametrize("raw", ["123", 123, "SC-123", "sc-123", "Sc123", " 123 "])
def test_it_accepts_service_control_id_as_typed(raw):
    assert normalise_service_control_id(raw) == 123


@pytest.mark.parametrize("raw", ["", "0", "-5", "SC-", "abc", "12.5", "SC-0", "sc--1"])
def test_it_rejects_a_bad_service_control_id_with_what_is_allowed(raw):
    with pytest.raises(ValidationError) as error:
        normalise_service_control_id(raw)
    assert "positive whole number" in error.value.messages[0]


@pytest.mark.parametrize("name", ["example", "data-engine", "a1", "x"])
def test_it_accepts_good_names(name):
    validate_project_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Example", "lowercase"),
        ("1abc", "starting with a letter"),
        ("-abc", "starting with a letter"),
        ("abc-", "ends with a hyphen"),
        ("a_b", "lowercase letters, digits and hyphens"),
        ("a--b", "two hyphens"),
        ("example-dev", "environment"),
        ("", "Enter a project name"),
    ],
)
def test_it_rejects_bad_names_saying_why(name, expected):
    with pytest.raises(ValidationError) as error:
        validate_project_name(name)
    assert expected in error.value.messages[0]


def test_environment_ids_follow_the_naming_rule():
    assert gcp_project_id(123, "example", "dev") == "sc-123-example-dev"
    assert validate_project_identity(123, "example") == [
        "sc-123-example-dev",
        "sc-123-example-test",
        "sc-123-example-prod",
    ]


def test_the_longest_environment_id_may_have_exactly_30_characters():
    # "sc-123-" (7) + name + "-prod"/"-test" (5) = 30 → name of 18 characters.
    assert max_name_length(123) == 18
    name = "a" * 18
    ids = validate_project_identity(123, name)
    assert max(len(i) for i in ids) == 30


def test_one_character_more_is_refused_with_the_limit_named():
    with pytest.raises(ValidationError) as error:
        validate_project_identity(123, "a" * 19)
    message = error.value.messages[0]
    assert "31 characters" in message and "at most 30" in message and "at most 18" in message


def test_a_longer_service_control_id_leaves_less_room_for_the_name():
    assert max_name_length(123456) == 15


@pytest.mark.parametrize("raw", ["99999999999999999999", "2147483648", "SC-2147483648", 2**31, "9" * 5000])
def test_an_oversized_service_control_id_is_refused_with_the_allowed_range(raw):
    with pytest.raises(ValidationError) as error:
        normalise_service_control_id(raw)
    assert "1 to 2147483647" in error.value.messages[0]


def test_the_largest_service_control_id_the_database_holds_is_accepted():
    assert normalise_service_control_id("2147483647") == 2147483647
