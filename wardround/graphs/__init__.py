"""The ward graph: state, reducers and ``build_graph``."""

from wardround.graphs.state import WardState
from wardround.graphs.ward import build_graph

__all__ = ["WardState", "build_graph"]
