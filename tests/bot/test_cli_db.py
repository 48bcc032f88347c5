"""`policybot db import-sqlite DIR` moves an embedded data dir into PostgreSQL, once; `db upgrade` migrates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.storage.database import Database
from bot.storage.feedback import FeedbackStore
from evals.bench.server import serve_env
from evals.cluster.services import PostgresServer
from tests.bot.storage.test_migrations import OLD_API_FEEDBACK, _old_data_dir
from tests.conftest import fresh_postgres_database


def _policybot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "policybot"), *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_import_an_embedded_data_dir_once(tmp_path: Path, postgres_server: PostgresServer) -> None:
    old = tmp_path / "old-data"
    old.mkdir()
    _old_data_dir(old, OLD_API_FEEDBACK)
    url = fresh_postgres_database(postgres_server)
    env = serve_env(tmp_path / "new-data", extra={"POLICYBOT_DATABASE_URL": url})
    upgraded = _policybot(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0 and upgraded.stdout.count("is current") == 4
    done = _policybot(["db", "import-sqlite", str(old)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["feedback"] == 2
    assert [r["answer_id"] for r in FeedbackStore(Database(url)).feedback()] == ["a1", "a2"]
    again = _policybot(["db", "import-sqlite", str(old)], env, tmp_path)
    assert again.returncode == 2 and "import into a new database" in again.stderr
