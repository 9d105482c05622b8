"""``wafer-grammar serve``: its arguments, and a real process that drains on SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from local_support import MODEL, Reply, call

from wafer_grammar.cli.serve_cmd import register

RUNNER = "import sys\nfrom wafer_grammar.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def test_register_adds_serve() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "0", "--api-key", "k", "--enable-test-control"])
    assert (args.host, args.port, args.api_key, args.enable_test_control) == (
        "127.0.0.1",
        0,
        "k",
        True,
    )
    assert callable(args.func)


def test_bad_fault_plan_is_reported(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('[{"kind": "boom"}]')
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, "serve", "--fault-plan", str(plan)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "wafer-grammar: fault kind must be one of status, slow_first_byte, "
        "cut_stream, malformed_json, not 'boom'"
    )


def test_serve_drains_on_sigterm(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"kind": "status", "status": 503, "path": "/v1/models"}]))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WAFER_GRAMMAR_SERVE_API_KEY": "s3cret-key"}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "serve", "--port", "0", "--fault-plan", str(plan)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving {MODEL} at http://127.0.0.1:"), line
        assert line.rstrip().endswith("(API key required)")
        base_url = line.split(" at ")[1].split(" ")[0]
        # The plan file's fault comes first.
        assert call(base_url, "GET", "/v1/models", key="s3cret-key").status == 503
        result: dict[str, Reply] = {}

        def long_request() -> None:
            result["r"] = call(
                base_url,
                "POST",
                "/v1/completions",
                {
                    "model": MODEL,
                    "prompt": "Once upon a time",
                    "max_tokens": 40,
                    "temperature": 0,
                    "stream": True,
                },
                key="s3cret-key",
            )

        thread = threading.Thread(target=long_request)
        thread.start()
        # The access-log line is written when the stream starts.
        assert proc.stderr is not None
        log = ""
        while "POST /v1/completions" not in log:
            line = proc.stderr.readline()
            assert line, "the server exited early"
            log += line
        proc.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        # The request in flight was finished, not cut.
        events = result["r"].events()
        assert events[-1] == "[DONE]"
        assert json.loads(events[-2])["usage"]["completion_tokens"] == 40
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert out.strip().endswith("stopped")
        assert "SIGTERM: finishing running requests, then stopping" in err
        assert "s3cret-key" not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_capacity_and_timeout_flags_reach_the_server(monkeypatch: Any) -> None:
    import wafer_grammar.local.server as server_module
    from wafer_grammar.cli.exits import CommandError
    from wafer_grammar.cli.serve_cmd import serve_command

    seen: dict[str, Any] = {}

    class Capture:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

        def bind(self) -> None:
            raise OSError("stopped here by the test")

    monkeypatch.setattr(server_module, "LocalServer", Capture)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    flags = ["--max-batch", "2", "--max-queued", "5", "--prefix-cache-tokens", "0"]
    flags += ["--idle-timeout", "7.5", "--write-timeout", "3"]
    with pytest.raises(CommandError, match="stopped here by the test"):
        serve_command(parser.parse_args(["serve", "--port", "0", *flags]))
    config = seen["config"]
    assert (config.max_batch, config.max_queued, config.prefix_cache_tokens) == (2, 5, 0)
    assert (config.max_n, config.threads) == (8, None)  # unset flags keep the defaults
    assert (seen["idle_timeout"], seen["write_timeout"]) == (7.5, 3.0)
    assert "header_timeout" not in seen and "body_timeout" not in seen


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--max-batch", "0"],
            "wafer-grammar: --max-batch must be an integer of at least 1, not 0",
        ),
        (
            ["--max-queued", "0"],
            "wafer-grammar: --max-queued must be an integer of at least 1, not 0",
        ),
        (
            ["--prefix-cache-tokens", "-1"],
            "wafer-grammar: --prefix-cache-tokens must be an integer of at least 0, not -1",
        ),
        (["--body-timeout", "0"], "wafer-grammar: the body timeout must be positive, not 0.0"),
    ],
)
def test_bad_capacity_flags_are_reported_before_the_model_loads(
    flags: list[str], message: str
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, "serve", "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stderr.strip()) == (2, message)
