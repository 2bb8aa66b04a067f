"""`make dev` (webserver + daemon) stops cleanly on Ctrl-C: every process of the group exits
within a minute, no traceback, the services say they shut down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_dev_stops_cleanly_on_ctrl_c(tmp_path, postgis):
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "COPROFF_DATABASE_URL": postgis.database_url,
           "COPROFF_LANDING_DIR": str(tmp_path / "landing")}
    out, err = (tmp_path / "dev.out").open("w"), (tmp_path / "dev.err").open("w")
    # A terminal's Ctrl-C sends SIGINT to the whole foreground group: make, dagster dev, its children.
    proc = subprocess.Popen(["make", "-s", "dev", f"DEV_PORT={port}"], cwd=ROOT, env=env, stdout=out, stderr=err,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (tmp_path / "dev.err").read_text()[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the webserver never answered"
                time.sleep(2)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
        time.sleep(1)
        left = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
        assert [line for line in left.splitlines() if " Z" not in line and "<defunct>" not in line] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    logs = (tmp_path / "dev.out").read_text() + (tmp_path / "dev.err").read_text()
    assert "Traceback" not in logs
    assert "Dagster services shut down" in logs
