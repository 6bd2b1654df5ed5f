"""Street networks: OSM -> compact CSR graph, attaching points to the streets people walk
from, multi-source Dijkstra, bounded OD, service areas."""

from equiserve.network.attach import Attacher, AttachRules, Snapped, snap_points
from equiserve.network.graph import Network
from equiserve.network.osm import BuildOptions, network_from_osm

__all__ = ["AttachRules", "Attacher", "BuildOptions", "Network", "Snapped",
           "network_from_osm", "snap_points"]
