"""extract against the embedded server: schema and pydantic targets, truncation retry."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from wafer_grammar.client import WaferClient
from wafer_grammar.errors import TruncatedOutput
from wafer_grammar.tasks import extract
from wafer_grammar.tasks.api_sync import extract_full

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 12}},
    "required": ["name"],
    "additionalProperties": False,
}


class Person(BaseModel):
    name: str = Field(max_length=12)


def test_a_schema_gives_a_valid_dict(client: WaferClient, local_server: Any) -> None:
    value = extract("Hi, I am Ann Lee.", SCHEMA, model=local_server.model, client=client)
    assert isinstance(value, dict) and set(value) == {"name"}
    assert isinstance(value["name"], str) and len(value["name"]) <= 12


def test_a_model_gives_an_instance(client: WaferClient, local_server: Any) -> None:
    found = extract_full("Hi, I am Ann Lee.", Person, model=local_server.model, client=client)
    assert isinstance(found.value, Person)
    assert found.to_dict()["value"] == {"name": found.value.name}
    assert len(found.answers) == 1


class Recording:
    """A client that notes each request's max_tokens (the server log has no bodies)."""

    def __init__(self, client: WaferClient) -> None:
        self.client = client
        self.budgets: list[int] = []

    def completions(self, model: str, prompt: Any, **options: Any) -> Any:
        self.budgets.append(options["max_tokens"])
        return self.client.completions(model, prompt, **options)

    def cost(self, answer: Any) -> Any:
        return self.client.cost(answer)


def test_truncation_is_retried_once_with_four_times_the_budget(
    client: WaferClient, local_server: Any
) -> None:
    recording = Recording(client)
    with pytest.raises(TruncatedOutput) as info:
        extract(
            "Hi, I am Ann Lee.", SCHEMA, model=local_server.model, client=recording, max_tokens=1
        )  # type: ignore[arg-type]
    assert recording.budgets == [1, 4]
    assert info.value.viable_prefix is True


def test_bad_targets_and_budgets(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(TypeError) as info:
        extract("x", ["name"], model=local_server.model, client=client)
    assert str(info.value) == (
        "extract() needs a JSON Schema (a dict) or a pydantic model class, not list"
    )
    with pytest.raises(ValueError) as info2:
        extract("x", SCHEMA, model=local_server.model, client=client, max_tokens=0)
    assert str(info2.value) == "max_tokens must be a positive integer, not 0"
