"""Grammar.from_model: pydantic v2 models through model_json_schema()."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, Field, TypeAdapter

from wafer_grammar import Grammar
from wafer_grammar.errors import UnsupportedSchema
from wafer_grammar.testing import strings


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str = Field(max_length=30)
    zip_code: str = Field(pattern=r"^[0-9]{5}$")


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Person(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    age: int = Field(ge=0, lt=150)
    height: float = Field(gt=0, le=3.0)
    id: uuid.UUID
    born: dt.date
    color: Color
    tags: list[str] = Field(default_factory=list, max_length=3)
    address: Address | None = None
    pet: Cat | Dog = Field(discriminator="kind")
    pair: tuple[int, str]
    scores: dict[str, int] = {}
    friends: list[Person] = []


GRAMMAR = Grammar.from_model(Person)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(strings(GRAMMAR, max_size=400))
def test_every_generated_string_validates(text: str) -> None:
    person = Person.model_validate_json(text)
    assert json.loads(person.model_dump_json())["name"] == json.loads(text)["name"]


def test_a_dumped_model_is_accepted() -> None:
    person = Person(
        name="Ada",
        age=36,
        height=1.65,
        id=uuid.UUID(int=7),
        born=dt.date(1815, 12, 10),
        color=Color.GREEN,
        address=Address(street="St James's Sq", zip_code="01234"),
        pet=Cat(kind="cat", lives=9),
        pair=(1, "a"),
        scores={"x": 2},
        friends=[],
    )
    text = person.model_dump_json()
    assert GRAMMAR.accepts(text)
    assert not GRAMMAR.accepts(text.replace('"lives":9', '"lives":10'))


def test_type_adapter_and_pretty() -> None:
    grammar = Grammar.from_model(TypeAdapter(list[Cat]), whitespace="pretty")
    assert grammar.accepts(json.dumps([{"kind": "cat", "lives": 3}], indent=2))


def test_unsupported_model_field_is_named() -> None:
    class Tags(BaseModel):
        tags: set[str]

    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_model(Tags)
    assert (info.value.keyword, info.value.pointer) == ("uniqueItems", "/properties/tags")
    assert Grammar.from_model(Tags, strict=False).coverage is not None


def test_not_a_model() -> None:
    with pytest.raises(
        TypeError, match=r"^expected a pydantic v2 model class or TypeAdapter, not 3: "
    ):
        Grammar.from_model(3)
