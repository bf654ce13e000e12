"""gunicorn settings for widget-server (``gunicorn -c python:widget_server.gunicorn_conf``).

Threads, not more processes, by default: without Redis the rate limits live
in process memory, and one process keeps them exact. With WIDGET_REDIS_URL set
the limits are shared, so more worker processes are safe.
"""
import ipaddress
import logging
import multiprocessing
import os
import re

from gunicorn.glogging import Logger as _GunicornLogger

from widget_server import config as _config
from widget_server import instance as _instance_module
from widget_server.config import PREFIX

# The WIDGET_* settings (the environment, then the env file), read and checked once in the master
# as create_app would check them in each worker: a bad one stops gunicorn in on_starting with one
# "Error: WIDGET_..." line instead of workers that fail to boot with a traceback each.
try:
    _settings = _config.load()
    _config.check(_settings)
    _instance = _config.instance_folder(_settings["INSTANCE_PATH"])
    _instance_module.private_folder(_instance)
    _config.check_database(_config.database_url(_settings["DATABASE_URL"], _instance))  # type: ignore[arg-type]
    _config_error = None
except _config.ConfigError as exc:
    _settings, _config_error = _config.load({PREFIX + "ENV_FILE": ""}), exc

bind = str(_settings["BIND"])
_default_workers = min(multiprocessing.cpu_count(), 4) if _settings["REDIS_URL"] else 1
workers = int(_settings["WORKERS"] or _default_workers)  # type: ignore[call-overload]
# gthread: each request holds a thread (and an event stream holds it for minutes, so at most
# half of them may: comments/live.py). gevent: a greenlet per connection, for a process that
# holds thousands of event streams (docs/architecture.md, "Live updates").
worker_class = str(_settings["WORKER_CLASS"])
threads = int(_settings["THREADS"])  # type: ignore[call-overload]
worker_connections = int(_settings["STREAMS_MAX"]) + 100  # type: ignore[call-overload]  # gevent only
timeout = 30
graceful_timeout = 20  # finish in-flight requests on SIGTERM before exiting
keepalive = 5
# Recycle workers now and then (a leak cannot grow forever); jitter avoids a thundering herd.
# Not too often: a new worker costs about a second of CPU and starts with a cold read cache,
# and at a few thousand requests per second 10,000 requests is only seconds (bench/run.py).
max_requests = int(_settings["MAX_REQUESTS"])  # type: ignore[call-overload]
max_requests_jitter = max_requests // 10
# Whose X-Forwarded-Proto (and X-Forwarded-Ssl) gunicorn believes. Without trusted proxies
# nobody's: a client must not choose the scheme. With them, the proxy's address, by default
# the loopback one; the app port must then be reachable only through the proxy, because the
# app's ProxyFix believes the hop in front of it (docs/deploy.md).
if _settings["FORWARDED_ALLOW_IPS"] is not None:
    forwarded_allow_ips = ",".join(_settings["FORWARDED_ALLOW_IPS"])  # type: ignore[arg-type]
elif _settings["TRUSTED_PROXIES"]:
    forwarded_allow_ips = "127.0.0.1,::1"
else:
    forwarded_allow_ips = ""
accesslog = None  # the app writes JSON access lines with a request id (observability.py)
errorlog = "-"


_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}"
                   r"(?<=[0-9A-Fa-f])(?!\w)")
_QUERY = re.compile(r"(\s/\S*?)\?\S*")


def _address(match: re.Match) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)  # a time of day, a version number
    return "[address]"


def scrub(message: str) -> str:
    """A gunicorn log message without IP addresses or query strings (mail links carry tokens in them)."""
    if message.startswith("Listening at: "):  # the server's own address, not a client's
        return message
    message = _QUERY.sub(r"\1?[query]", message)
    return _IPV4.sub(_address, _IPV6.sub(_address, message))


class _Scrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = scrub(record.getMessage())
        record.msg, record.args = message, ()
        return True


class Logger(_GunicornLogger):
    """gunicorn's logger, minus client addresses ("Invalid request from ip=...") and query strings
    ("Error handling request /account/reset?token=...") in its own lines."""

    def setup(self, cfg):
        super().setup(cfg)
        if not any(isinstance(f, _Scrubber) for f in self.error_log.filters):
            self.error_log.addFilter(_Scrubber())
        # Its lines in the same format as the app's (JSON, or text for a person: WIDGET_LOG_FORMAT).
        from widget_server.ops import observability

        observability.install_json_logging(_settings["LOG_FORMAT"])
        for handler in self.error_log.handlers:
            handler.setFormatter(observability.formatter())


logger_class = Logger
# gunicorn 25+ opens a control socket at ~/.gunicorn/gunicorn.ctl: one path for every
# instance on the machine (they would replace each other's), and no writable home in the image.
control_socket_disable = True

# Prometheus with several worker processes: each writes its numbers into files in
# one folder and /metrics sums them. Set before any worker imports prometheus_client.
_own_metrics_dir = None
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    _own_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="widget-metrics-")


def on_starting(server):
    if _config_error is not None:  # gunicorn prints "Error: ..." and exits 1
        raise RuntimeError(str(_config_error))
    for warning in _config.warnings(_settings):  # once, in the master: not once per worker
        server.log.warning(warning)
    # Numbers of a previous run of this folder would otherwise be added to this one's.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.unlink(os.path.join(folder, name))


def on_exit(server):
    if _own_metrics_dir:  # made above for this run: leave no folder behind
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)


def post_worker_init(worker):
    """On SIGTERM, and on Ctrl-C or the master's quick stop (SIGINT, SIGQUIT), end the worker's
    open event streams first: the shutdown then waits only for ordinary requests (a stream's
    thread would hold it for graceful_timeout, and the worker be killed). Then prepare the
    widget's files in the background: here, in the worker, never in the master that forks it."""
    import signal
    import threading
    from pathlib import Path

    from widget_server import assets
    from widget_server.comments import live

    def streams_first(handler):
        def handle(sig, frame):
            live.close_all()
            handler(sig, frame)
        return handle

    signal.signal(signal.SIGTERM, streams_first(worker.handle_exit))
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, streams_first(worker.handle_quit))
    if worker_class != "gevent":  # the stream process serves no files
        static = Path(getattr(worker.wsgi, "config", {}).get("STATIC_DIR") or assets.STATIC_DIR)
        threading.Thread(target=assets.warm, args=(static,), name="widget-assets-warm", daemon=True).start()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
