"""`check --jobs`: large inputs checked by worker processes, merged in input order.

The parent reads every input and cuts it into documents (cheap, `inputs.cut`); chunks of
documents go to forked workers, which inherit the compiled engine, and their reports are
merged in chunk order, so the output is exactly what one process prints. Small inputs (fewer
than `MIN_PARALLEL_DOCUMENTS` documents) and platforms without ``fork`` run in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shared.check.inputs import Document, Problem, Stream, all_documents, stream_documents
from shared.check.kinds import KindFilter
from shared.check.report import Report
from shared.check.run import ObjectKey, check_documents
from shared.policy.engine import PolicyEngine

MIN_PARALLEL_DOCUMENTS: Final = 2_000
"""Below this many documents, starting workers costs more than it saves."""
MAX_AUTO_JOBS: Final = 8
_MIN_CHUNK: Final = 250


def auto_jobs() -> int:
    """The CPUs this process may use (``--jobs 0``), at most `MAX_AUTO_JOBS`."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_AUTO_JOBS))


def can_fork() -> bool:
    """Whether workers can inherit the engine (Linux's fork; elsewhere one process)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True, slots=True)
class _Chunk:
    stream: int
    first: int
    stop: int | None


@dataclass(frozen=True, slots=True)
class _Work:
    engine: PolicyEngine
    inputs: Sequence[Problem | Stream]
    chunks: list[_Chunk]
    old: dict[ObjectKey, dict[str, Any]] | None
    kinds: KindFilter


_WORK: _Work | None = None  # set by the parent just before the workers fork


def check_inputs(
    engine: PolicyEngine,
    inputs: Sequence[Problem | Stream],
    old: dict[ObjectKey, dict[str, Any]] | None,
    kinds: KindFilter,
    jobs: int,
) -> Report:
    """The report of checking every input, with up to ``jobs`` processes."""
    documents = sum(len(i.segments) for i in inputs if isinstance(i, Stream))
    if jobs <= 1 or documents < MIN_PARALLEL_DOCUMENTS or not can_fork():
        return check_documents(engine, all_documents(inputs), old, kinds)
    size = max(_MIN_CHUNK, documents // (jobs * 8))
    chunks: list[_Chunk] = []
    for number, item in enumerate(inputs):
        if isinstance(item, Problem) or item.lines is None:
            chunks.append(_Chunk(number, 0, None))
            continue
        count = len(item.segments)
        chunks.extend(
            _Chunk(number, first, min(first + size, count)) for first in range(0, count, size)
        )
    global _WORK
    _WORK = _Work(engine, inputs, chunks, old, kinds)
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=_ignore_sigint) as pool:
            parts = pool.imap(_check_chunk, range(len(chunks)))
            return _merge(chunks, parts)
    finally:
        _WORK = None


def _merge(chunks: list[_Chunk], parts: Iterator[tuple[Report, bool]]) -> Report:
    """The chunks' reports in order; after a chunk that read the rest of its stream (a YAML
    error), the stream's later chunks are dropped, as one process would never read them."""
    report = Report()
    done: set[int] = set()
    for chunk, (part, read_rest) in zip(chunks, parts, strict=True):
        if chunk.stream in done:
            continue
        report.results.extend(part.results)
        report.skipped.extend(part.skipped)
        report.problems.extend(part.problems)
        if read_rest:
            done.add(chunk.stream)
    return report


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def _check_chunk(number: int) -> tuple[Report, bool]:
    work = _WORK
    assert work is not None  # forked after it was set
    chunk = work.chunks[number]
    item = work.inputs[chunk.stream]
    if isinstance(item, Problem):
        return Report(problems=[item]), True
    read_rest = False

    def documents() -> Iterator[Document | Problem]:
        nonlocal read_rest
        read_rest = yield from stream_documents(item, chunk.first, chunk.stop)

    report = check_documents(work.engine, documents(), work.old, work.kinds)
    return report, read_rest
