"""Street networks: OSM -> compact CSR graph, snapping, multi-source Dijkstra, bounded OD,
service areas."""

from equiserve.network.graph import Network
from equiserve.network.osm import BuildOptions, network_from_osm
from equiserve.network.snap import Snapped, snap_points

__all__ = ["BuildOptions", "Network", "Snapped", "network_from_osm", "snap_points"]
