# widget-server: gunicorn on python:3.11-slim, as a non-root user.
#   docker build -t widget-server .
#   docker run -e WIDGET_DATABASE_URL=... -e WIDGET_SECRET_KEY=... -p 8000:8000 widget-server
# (or docker compose, see docker-compose.yml and docs/deploy.md)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY widget_server ./widget_server
# Wheels for the project and every dependency, built once, installed below without a compiler.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The code runs from /app, so static/ (the widget) sits beside the package.
    PYTHONPATH=/app \
    WIDGET_BIND=0.0.0.0:8000 \
    WIDGET_INSTANCE_PATH=/data \
    # gunicorn workers write their metrics here; /metrics sums them (tmpfs-like, per container).
    PROMETHEUS_MULTIPROC_DIR=/tmp/widget-metrics

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin widget \
    && mkdir -p /data /tmp/widget-metrics \
    && chown widget:widget /data /tmp/widget-metrics \
    && chmod 0700 /data

COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

WORKDIR /app
COPY --chown=root:root widget_server ./widget_server
COPY --chown=root:root static ./static

USER widget
EXPOSE 8000
VOLUME ["/data"]
# Liveness for plain `docker run`; compose checks readiness (/readyz) instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# exec form: gunicorn is PID 1 and gets SIGTERM itself, so it stops gracefully.
CMD ["gunicorn", "-c", "python:widget_server.ops.gunicorn_conf", "widget_server:create_app()"]
