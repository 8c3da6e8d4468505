"""Background checks for the web app: a queue and worker threads over one Session.

Network I/O (pages, E-utilities), model inference and database writes, all in threads
the :class:`Checker` starts. The models are loaded once, in their own thread, while the
server already answers; checks queued meanwhile wait for them. Every check shares the
session's E-utilities client, so one rate limiter spaces all their requests.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import queue
import threading
from typing import Any

from claims.split import extract_claims
from claims.types import Document, Report
from pipeline.config import Config
from pipeline.errors import ClaimscanError, PageError
from pipeline.ingest import DOWNLOAD_TIMEOUTS, document_from_bytes, document_from_text
from pipeline.ingest.pages import fetch
from pipeline.report.json import dump_report
from pipeline.run import Models
from pipeline.session import Session
from pipeline.web.store import Store, effective_labels

__all__ = ["Checker"]

log = logging.getLogger("claimscan.web")

_STOP = ""
STOPPED = "the server was stopped while this check ran; submit it again"
JOIN_SECONDS = 30.0
"""How long stopping waits for a check to notice; it notices at its next batch of claims."""


class _Stopped(Exception):
    """Raised inside a running check when the server stops."""


def _preview(documents: list[Document], config: Config) -> tuple[dict[str, Any], int]:
    # The claims a check will look at, shown while it runs: splitting is pure and cheap,
    # and an editor sees what is being checked long before the first verdict.
    docs, total = [], 0
    for doc in documents:
        claims, _ = extract_claims(doc, max_claims=config.max_claims_per_document)
        docs.append({"title": doc.title, "claims": [c.text for c in claims]})
        total += len(claims)
    return {"documents": docs}, total


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def _trim_heap() -> None:
    """Give the heap memory a finished check freed back to the system (glibc only).

    glibc keeps freed memory in its heap, and the tensors and arrays of each check leave
    it too fragmented to shrink by itself: without a trim a server's resident memory
    grows with every check (docs/benchmarks.md has the figures).
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


class Checker:
    """Runs submitted checks in the background, in submission order.

    Args:
        store: Where checks are read from and results written to.
        session: Pages are fetched with ``session.http`` (public addresses only, unless
            the server allows private ones), PubMed searched with ``session.pubmed``;
            its models load once, in a thread of their own, at :meth:`start`. The
            caller closes it after :meth:`stop`.
        workers: Checks run at once. They share the CPU and the NCBI rate limit, so
            more than one mostly helps a short check past a long one.
    """

    def __init__(self, store: Store, session: Session, *, workers: int = 1) -> None:
        self.store = store
        self.session = session
        self.config: Config = session.config
        self._now = session.now
        self._workers = max(1, workers)
        self._queue: queue.Queue[str] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._models: Models | None = None
        self._model_error: str | None = None
        self._models_ready = threading.Event()
        self._stopping = threading.Event()

    # -- lifecycle

    @property
    def ready(self) -> bool:
        """True once the models are loaded."""
        return self._models is not None

    @property
    def model_error(self) -> str | None:
        """Why the models could not be loaded, if they could not."""
        return self._model_error

    def start(self) -> None:
        """Load the models and start the workers (both in the background)."""
        loader = threading.Thread(target=self._load, name="claimscan-models", daemon=True)
        loader.start()
        self._threads.append(loader)
        for n in range(self._workers):
            t = threading.Thread(target=self._work, name=f"claimscan-check-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        for check_id in self.store.pending():
            self._queue.put(check_id)

    def stop(self) -> None:
        """Stop the workers. A running check stops at its next batch and is marked failed;
        queued ones stay queued, and the next start marks them failed (``Store.open``)."""
        self._stopping.set()
        for _ in range(self._workers):
            self._queue.put(_STOP)
        for t in self._threads:
            # The model loader cannot be interrupted; it is a daemon and dies with us.
            t.join(timeout=JOIN_SECONDS if t.name != "claimscan-models" else 0.0)
        self._threads.clear()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._models_ready.wait(timeout)

    def _load(self) -> None:
        try:
            self._models = self.session.models()
        except ClaimscanError as exc:
            self._model_error = str(exc)
            log.error("claimscan: the models could not be loaded: %s", exc)
        finally:
            self._models_ready.set()

    # -- checks

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, *, kind: str, source: str, title: str, data: bytes | None) -> str:
        """Queue a check and return its id.

        Args:
            kind: ``url`` (``source`` is the URL), ``text`` or ``file`` (``data`` holds it).
            source: The URL, the file name, or ``text``.
            title: Shown until the document's own title is known.
            data: The text (UTF-8) or file given.
        """
        check_id = self.store.create(kind=kind, source=source, title=title, data=data)
        self._queue.put(check_id)
        return check_id

    def _work(self) -> None:
        while True:
            check_id = self._queue.get()
            if check_id == _STOP or self._stopping.is_set():
                return
            try:
                self._run(check_id)
            except _Stopped:
                self.store.fail(check_id, STOPPED)
                return
            # The worker thread is the boundary where an unexpected error would otherwise
            # end the thread silently and leave the check "running" until a restart: it
            # is logged with its traceback and the check fails with what it was.
            except Exception as exc:  # noqa: BLE001
                log.exception("claimscan: check %s failed unexpectedly", check_id)
                self.store.fail(
                    check_id,
                    f"internal error ({type(exc).__name__}: {exc}); the server log has details",
                )

    def _documents(self, kind: str, source: str, title: str, data: bytes | None) -> list[Document]:
        now = self._now()
        if kind == "url":
            fetched = fetch(
                self.session.http,
                source,
                max_bytes=self.config.max_page_bytes,
                now=now,
                max_seconds=self.config.timeout * DOWNLOAD_TIMEOUTS,
            )
            return document_from_bytes(
                fetched.content,
                fetched.url,
                now,
                content_type=fetched.content_type,
                charset=fetched.charset,
            )
        if data is None:
            raise PageError(f"{source}: nothing was given to check", subject=source)
        if kind == "text":
            text = data.decode("utf-8")
            return [document_from_text(text, "text", now, title=title or None)]
        return document_from_bytes(data, source, now)

    def _run(self, check_id: str) -> None:
        kind, source, title, data = self.store.take_input(check_id)
        started = self._now()
        try:
            documents = self._documents(kind, source, title, data)
        except ClaimscanError as exc:
            self.store.fail(check_id, str(exc))
            return
        preview, total = _preview(documents, self.config)
        shown = documents[0].title if len(documents) == 1 else f"{len(documents)} items: {source}"
        self.store.set_preview(check_id, shown, preview, total)
        while not self._models_ready.wait(0.2):
            if self._stopping.is_set():
                raise _Stopped
        if self._models is None:
            self.store.fail(check_id, f"the models could not be loaded: {self._model_error}")
            return

        def progress(stage: str, done: int, of: int) -> None:
            if self._stopping.is_set():
                raise _Stopped
            if stage == "classify":
                self.store.set_progress(check_id, done, of)

        try:
            reports, failures = self.session.check_documents(
                documents, models=self._models.with_empty_caches(), progress=progress
            )
        except ClaimscanError as exc:
            self.store.fail(check_id, str(exc))
            return
        report = Report(
            generated_at=started,
            documents=tuple(reports),
            failures=tuple(failures),
            sources=(source,),
        )
        claims = [(c.claim.id, c.verdict.label.value) for d in reports for c in d.claims]
        self.store.finish(check_id, dump_report(report), effective_labels(claims, {}))
        del reports, report
        _trim_heap()
