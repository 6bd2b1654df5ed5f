"""Results of analyses and the vocabulary outputs draw them with.

:mod:`.base` (the protocol: ``tables()``, ``overlays()``, ``sections()``, ``notes``),
:mod:`.sections` (report blocks as data), :mod:`.overlays` (map layers as data) and
:mod:`.formats` (how figures are written); the results of :mod:`.coverage`,
:mod:`.equity` (the scorecard) and :mod:`.service_areas`. Sites and scenarios keep their
results beside their analyses (``equiserve.siting.result``, ``equiserve.scenario.result``).
"""
