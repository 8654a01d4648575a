"""Where a user error points: services name the field of the use case's input; the API puts the
mutation's input argument in front."""

from server.api.errors import field_path


def test_a_field_of_the_input_is_shown_under_the_input_argument():
    assert field_path(("price", "currency"), "input") == ["input", "price", "currency"]


def test_the_whole_input_is_the_input_argument():
    assert field_path((), "input") == ["input"]


def test_plain_arguments_are_named_as_they_are():
    assert field_path(("phone",), None) == ["phone"]
    assert field_path((), None) is None


def test_no_field_is_no_path():
    assert field_path(None, "input") is None
