"""Facility layers: readers, checks, capacity and access points."""

from equiserve.facilities.layer import FacilityLayer, load_facility_layer

__all__ = ["FacilityLayer", "load_facility_layer"]
