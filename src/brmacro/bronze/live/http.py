"""HTTP layer of the live connectors: retries with backoff, an on-disk cache and a raw archive.

Every live connector (SGS, FRED, PTAX, Focus, Yahoo, B3, Treasury) fetches through one
:class:`HttpClient` per source. The client

* retries HTTP 5xx, HTTP 429 (honouring ``Retry-After`` seconds), timeouts and connection errors
  with exponential backoff and full jitter, ``retries`` times after the first attempt, then raises
  :class:`SourceError` naming the source, the context (series, date range), the URL (secrets
  redacted), the last HTTP status and the number of attempts;
* caches each answer on disk under ``cache_dir/<source>/<key>.bin`` with a sidecar
  ``<key>.json`` (HTTP status, fetch time in UTC, redacted URL, SHA-256), so an aligned chunk
  (a calendar year of a series) is downloaded once however many sessions read it; ``fresh=True``
  re-fetches (the connectors use it for the chunk that is still open);
* keeps an append-only raw archive ``cache_dir/<source>/archive/<key>/<UTC time>-<sha8>.bin`` +
  ``.json`` of every response body it received, with its fetch time (DOMAIN A6);
* never writes an API key into a log line, an exception or a file name: query parameters named
  like a secret (``api_key``, ``token``, ...) are replaced by ``REDACTED`` and left out of the
  cache hash.

The fetch times live in the cache, never in partition artifacts.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

__all__ = [
    "SECRET_PARAMS",
    "HttpClient",
    "HttpResult",
    "PayloadError",
    "SourceError",
    "redact",
]

log = logging.getLogger("brmacro.bronze.live.http")

SECRET_PARAMS: frozenset[str] = frozenset({"api_key", "apikey", "token", "access_token", "key", "password"})
"""Query parameter names whose values are secrets: redacted everywhere, never hashed into cache names."""

RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_SECRET_RE = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS)) + r")=([^&#\s]*)")
_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")


class _RedactFilter(logging.Filter):
    """Redact secret query parameters from third-party log records (urllib3 logs full URLs at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


_REDACT_FILTER = _RedactFilter()
_REDACTED_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "requests")


def _install_redaction() -> None:
    """Attach the redacting filter to the HTTP libraries' loggers (idempotent)."""
    for name in _REDACTED_LOGGERS:
        lg = logging.getLogger(name)
        if _REDACT_FILTER not in lg.filters:
            lg.addFilter(_REDACT_FILTER)


class SourceError(RuntimeError):
    """A source could not be fetched (HTTP error, retries exhausted, network failure).

    Attributes
    ----------
    source : str
        The source name (``bcb_sgs``, ``fred``, ...).
    url : str
        The request URL with secrets redacted.
    status : int or None
        The last HTTP status received (None when no response came back).
    attempts : int
        Number of requests made.
    body : bytes
        The start of the last response body (for diagnosing 4xx answers), empty when none.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        url: str,
        status: int | None,
        attempts: int,
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.source = source
        self.url = url
        self.status = status
        self.attempts = attempts
        self.body = body


class PayloadError(ValueError):
    """A response arrived but its payload is unusable (HTML page, truncated JSON, bad values, duplicates).

    The message names the source, the series or field, the requested date range and what is wrong.
    """


def redact(text: str) -> str:
    """Replace the value of every secret query parameter (``api_key=...``) in ``text`` by ``REDACTED``."""
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}=REDACTED", text)


@dataclass(frozen=True)
class HttpResult:
    """One answer, from the network or from the cache.

    Attributes
    ----------
    status : int
        HTTP status.
    body : bytes
        Response body.
    fetched_at : datetime.datetime
        When it was fetched (UTC).
    from_cache : bool
        True when served from the on-disk cache without a request.
    """

    status: int
    body: bytes
    fetched_at: dt.datetime
    from_cache: bool


def _full_url(url: str, params: Mapping[str, str] | None) -> str:
    if not params:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(dict(params), safe="@'(),$:/")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or HTTP date), None when absent/invalid."""
    raw = resp.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - _utcnow()).total_seconds())


