"""8 processes x 40 records through the CLI, with a signing key present (automatic checkpoints):
no command fails after its event committed, every event is stored exactly once, verify passes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.scale.conftest import clean_env, run_cli, store_args
from tests.helpers import HARBOUR

PROCESSES = 8
EACH = 40
WORKER = Path(__file__).with_name("cli_record_worker.py")


def test_concurrent_records_with_automatic_checkpoints_never_fail_after_committing(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = stores.new()
    key = tmp_path / "keys" / "provider.key"
    args = [*store_args(settings), "--key", str(key), "--checkpoint-file", str(tmp_path / "checkpoints.jsonl")]
    assert run_cli([*args, "keys", "init"]).returncode == 0
    assert run_cli([*args, "import", str(HARBOUR)]).returncode == 0
    ready = tmp_path / "ready"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(w), str(EACH), str(ready), json.dumps(args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        for w in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(ready.glob("ready-*"))) < PROCESSES:
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.01)
    (ready / "go").touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results += json.loads(out)
    # Check no command reported a failure, whatever it printed as a warning.
    failures = [r for r in results if r[1] != 0]
    assert failures == []
    # Check each event is stored exactly once, and the store verifies against the outside file.
    exported = run_cli([*args, "export"])
    ids = [json.loads(line)["event_id"] for line in exported.stdout.splitlines()]
    wanted = {f"w{w}-{i:03d}" for w in range(PROCESSES) for i in range(EACH)}
    assert sorted(i for i in ids if i in wanted) == sorted(wanted)
    assert len(ids) == 70 + PROCESSES * EACH
    verified = run_cli(
        [*args, "verify", "--checkpoint", str(tmp_path / "checkpoints.jsonl"), "--trusted-key", f"{key}.pub"]
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
