"""Network distance (or time) from every cell to its nearest facility, by street.

One multi-source Dijkstra per layer on the reversed network (the cost of travelling from
each node *to* the nearest facility), then every cell takes the cheaper end of the edge it
is snapped to, plus its access leg; a cell and a facility on the same edge also get the
direct way along that edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equiserve.network.attach import Snapped
from equiserve.network.graph import Network, Weight


@dataclass
class NetworkNearest:
    """Result of :func:`network_nearest_facility`.

    ``cost`` per cell (metres or seconds; ``inf`` if unreachable), ``facility`` per cell
    (-1 if none), and the search's ``node_cost``/``node_label`` (for service areas).
    """

    cost: np.ndarray
    facility: np.ndarray
    node_cost: np.ndarray
    node_label: np.ndarray


def network_nearest_facility(net: Network, cells: Snapped, facilities: Snapped,
                             owner: np.ndarray, weight: Weight = "length",
                             ferries: bool = True, limit: float = np.inf) -> NetworkNearest:
    """Cost from each snapped cell to the nearest snapped facility over the network.

    Parameters
    ----------
    net : Network
    cells, facilities : Snapped
        Cells and facility access points snapped to ``net``.
    owner : ndarray of int
        Facility index of each access point.
    weight : "length" or "time"
    ferries : bool
        Whether ferry edges may be used.
    limit : float
        Stop the search beyond this cost: cells whose nearest facility is farther get
        ``inf`` (exact for every cell within it, since a cell's cost is its node's plus
        the walk from the street).
    """
    owner = np.asarray(owner, dtype=np.int64)
    nodes, offsets, which = net.source_offsets(facilities, weight, to_point=True)
    node_cost, node_label = net.nearest(nodes, offsets, owner[which], weight=weight,
                                        reverse=True, ferries=ferries, limit=limit)
    cost, end = net.point_costs(node_cost, cells, weight, to_nodes=True, return_end=True)
    facility = np.full(len(cost), -1, dtype=np.int64)
    has = end >= 0
    facility[has] = node_label[end[has]]
    i, j, direct = net.same_edge_costs(cells, facilities, weight)
    if len(i):
        # several facilities may share a cell's edge: keep each cell's cheapest
        order = np.lexsort((direct, i))
        i, j, direct = i[order], j[order], direct[order]
        first = np.ones(len(i), bool)
        first[1:] = i[1:] != i[:-1]
        i, j, direct = i[first], j[first], direct[first]
        better = direct < cost[i]
        cost[i[better]] = direct[better]
        facility[i[better]] = owner[j[better]]
    facility[~np.isfinite(cost)] = -1
    return NetworkNearest(cost, facility, node_cost, node_label)