class HttpClient:
    """Blocking HTTP client of one source with retries, an on-disk cache and a raw archive.

    Parameters
    ----------
    source : str
        Source name used in messages and as the cache sub-folder (``bcb_sgs``, ``fred``, ...).
    cache_dir : pathlib.Path or None
        Root of the cache; ``None`` disables caching and archiving.
    timeout : float
        Connect and read timeout of one request, seconds.
    retries : int
        Retries after the first attempt (``retries + 1`` requests at most).
    backoff : float
        Base delay, seconds: the wait before retry ``k`` (1-based) is uniform in
        ``[0, min(max_backoff, backoff * 2**(k-1))]`` (full jitter).
    max_backoff : float
        Cap of one backoff delay, seconds (also caps a ``Retry-After``).
    sleep : callable
        ``sleep(seconds)``; tests inject a recorder.
    session : requests.Session, optional
        Session to use (a new one by default).
    rng : random.Random, optional
        Source of the jitter (a fresh ``random.Random()`` by default).
    offline : bool
        Serve every request from the cache, even a ``fresh`` one, and never touch the network; a request
        that is not cached raises :class:`SourceError`. Used by ``live.on_source_failure: stale``.

    Attributes
    ----------
    requests_count : int
        Number of HTTP requests actually sent (cache hits do not count).
    served_from_cache : list of datetime
        Fetch times (UTC) of the cache entries served in offline mode.
    """

    def __init__(
        self,
        *,
        source: str,
        cache_dir: Path | None,
        timeout: float,
        retries: int,
        backoff: float,
        max_backoff: float,
        sleep: Callable[[float], Any] = time.sleep,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
        offline: bool = False,
    ) -> None:
        if not source or _SAFE_RE.search(source):
            raise ValueError(f"HttpClient: source name {source!r} must be a plain identifier")
        if timeout <= 0 or retries < 0 or backoff < 0 or max_backoff < 0:
            raise ValueError(
                f"HttpClient({source}): timeout must be > 0 and retries/backoff/max_backoff >= 0, got "
                f"timeout={timeout}, retries={retries}, backoff={backoff}, max_backoff={max_backoff}"
            )
        self.source = source
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.sleep = sleep
        self.session = session if session is not None else requests.Session()
        self.rng = rng if rng is not None else random.Random()
        self.requests_count = 0
        self.offline = bool(offline)
        self.served_from_cache: list[dt.datetime] = []
        _install_redaction()

    # ------------------------------------------------------------------ cache paths
    def cache_name(self, url: str, params: Mapping[str, str] | None = None, cache_key: str | None = None) -> str:
        """File-name stem of a request in the cache: the sanitised ``cache_key``, or a hash of URL + params.

        Secret parameters are left out of the hash; a ``cache_key`` containing a secret value is refused.
        """
        secrets = [str(v) for k, v in (params or {}).items() if k.lower() in SECRET_PARAMS and str(v)]
        if cache_key is not None:
            if any(s in cache_key for s in secrets) or redact(cache_key) != cache_key:
                raise ValueError(f"{self.source}: a cache key must not contain a secret ({redact(cache_key)!r})")
            stem = _SAFE_RE.sub("_", cache_key).strip("._") or "key"
            if len(stem) > 150:
                stem = stem[:100] + "-" + hashlib.sha256(cache_key.encode()).hexdigest()[:16]
            return stem
        public = sorted((k, str(v)) for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS)
        digest = hashlib.sha256(json.dumps([redact(url), public]).encode()).hexdigest()[:32]
        return f"req-{digest}"

    def _paths(self, stem: str) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        base = self.cache_dir / self.source
        return base / f"{stem}.bin", base / f"{stem}.json"

    def cached(self, url: str, params: Mapping[str, str] | None = None, *, cache_key: str | None = None) -> (
        HttpResult | None
    ):
        """The cached answer of a request, or None when it is not cached (or the cache is off/corrupt)."""
        paths = self._paths(self.cache_name(url, params, cache_key))
        if paths is None or not paths[0].exists() or not paths[1].exists():
            return None
        try:
            meta = json.loads(paths[1].read_text())
            body = paths[0].read_bytes()
            if hashlib.sha256(body).hexdigest() != meta["sha256"]:
                log.warning("%s: cache entry %s does not match its checksum; ignoring it", self.source, paths[0].name)
                return None
            return HttpResult(int(meta["status"]), body, dt.datetime.fromisoformat(meta["fetched_at"]), True)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: unreadable cache entry %s; ignoring it", self.source, paths[1].name)
            return None

    def _store(self, stem: str, url: str, result: HttpResult, *, cache: bool) -> None:
        paths = self._paths(stem)
        if paths is None:
            return
        sha = hashlib.sha256(result.body).hexdigest()
        meta = {
            "source": self.source,
            "url": redact(url),
            "status": result.status,
            "fetched_at": result.fetched_at.isoformat(),
            "sha256": sha,
            "bytes": len(result.body),
        }
        meta_bytes = json.dumps(meta, indent=1, sort_keys=True).encode()
        stamp = result.fetched_at.strftime("%Y%m%dT%H%M%S%fZ")
        arch = paths[0].parent / "archive" / stem / f"{stamp}-{sha[:8]}"
        if not arch.with_suffix(".bin").exists():  # append-only: never overwrite an archived response
            _atomic_write(arch.with_suffix(".bin"), result.body)
            _atomic_write(arch.with_suffix(".json"), meta_bytes)
        if cache:
            _atomic_write(paths[0], result.body)
            _atomic_write(paths[1], meta_bytes)

    # ------------------------------------------------------------------ fetching
    def _delay(self, attempt: int, resp: requests.Response | None) -> float:
        if resp is not None and resp.status_code == 429:
            ra = _retry_after(resp)
            if ra is not None:
                return min(ra, self.max_backoff)
        cap = min(self.max_backoff, self.backoff * (2.0 ** (attempt - 1)))
        return self.rng.uniform(0.0, cap)

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        cache_key: str | None = None,
        fresh: bool = False,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
        validate: Callable[[int, bytes], object] | None = None,
        context: str = "",
    ) -> HttpResult:
        """Fetch a URL (or serve it from the cache) and return status and body.

        Parameters
        ----------
        url : str
            URL without the query string given in ``params`` (it may hold its own query string).
        params : mapping, optional
            Query parameters (secret ones such as ``api_key`` are redacted in messages and never hashed).
        cache_key : str, optional
            Stable name of the cache entry (e.g. ``"433-2019"``); a hash of URL + public params by default.
        fresh : bool
            Re-fetch even when cached (the answer then replaces the cache entry).
        headers : mapping, optional
            Extra request headers.
        accept : collection of int
            Statuses that count as an answer (cached and returned); others that are not retried raise.
        validate : callable, optional
            ``validate(status, body)`` of an accepted answer, called before it is cached; whatever it raises
            (e.g. :class:`PayloadError`) propagates and the answer is archived but not cached.
        context : str
            What is being fetched (series, date range), put in error messages.

        Returns
        -------
        HttpResult

        Raises
        ------
        SourceError
            After the retries are exhausted, or on a status neither accepted nor retryable.
        """
        stem = self.cache_name(url, params, cache_key)
        if self.offline:
            hit = self.cached(url, params, cache_key=cache_key)
            if hit is None or hit.status not in accept:
                what = f" ({context})" if context else ""
                raise SourceError(
                    f"{self.source}{what}: not in the cache (offline) for {redact(_full_url(url, params))}",
                    source=self.source, url=redact(_full_url(url, params)), status=None, attempts=0,
                )
            self.served_from_cache.append(hit.fetched_at)
            return hit
        if not fresh:
            hit = self.cached(url, params, cache_key=cache_key)
            if hit is not None and hit.status in accept:
                return hit
        full = _full_url(url, params)
        shown = redact(full)
        what = f" ({context})" if context else ""
        attempts = 0
        last_status: int | None = None
        last_body = b""
        last_reason = ""
        while True:
            attempts += 1
            self.requests_count += 1
            resp: requests.Response | None = None
            try:
                log.debug("%s: GET %s (attempt %d)", self.source, shown, attempts)
                resp = self.session.get(full, headers=dict(headers or {}), timeout=(self.timeout, self.timeout))
                body = resp.content
            except (requests.Timeout, requests.ConnectionError) as exc:
                resp = None
                last_status = None
                last_reason = f"{type(exc).__name__}"
            except requests.RequestException as exc:
                raise SourceError(
                    f"{self.source}{what}: request failed ({type(exc).__name__}) for {shown}",
                    source=self.source, url=shown, status=None, attempts=attempts,
                ) from None
            else:
                last_status, last_body = resp.status_code, body[:2000]
                if resp.status_code in accept:
                    result = HttpResult(resp.status_code, body, _utcnow(), False)
                    try:
                        if validate is not None:
                            validate(resp.status_code, body)
                    except BaseException:
                        self._store(stem, full, result, cache=False)
                        raise
                    self._store(stem, full, result, cache=True)
                    return result
                if resp.status_code not in RETRY_STATUSES:
                    excerpt = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
                    raise SourceError(
                        f"{self.source}{what}: HTTP {resp.status_code} for {shown} after {attempts} attempt(s)"
                        + (f": {redact(excerpt)}" if excerpt else ""),
                        source=self.source, url=shown, status=resp.status_code, attempts=attempts, body=body[:2000],
                    )
                last_reason = f"HTTP {resp.status_code}"
            if attempts > self.retries:
                status = f"HTTP {last_status}" if last_status is not None else last_reason
                raise SourceError(
                    f"{self.source}{what}: giving up after {attempts} attempts; last error {status} for {shown}",
                    source=self.source, url=shown, status=last_status, attempts=attempts, body=last_body,
                )
            delay = self._delay(attempts, resp)
            log.warning("%s%s: %s from %s; retry %d/%d in %.2f s", self.source, what, last_reason, shown,
                        attempts, self.retries, delay)
            self.sleep(delay)

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        cache_key: str | None = None,
        fresh: bool = False,
        headers: Mapping[str, str] | None = None,
        validate: Callable[[int, bytes], object] | None = None,
        context: str = "",
    ) -> bytes:
        """Body of a ``200`` answer (see :meth:`fetch`; any other final status raises :class:`SourceError`)."""
        return self.fetch(
            url, params, cache_key=cache_key, fresh=fresh, headers=headers, validate=validate, context=context
        ).body
