# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Run many requests with bounded concurrency, a progress bar, and a prompt Ctrl-C."""
import queue
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__: list[str] = []

T = TypeVar("T")
R = TypeVar("R")

# How often the waiting thread wakes up: a Ctrl-C is handled at the latest this late.
_POLL_SECONDS = 0.25


def run_all(tasks: Sequence[T], work: Callable[[T], R], *, max_workers: int,
            progress: bool | None, label: str, cancel: Callable[[], None] | None = None,
            give_up: Callable[[int, dict[int, Exception]], Exception | None] | None = None
            ) -> tuple[list[R | None], dict[int, Exception]]:
    """``work(task)`` for every task, at most ``max_workers`` at once.

    Returns the results in task order (None where a task failed) and the failures by task
    index. A single task runs in the calling thread and its exception propagates as it is.
    A KeyboardInterrupt (or any other BaseException) cancels the tasks not yet started,
    calls ``cancel()`` (which stops the tasks under way, e.g. shuts their sockets down, so
    that the interpreter need not wait for them at exit) and reaches the caller at once.
    ``give_up(successes, failures)``, asked after each failure, may return an exception:
    the tasks not finished are then stopped as for a Ctrl-C and fail with it (a server
    that answers nothing is not sent the rest).
    """
    if len(tasks) == 1:
        return [work(tasks[0])], {}
    results: list[R | None] = [None] * len(tasks)
    errors: dict[int, Exception] = {}
    bar = _progress_bar(len(tasks), progress, label)
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(tasks))),
                              thread_name_prefix="fink-batch")
    # Finished tasks are handed over in a queue: one wake-up per task, where
    # concurrent.futures.wait on the pending set would cost O(tasks) per call.
    finished: queue.SimpleQueue = queue.SimpleQueue()
    done: set[int] = set()
    try:
        for k, task in enumerate(tasks):
            pool.submit(work, task).add_done_callback(lambda f, k=k: finished.put((k, f)))
        while len(done) < len(tasks):
            while True:
                # a timed wait, so that the main thread sees a Ctrl-C within _POLL_SECONDS
                try:
                    k, future = finished.get(timeout=_POLL_SECONDS)
                    break
                except queue.Empty:
                    continue
            done.add(k)
            try:
                results[k] = future.result()
            except Exception as err:  # noqa: BLE001 - each failure is reported by its task
                errors[k] = err
                stop = give_up(len(done) - len(errors), errors) if give_up else None
                if stop is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
                    if cancel is not None:
                        cancel()
                    _keep_finished(finished, results, errors, done)
                    errors.update({i: stop for i in range(len(tasks)) if i not in done})
                    break
            if bar is not None:
                bar.update(1)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        if cancel is not None:
            cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.shutdown(wait=True)
    return results, errors


def _keep_finished(finished: queue.SimpleQueue, results: list, errors: dict,
                   done: set[int]) -> None:
    """The tasks that finished meanwhile keep their results (or failures)."""
    while True:
        try:
            k, future = finished.get_nowait()
        except queue.Empty:
            return
        if future.cancelled():  # never started: not sent
            continue
        done.add(k)
        try:
            results[k] = future.result()
        except Exception as err:  # noqa: BLE001 - as in run_all
            errors[k] = err


def _progress_bar(total: int, progress: bool | None, label: str):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        from astropy.utils.console import ProgressBar
        return _AstropyBar(ProgressBar(total, ipython_widget=False, file=sys.stderr))
    return tqdm(total=total, unit="request", desc=label, file=sys.stderr)


class _AstropyBar:
    """astropy's ProgressBar with tqdm's update/close."""

    def __init__(self, bar):
        self._bar = bar

    def update(self, n: int) -> None:
        self._bar.update()

    def close(self) -> None:
        self._bar.__exit__(None, None, None)
