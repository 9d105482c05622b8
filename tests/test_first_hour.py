"""A new user's first hour: one test per case of the issue, named after it.

Cases tested elsewhere, by name:

1. the default prompt: ``tests/tasks/test_tasks_classify.py`` (the 30-review
   regression, >= 26/30 with ``calibrate=True``);
2. mistakes caught before the model loads:
   ``tests/tasks/test_tasks_cli.py::test_mistakes_are_caught_before_anything_loads``;
3. one line and exit 2 instead of tracebacks: the same test, and
   ``tests/test_cli.py::test_base_url_without_a_scheme_is_refused_while_parsing``;
7. hints in the interface's words: ``test_a_schema_error_names_the_cli_way_out``, and
   the chat-template hint in ``tests/tokenize/test_tokenize_cli.py::test_cli_errors``;
8. ``fmt`` keeps comments: ``tests/test_cli.py::test_fmt_keeps_comments_and_is_idempotent``,
   ``test_fmt_check_passes_on_the_shipped_grammars``;
9. ``models`` lists the API's cards: ``tests/tasks/test_tasks_cli.py`` and
   ``tests/tokenize`` (``models`` against a served card list).

The others are here. None depends on timing: a child process is interrupted once
the server has seen its request, and the test waits for it to exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wafer_grammar import EmptyTextWarning, Grammar, GrammarError
from wafer_grammar.errors import TokenizerNotFound

MODEL = "SmolLM2-135M-Instruct"


class _HeldServer:
    """A Wafer-shaped server whose completions never answer until the test ends."""

    def __init__(self) -> None:
        self.request_seen = threading.Event()
        self.release = threading.Event()
        held = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                card = {"id": MODEL, "object": "model", "owned_by": "wafer"}
                self._json({"object": "list", "data": [card]})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                held.request_seen.set()
                held.release.wait(120)
                self._json({"error": {"message": "released", "type": "server_error"}}, 503)

            def _json(self, body: object, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def held_server() -> Iterator[_HeldServer]:
    server = _HeldServer()
    yield server
    server.close()


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WAFER_API_KEY"}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def test_case_4_ctrl_c_on_a_batch_is_one_line_and_a_second_one_is_harmless(
    held_server: _HeldServer, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"text {i}"}) + "\n" for i in range(5)))
    output = tmp_path / "out.jsonl"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wafer_grammar.cli",
            "batch",
            "classify",
            "--labels",
            "positive,negative",
            "--base-url",
            held_server.url,
            "--model",
            MODEL,
            "--input",
            str(source),
            "--output",
            str(output),
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        # whatever the test runner does with Ctrl-C, the child gets the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert held_server.request_seen.wait(120), child.communicate(timeout=5)
        child.send_signal(signal.SIGINT)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err and "terminate called" not in err
    assert err.strip().splitlines()[-1] == "interrupted: run the same command again to resume"
    assert err.count("interrupted") == 1
    for line in output.read_text().splitlines():  # whatever was written is whole
        json.loads(line)


def test_case_5_an_unreachable_hub_fails_at_once_naming_the_way_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import huggingface_hub

    from wafer_grammar.tokenize import load_tokenizer

    # a closed port: the connection is refused, the way an offline machine answers
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    asked: list[bool] = []
    real_download = huggingface_hub.hf_hub_download

    def download(*args: Any, **kwargs: Any) -> Any:
        asked.append(bool(kwargs.get("local_files_only")))
        return real_download(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    with pytest.raises(TokenizerNotFound) as caught:
        load_tokenizer("hub:example-org/not-cached")
    message = str(caught.value)
    assert "the hub is unreachable" in message and f"127.0.0.1:{port}" in message
    assert "hf download example-org/not-cached" in message
    assert asked and all(asked)  # only the cache was read: no request, so no retries


def test_case_6_one_engine_per_process_named_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from wafer_grammar.tasks import backend

    started: list[object] = []

    class FakeServer:
        base_url = "http://127.0.0.1:1/v1"

        class engine:  # the attribute path LocalServer has
            class config:
                model_id = MODEL

        def __init__(self, port: int) -> None:
            started.append(self)

        def start(self) -> FakeServer:
            return self

        def stop(self, grace: float) -> None:
            pass

        def cancel_running(self) -> None:
            self.cancelled = True

    monkeypatch.setattr("wafer_grammar.local.server.LocalServer", FakeServer)
    monkeypatch.setattr(backend, "_shared_server", None)
    monkeypatch.setattr(backend, "_announced", set())
    monkeypatch.setattr("atexit.register", lambda *args: None)
    monkeypatch.delenv("WAFER_API_KEY", raising=False)
    lines: list[str] = []
    for _ in range(3):
        with backend._endpoint(None, None) as (found, url, key):
            backend.announce_once(found)
            lines.append(found.describe())
    assert len(started) == 1 and url == FakeServer.base_url and key is None
    with pytest.raises(KeyboardInterrupt), backend._endpoint(None, None):
        raise KeyboardInterrupt  # the caller has gone: its generations are cut
    assert getattr(started[0], "cancelled", False)


def test_case_6_progress_for_long_python_calls(capsys: pytest.CaptureFixture[str]) -> None:
    from wafer_grammar.tasks.api_sync import run_steps
    from wafer_grammar.tasks.steps import Many, Steps

    def one(value: int) -> Steps[int]:
        return value
        yield  # a body with no calls

    bodies = tuple(one(i) for i in range(3))
    assert run_steps(_many(Many(bodies, 2, long_running=True)), None, progress=True) == [0, 1, 2]  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "3/3" in err
    quiet = tuple(one(i) for i in range(3))
    assert run_steps(_many(Many(quiet, 2, long_running=True)), None, progress=False) == [0, 1, 2]  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""


def _many(step: Any) -> Any:
    return (yield step)


def test_case_10_one_typo_one_error() -> None:
    with pytest.raises(GrammarError) as caught:
        Grammar.from_ebnf('root ::= greeting " " name\ngreeting ::= "hi"\nname := [A-Z]\n')
    [only] = caught.value.diagnostics
    assert (only.code, only.line, only.column) == ("E101", 3, 6)
    assert "did you mean '::='?" in only.message
    with pytest.raises(GrammarError) as caught:
        Grammar.from_ebnf('root ::= greting\ngreeting ::= "hi"\n')
    [only] = caught.value.diagnostics
    assert only.code == "E303" and 'did you mean "greeting"?' in (only.hint or "")


def test_case_11_batch_output_keeps_the_input_order(tmp_path: Path) -> None:
    import asyncio

    from wafer_grammar.tasks import batch
    from wafer_grammar.tasks.progress import NoProgress

    written: list[Any] = []

    class Appender:
        written = 0

        def write(self, record: dict[str, Any]) -> None:
            written.append(record["id"])

    release = {i: asyncio.Event() for i in range(4)}

    async def result(job: Any, shared: Any, client: Any, item: Any) -> dict[str, Any]:
        await release[item.id].wait()
        return {"label": "x"}

    async def run() -> None:
        items = [batch.Item(id=i, text="t", line=i + 1) for i in range(4)]
        job = batch.BatchJob("classify", MODEL, labels=("a", "b"))
        task = asyncio.ensure_future(
            batch.process(
                job,
                None,  # type: ignore[arg-type]
                items,
                Appender(),  # type: ignore[arg-type]
                batch.BatchSummary(total=4, skipped=0),
                NoProgress(),
                concurrency=4,
                shared=object(),  # type: ignore[arg-type]
            )
        )
        for i in (3, 1, 2, 0):  # finish in reverse-ish order
            release[i].set()
            for _ in range(5):
                await asyncio.sleep(0)
        await task

    original = batch._result
    batch._result = result  # type: ignore[assignment]
    try:
        asyncio.run(run())
    finally:
        batch._result = original
    assert written == [0, 1, 2, 3]


def test_case_11_an_empty_text_is_classified_with_a_warning() -> None:
    from wafer_grammar.tasks.design import EMPTY_TEXT_PROBLEM, empty_text_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert empty_text_warnings("  \n") == [EMPTY_TEXT_PROBLEM]
        assert empty_text_warnings("fine") == []
    assert [type(w.message) for w in caught] == [EmptyTextWarning]


def test_case_11_the_model_cache_keeps_no_stale_copy(tmp_path: Path) -> None:
    from wafer_grammar.local.model import _drop_stale_entries

    stale = ("smol-pa-10-20-v1", "smol-pa-10-30-v1", "smol-pa-11-40-v0", "smol-10-20-v1")
    # Another model, and the same model installed elsewhere (another venv): kept.
    kept = ("other-pa-10-20-v1", "smol-pb-10-20-v1")
    for name in (*stale, *kept):
        (tmp_path / name).mkdir()
    current = tmp_path / "smol-pa-12-50-v1"
    current.mkdir()
    _drop_stale_entries(current)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, current.name])


def test_case_11_the_classify_table_is_aligned(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wafer_grammar.cli import tasks_cmd

    found = type(
        "Found",
        (),
        {
            "label": "no",
            "probabilities": {"no": 0.7, "absolutely": 0.2, "yes": 0.1},
            "position_spread": None,
        },
    )()
    lines = tasks_cmd.render_classification(found, orders=1)
    assert lines == ["no", "  no          0.700", "  absolutely  0.200", "  yes         0.100"]


def test_case_11_the_dry_run_ceiling_counts_the_retry() -> None:
    from wafer_grammar.tasks import batch
    from wafer_grammar.tasks import extraction as ext

    job = batch.BatchJob("extract", MODEL, schema={"type": "string"}, max_tokens=50)
    items = [batch.Item(id=1, text="a document", line=1)]
    found = batch.estimate(job, items, 0, None)
    assert found.max_output_tokens == 50 * (1 + ext.RETRY_FACTOR)
    assert "at most" in found.render()
    # The exact method's trie walk has no ceiling, and the estimate says so:
    # tests/tasks/test_tasks_label_trie.py::test_the_usual_walk_estimates_the_requests.


def test_case_11_a_complete_answer_is_a_stop_when_only_the_stop_token_did_not_fit(
    local_server_session: Any,
) -> None:
    batched = local_server_session.server.engine
    grammar = 'root ::= "[1,2,3]"'
    free = batched.complete("Numbers:", grammar=grammar, max_tokens=20, temperature=0)
    (choice,) = free.choices
    assert choice.finish_reason == "stop" and choice.token_ids[-1] in batched.loaded.stop_token_ids
    exact = len(choice.token_ids) - 1  # everything but the stop token
    tight = batched.complete("Numbers:", grammar=grammar, max_tokens=exact, temperature=0)
    assert [(c.text, c.finish_reason) for c in tight.choices] == [("[1,2,3]", "stop")]
    short = batched.complete("Numbers:", grammar=grammar, max_tokens=exact - 1, temperature=0)
    assert short.choices[0].finish_reason == "length"
