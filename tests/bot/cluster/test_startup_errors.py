"""A configured server that does not answer stops `policybot serve` / `index` with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals.bench.server import free_port, serve_env


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "POLICYBOT_DATABASE_URL",
            "postgresql+psycopg://policybot@127.0.0.1:{port}/policybot",
            "cannot use the database",
        ),
        ("POLICYBOT_REDIS_URL", "redis://127.0.0.1:{port}/0", "cannot reach Redis"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "index"])
def test_unreachable_server_is_one_clear_message(
    tmp_path: Path, variable: str, value: str, message: str, command: str
) -> None:
    env = serve_env(tmp_path / "data", extra={variable: value.format(port=free_port())})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "policybot"), command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "password" not in done.stderr
