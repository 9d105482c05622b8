"""Structured extraction into a pydantic model, on the embedded engine (no API key needed).

``extract`` turns the model into a grammar, so the output is always JSON of the
model's shape; it comes back validated, as a ``Contact``. Bounded string lengths
keep a small model from rambling (and bound the tokens a document can cost).

Run: .venv/bin/python examples/extract_contacts.py
Against Wafer instead: WAFER_API_KEY=... .venv/bin/python examples/extract_contacts.py GLM-5.1
"""

from __future__ import annotations

import sys

from pydantic import BaseModel, Field

from wafer_grammar.tasks import extract, open_client


class Contact(BaseModel):
    name: str = Field(max_length=24)
    email: str = Field(max_length=32)


# Small models copy better when told to copy (the schema is appended to this line).
INSTRUCTIONS = "Copy the name and the email address exactly as they appear in the text, as JSON."
DOCUMENTS = [
    "Hi, I am Ann Lee. Write to ann@lee.org any time.",
    "Contact: Bob Stone <bob@stone.io>",
]


def main() -> None:
    # open_client applies the backend rule (WAFER_API_KEY set: Wafer; else the embedded
    # engine) and reports which one it picked.
    with open_client() as (client, backend):
        print(backend.describe(), file=sys.stderr)
        model = sys.argv[1] if len(sys.argv) > 1 else backend.embedded_model
        if model is None:
            raise SystemExit("name the model to use: extract_contacts.py MODEL")
        for document in DOCUMENTS:
            contact = extract(
                document,
                Contact,
                model=model,
                client=client,
                instructions=INSTRUCTIONS,
                max_tokens=48,
            )
            print(f"{contact.name!r:<26} {contact.email!r:<34} <- {document}")


if __name__ == "__main__":
    main()
