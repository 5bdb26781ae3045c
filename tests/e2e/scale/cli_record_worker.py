"""A process recording M events through the CLI's own code, one command per event.

``python cli_record_worker.py WORKER M READY_DIR ARGS_JSON``: waits for ``READY_DIR/go``, then
runs ``insightlog ARGS record ... --event-id w<WORKER>-<i>`` M times in this process (the CLI's
main, as a shell would run it, without 320 interpreter starts), and prints a JSON list of
``[event_id, exit_code, stderr]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

from insightlog.cli.main import cli

PAYLOAD = '{"evidence_score": 3, "evidence_category": "observation", "source_type": "spot_check", "summary": "check"}'


def main() -> None:
    worker, count, ready, args = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
    (ready / f"ready-{worker}").touch()
    while not (ready / "go").exists():
        time.sleep(0.005)
    results = []
    for i in range(count):
        event_id = f"w{worker}-{i:03d}"
        err = io.StringIO()
        command = [
            *args,
            "record",
            "SpotCheckRecorded",
            "--service",
            "Harbour Home Care",
            "--theme",
            "medicines.mar_charts",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            f"DM-{worker}",
            "--event-id",
            event_id,
            "--payload",
            PAYLOAD,
        ]
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main(command, prog_name="insightlog", standalone_mode=False)
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                code = 99
                err.write(f"{type(exc).__name__}: {exc}")
        results.append([event_id, code, err.getvalue()])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
