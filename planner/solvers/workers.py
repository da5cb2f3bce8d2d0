"""Objects kept warm in forked worker processes, each owning a round-robin share of the items.

``WorkerPool(factory, items, n)`` builds ``factory(items[k::n])`` in worker k (in this process when
n <= 1 or fork is unavailable); ``call(method, *args)`` runs that method on every worker and merges
the dictionaries they return. Used by the sizing scenario decomposition and the L-shaped scenario
LPs, whose solver instances must stay alive between calls so HiGHS re-solves from its last basis.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback


def _serve(conn, factory, share):
    try:
        obj = factory(share)
        conn.send(("ok", None))
        while True:
            method, args = conn.recv()
            if method == "stop":
                break
            conn.send(("ok", getattr(obj, method)(*args)))
    except Exception:  # the parent raises it with the worker's traceback
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class WorkerPool:
    """``factory(share)`` in ``n`` forked processes; ``call`` merges their dict answers."""

    def __init__(self, factory, items, n: int, label: str = "worker"):
        items = list(items)
        self.label = label
        self.n = max(1, min(int(n), len(items)))
        self.local, self.procs, self.conns = None, [], []
        # a daemonic process (a multiprocessing pool's worker) may not have children: work in this process
        if self.n == 1 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
            self.n = 1
            self.local = factory(items)
            return
        ctx = mp.get_context("fork")
        for k in range(self.n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, factory, items[k::self.n]), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.conns.append(parent)
        self._gather()

    def _gather(self) -> dict:
        out, error = {}, None
        for conn in self.conns:
            status, value = conn.recv()
            if status != "ok":
                error = error or value
            elif value:
                out.update(value)
        if error is not None:
            self.close()
            raise RuntimeError(f"{self.label} failed:\n{error}")
        return out

    def call(self, method: str, *args) -> dict:
        if self.local is not None:
            return getattr(self.local, method)(*args) or {}
        for conn in self.conns:
            conn.send((method, args))
        return self._gather()

    def close(self):
        for conn in self.conns:
            try:
                conn.send(("stop", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        self.procs, self.conns = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
