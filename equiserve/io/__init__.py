"""Input and output: reading vector sources and writing outputs atomically."""

from equiserve.io.atomic import atomic_output_dir, check_output_dir, output_lock
from equiserve.io.vector import read_vector

__all__ = ["atomic_output_dir", "check_output_dir", "output_lock", "read_vector"]
