"""Untrusted YAML: no Python object tags, bounded size and expansion."""

import pytest

from deployments.dsl import DslError, YamlLimits, load_yaml
from tests.dsl.helpers import problems_of


def test_python_object_tags_are_refused(tmp_path):
    text = "infrastructure: !!python/object/apply:os.system ['touch pwned']\n"
    [problem] = problems_of(text, tmp_path)
    assert problem.startswith(
        "infrastructure/dev/main.yaml:1:17: tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    )
    assert "only plain YAML values are accepted" in problem
    assert not (tmp_path / "pwned").exists()


def test_custom_tags_are_refused(tmp_path):
    [problem] = problems_of("infrastructure: !secret x\n", tmp_path)
    assert "tag '!secret' is not allowed" in problem


def test_alias_bomb_is_stopped_before_expanding():
    layers = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for index in range(1, 10):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        layers.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    with pytest.raises(DslError) as caught:
        load_yaml(text="\n".join(layers), filename="bomb.yaml")
    assert "expands to more than 100000 nodes (alias bomb?)" in str(caught.value)


def test_recursive_alias_is_refused():
    with pytest.raises(DslError, match="recursive"):
        load_yaml(text="a: &a [*a]\n", filename="loop.yaml")


def test_size_limit():
    with pytest.raises(DslError, match="file is 21 bytes; at most 20 are allowed"):
        load_yaml(text="a: 1234567890abcdefg\n", filename="big.yaml", limits=YamlLimits(max_bytes=20))


def test_not_utf8():
    with pytest.raises(DslError, match="not UTF-8"):
        load_yaml(text=b"a: \xff\n", filename="bin.yaml")


def test_one_document_only():
    with pytest.raises(DslError, match="invalid YAML"):
        load_yaml(text="a: 1\n---\nb: 2\n", filename="two.yaml")


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_with_the_limit_not_a_recursion_error(opening):
    depth = 5000
    if opening == "- ":
        text = "- " * depth + "x\n"
    else:
        closing = "]" if opening == "[" else "}"
        text = opening * depth + "x" + closing * depth + "\n"
    with pytest.raises(DslError) as caught:
        load_yaml(text=text, filename="deep.yaml")
    [problem] = caught.value.problems
    assert problem.file == "deep.yaml" and problem.line >= 1
    assert "nesting deeper than 64 levels" in problem.message


def test_an_integer_with_too_many_digits_is_a_problem_with_its_line(tmp_path):
    text = "infrastructure:\n  gcp:\n    big: " + "9" * 5000 + "\n"
    problems = problems_of(text, tmp_path)
    assert problems == ["infrastructure/dev/main.yaml:3:10: an integer of 5000 digits is too long; at most 100 digits"]


def test_an_integer_with_too_many_digits_is_refused_by_load_yaml():
    with pytest.raises(DslError, match=r"deep\.yaml:2:4: an integer of 4301 digits is too long"):
        load_yaml(text="a: 1\nb: " + "1" * 4301 + "\n", filename="deep.yaml")
