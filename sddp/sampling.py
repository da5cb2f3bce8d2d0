"""Forward-pass sampling schemes: in-sample, out-of-sample (user noise sampler)
and historical paths. A trajectory is a list of (node index, noise index, omega)."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

__all__ = ["SamplingScheme", "InSample", "OutOfSample", "Historical"]


def _next_node(children, rng):
    """Sample a child (index) of a node; None if the trajectory stops."""
    if not children:
        return None
    if len(children) == 1 and children[0][1] >= 1.0:
        return children[0][0]
    u = rng.random()
    acc = 0.0
    for c, p in children:
        acc += p
        if u < acc:
            return c
    return None  # sub-stochastic: the trajectory terminates


class SamplingScheme:
    """Base class: ``sample_trajectory(graph, rng) -> [(node, noise_index, omega)]``.
    ``noise_index`` is None when ``omega`` is not a support point."""

    def sample_trajectory(self, graph, rng):  # pragma: no cover
        raise NotImplementedError


class InSample(SamplingScheme):
    """Sample transitions and noise from the model's own distributions."""

    def sample_trajectory(self, graph, rng):
        out = []
        node = _next_node(graph.root_children, rng)
        nodes = graph.nodes
        while node is not None:
            nd = nodes[node]
            sp = nd.sp
            k = 0 if len(sp.noise_probs) == 1 else bisect_right(sp.noise_cdf, rng.random())
            out.append((node, k, sp.noise_support[k]))
            node = _next_node(nd.children, rng)
        return out

    def __repr__(self):
        return "InSample()"


class OutOfSample(SamplingScheme):
    """Noise from ``noise_sampler(node_key, rng) -> omega`` (any value accepted by
    the node's parameterisation function); transitions in-sample unless
    ``transition_sampler(node_key or None, rng) -> child key or None`` is given."""

    def __init__(self, noise_sampler, transition_sampler=None):
        self.noise_sampler = noise_sampler
        self.transition_sampler = transition_sampler

    def _child(self, graph, key, children, rng):
        if self.transition_sampler is None:
            return _next_node(children, rng)
        k = self.transition_sampler(key, rng)
        return None if k is None else graph.index[k]

    def sample_trajectory(self, graph, rng):
        out = []
        node = self._child(graph, None, graph.root_children, rng)
        while node is not None:
            nd = graph.nodes[node]
            omega = self.noise_sampler(nd.key, rng)
            out.append((node, _support_index(nd.sp.noise_support, omega), omega))
            node = self._child(graph, nd.key, nd.children, rng)
        return out


class Historical(SamplingScheme):
    """Replay given paths; each path is a list of ``(node_key, omega)`` pairs.
    A path is drawn at random with ``probabilities`` (uniform by default)."""

    def __init__(self, paths, probabilities=None):
        self.paths = [list(p) for p in paths]
        if not self.paths:
            raise ValueError("no paths given")
        n = len(self.paths)
        self.probabilities = (np.full(n, 1.0 / n) if probabilities is None
                              else np.asarray(probabilities, dtype=float))

    def trajectory(self, graph, path):
        out = []
        for key, omega in path:
            i = graph.index[key]
            out.append((i, _support_index(graph.nodes[i].sp.noise_support, omega), omega))
        return out

    def sample_trajectory(self, graph, rng):
        i = int(rng.choice(len(self.paths), p=self.probabilities))
        return self.trajectory(graph, self.paths[i])


def _support_index(support, omega):
    for i, w in enumerate(support):
        try:
            if w is omega or bool(np.all(w == omega)):
                return i
        except Exception:  # noqa: BLE001 - incomparable values are simply different
            continue
    return None
