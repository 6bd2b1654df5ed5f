"""Colours shared by the map and the report's charts, so a group looks the same in both."""

#: Colours of region groups (east, west, island, ...) in order of first appearance.
GROUP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
#: Colours of facility layers in config order.
LAYER_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                 "#17becf", "#bcbd22", "#7f7f7f"]
#: Sequential colours of gap blocks (few to many unserved people).
GAP_COLOURS = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"]
