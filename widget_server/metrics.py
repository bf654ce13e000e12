"""Prometheus metrics. Counters live here so any module can count without cycles."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("widget_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("widget_http_request_seconds", "request latency", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
COMMENTS_CREATED = Counter("widget_comments_created_total", "comments created", ["state"])
RATE_LIMITED = Counter("widget_rate_limited_total", "requests refused by a rate limit")
CACHE = Counter("widget_thread_cache_total", "thread read cache lookups", ["result"])
# Gauges as the workers see them: the feed is up only if it is up in every live worker.
FEED_UP = Gauge("widget_feed_up", "1 while the change feed is live (cached reads ask no database)",
                multiprocess_mode="livemin")
FEED_LOST = Counter("widget_feed_lost_total",
                    "times the change feed was lost (reads fell back to the database)")
STREAMS = Gauge("widget_event_streams", "open event streams", multiprocess_mode="livesum")
STREAMS_REFUSED = Counter("widget_event_streams_refused_total", "event streams refused by a cap", ["cap"])
