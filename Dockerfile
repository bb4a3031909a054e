# syntax=docker/dockerfile:1
# The jiesu application image. The API, the Temporal worker and the one-shot jobs (migrate,
# register-search-attributes) all run from it; docker-compose.yml chooses the command:
#   uvicorn api.main:app --host 0.0.0.0 --port 8000   (default)
#   python worker.py
#   python -m db.migrate
#   python -m devstack.search_attributes

# --- build: install the project and its pinned dependencies into a virtualenv ------------
FROM python:3.12-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY . .
RUN pip install .

# --- runtime ---------------------------------------------------------------------------
FROM python:3.12-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    JIESU_DATA_DIR=/var/lib/jiesu

RUN groupadd --system --gid 10001 jiesu \
 && useradd --system --uid 10001 --gid jiesu --create-home --home-dir /home/jiesu \
        --shell /usr/sbin/nologin jiesu \
 && mkdir -p /var/lib/jiesu \
 && chown jiesu:jiesu /var/lib/jiesu

COPY --from=build /opt/venv /opt/venv

# The whole project tree (what .dockerignore lets through: the packages, worker.py,
# settings.py, alembic.ini, migrations/, seed data) sits beside the installed package, laid
# out as in a checkout: `python worker.py` and `python -m db.migrate` run from here, and
# db.migrate finds alembic.ini and migrations/ next to settings.py (its PROJECT_ROOT).
# It stays owned by root: the application cannot rewrite itself.
WORKDIR /app
COPY . .
RUN python -m compileall -q /app

USER 10001:10001

EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
