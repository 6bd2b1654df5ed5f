"""equiserve: measure and close gaps in basic public services.

The public API is re-exported here; see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

__version__ = "0.1.0"
