"""Input and output: reading vector sources (:mod:`.vector`) and tables (:mod:`.tables`),
writing outputs atomically (:mod:`.atomic`).

Nothing is imported here, so that the command line can check its output folder
(:func:`equiserve.io.atomic.check_output_dir`) before the heavy GIS libraries load.
"""
