"""gunicorn settings for widget-server (``gunicorn -c python:widget_server.gunicorn_conf``).

Threads, not more processes, by default: without Redis the rate limits live
in process memory, and one process keeps them exact. With WIDGET_REDIS_URL set
the limits are shared, so more worker processes are safe.
"""
import multiprocessing
import os

bind = os.environ.get("WIDGET_BIND", "127.0.0.1:8000")
_default_workers = min(multiprocessing.cpu_count(), 4) if os.environ.get("WIDGET_REDIS_URL") else 1
workers = int(os.environ.get("WIDGET_WORKERS", _default_workers))
worker_class = "gthread"
threads = int(os.environ.get("WIDGET_THREADS", 8))
timeout = 30
graceful_timeout = 20  # finish in-flight requests on SIGTERM before exiting
keepalive = 5
# Recycle workers now and then (a leak cannot grow forever); jitter avoids a thundering herd.
# Not too often: a new worker costs about a second of CPU and starts with a cold read cache,
# and at a few thousand requests per second 10,000 requests is only seconds (bench/run.py).
max_requests = int(os.environ.get("WIDGET_MAX_REQUESTS", 200000))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = "*"  # ProxyFix (WIDGET_TRUSTED_PROXIES) decides what to trust
accesslog = None  # the app writes JSON access lines with a request id (observability.py)
errorlog = "-"
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


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
