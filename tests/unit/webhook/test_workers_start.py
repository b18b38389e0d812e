"""The first process announces READY only after every worker reported serving."""

from __future__ import annotations

import os

import pytest

from shared.errors import InputError
from webhook import workers


def test_all_workers_reported() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"11")
    os.close(write_end)
    workers._await_workers(read_end, 2)


def test_a_worker_exiting_before_serving_is_an_error() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"1")
    os.close(write_end)  # the other worker's end closed without a byte: it exited
    with pytest.raises(InputError, match="1 of 2 webhook workers exited before serving"):
        workers._await_workers(read_end, 2)


def test_a_worker_that_never_starts_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_WORKER_START_SECONDS", 0.05)
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(InputError, match="did not start within"):
            workers._await_workers(read_end, 1)
    finally:
        os.close(write_end)
