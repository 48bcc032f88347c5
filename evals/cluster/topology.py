"""The deployment of compose.yaml without containers, on loopback: PostgreSQL, Redis, a Chroma server, N
`policybot serve` replicas (each with its own data dir, as containers would have) and nginx in front.

    with LocalCluster(Path(tmp)) as cluster:   # starts everything; stops everything, even on failure
        httpx.get(cluster.url + "/readyz")

Used by `make test-cluster` (tests/cluster/) and the cluster row of `make bench`."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
from pathlib import Path
from types import TracebackType

from evals.bench.server import Server, free_port, start_server
from evals.cluster.services import (
    ChromaServer,
    PostgresServer,
    ProcessServer,
    RedisServer,
    ServiceUnavailable,
)

ADMIN_KEY = "cluster-admin-key"
API_KEYS = ("k-conversation", "k-rate", "k-load", "k-upload", "k-bench")
RATE_LIMIT_PER_MINUTE = 200
INDEX_POLL_SECONDS = 2.0

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 11m;
    upstream policybot {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://policybot;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 120s;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


class NginxServer(ProcessServer):
    def __init__(self, root: Path, upstreams: list[int]) -> None:
        super().__init__("nginx", root)
        self.upstreams = upstreams

    @property
    def url(self) -> str:
        return self.base_url

    def start(self) -> NginxServer:
        executable = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(executable).exists():
            raise ServiceUnavailable("nginx not found (apt-get install nginx)")
        self.root.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.upstreams
        )
        conf = NGINX_CONF.format(
            root=self.root, port=self.port, servers=servers, user="user root;" if os.geteuid() == 0 else ""
        )
        (self.root / "nginx.conf").write_text(conf, encoding="utf-8")

        self._spawn(
            [
                executable,
                "-p",
                str(self.root),
                "-c",
                str(self.root / "nginx.conf"),
                "-e",
                str(self.root / "error.log"),
            ],
            self.answers("/healthz"),
        )
        return self


class LocalCluster:
    def __init__(self, root: Path, replicas: int = 2, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.postgres = PostgresServer()  # under /tmp: the postgres user must reach its directory
        self.redis = RedisServer(root / "redis")
        self.chroma = ChromaServer(root / "chroma")
        self.ports = [free_port() for _ in range(replicas)]
        self.servers: list[Server | None] = [None] * replicas
        self.nginx = NginxServer(root / "nginx", self.ports)
        self.extra_env = dict(extra_env or {})

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.remove()  # throw-away: the PostgreSQL cluster lives outside `root` (under /tmp)

    def start(self) -> None:
        """Servers first, then the replicas together (one builds the index under the lock, the other
        loads it), then nginx."""
        self.postgres.start()
        self.redis.start()
        self.chroma.start()
        with concurrent.futures.ThreadPoolExecutor(len(self.ports)) as pool:
            list(pool.map(self.start_replica, range(len(self.ports))))
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for n in range(len(self.ports)):
            self.stop_replica(n)
        self.chroma.stop()
        self.redis.stop()
        self.postgres.stop()

    def remove(self) -> None:
        self.stop()
        self.postgres.remove()

    # -- replicas ----------------------------------------------------------------------------------
    def replica_env(self) -> dict[str, str]:
        return {
            "POLICYBOT_DATABASE_URL": self.postgres.url,
            "POLICYBOT_REDIS_URL": self.redis.url,
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(self.chroma.port),
            "POLICYBOT_ADMIN_KEY": ADMIN_KEY,
            "POLICYBOT_API_KEYS": json.dumps(list(API_KEYS)),
            "POLICYBOT_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
            "POLICYBOT_INDEX_POLL_SECONDS": str(INDEX_POLL_SECONDS),
            **self.extra_env,
        }

    def start_replica(self, n: int) -> Server:
        workdir = self.root / f"replica-{n}"
        workdir.mkdir(parents=True, exist_ok=True)
        server = start_server(
            workdir / "data",
            workdir,
            workers=1,
            extra_env=self.replica_env(),
            port=self.ports[n],
            timeout=300,
        )
        self.servers[n] = server
        return server

    def stop_replica(self, n: int) -> None:
        server = self.servers[n]
        if server is not None:
            server.stop()
            self.servers[n] = None

    def kill_replica(self, n: int) -> None:
        """SIGKILL: no shutdown, connections cut mid-request."""
        server = self.servers[n]
        assert server is not None
        os.kill(server.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        server.log.close()
        self.servers[n] = None

    def replica_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}"

    @property
    def url(self) -> str:
        return self.nginx.url


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def admin_headers() -> dict[str, str]:
    return {"X-Admin-Key": ADMIN_KEY}
