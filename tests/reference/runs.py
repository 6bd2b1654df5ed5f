"""The command-line runs whose outputs the reference test compares (see digest.py).

Each run is an ``equiserve`` argument list; ``{out}`` is its output folder, ``{demo}`` the
folder of the demo run (its inputs are in ``{demo}/inputs``), ``{tiny}`` the tiny street
study of :func:`write_tiny`, ``{tiny_plain}`` the tiny study by straight lines and
``{zhuhai}`` the examples/zhuhai folder pointed at the data.
"""

from __future__ import annotations

from pathlib import Path

DEMO = "demo"  # the run whose folder is {demo}
RUNS: dict[str, list[str]] = {
    "demo": ["demo", "--out", "{out}"],
    "demo_sites": ["sites", "{demo}/inputs/study.toml", "--layer", "primary_schools",
                   "--count", "5", "--out", "{out}", "--offline"],
    "demo_scenario": ["scenario", "{demo}/inputs/study.toml", "--plan",
                      "{demo}/inputs/plan.toml", "--out", "{out}", "--offline"],
    "demo_forecast": ["forecast", "{demo}/inputs/study.toml", "--plan",
                      "{demo}/inputs/plan.toml", "--out", "{out}", "--offline"],
    "tiny_report": ["report", "{tiny}", "--out", "{out}", "--offline"],
    "tiny_sites_lscp": ["sites", "{tiny}", "--layer", "schools", "--model", "lscp",
                        "--target", "0.4", "--out", "{out}", "--offline"],
    "tiny_plain_lattice": ["sites", "{tiny_plain}", "--layer", "schools", "--model", "lscp",
                           "--target", "0.95", "--lattice", "--spacing", "300", "--out",
                           "{out}", "--offline"],
    "tiny_sites_capacitated": ["sites", "{tiny}", "--layer", "clinics", "--model",
                               "capacitated", "--count", "2", "--capacity", "30", "--out",
                               "{out}", "--offline"],
    "tiny_sites_maxmin": ["sites", "{tiny}", "--layer", "schools", "--model", "maxmin",
                          "--count", "1", "--out", "{out}", "--offline"],
    "tiny_sites_pmedian": ["sites", "{tiny}", "--layer", "clinics", "--model", "pmedian",
                           "--count", "1", "--out", "{out}", "--offline"],
}
ZHUHAI_RUNS: dict[str, list[str]] = {
    "zhuhai_report": ["report", "{zhuhai}/study.toml", "--out", "{out}", "--offline"],
    "zhuhai_sites": ["sites", "{zhuhai}/study.toml", "--layer", "schools", "--count", "3",
                     "--model", "pmedian", "--out", "{out}", "--offline"],
    "zhuhai_scenario": ["scenario", "{zhuhai}/study.toml", "--plan",
                        "{zhuhai}/plan2017.toml", "--out", "{out}", "--offline"],
    "zhuhai_forecast": ["forecast", "{zhuhai}/study.toml", "--plan", "{zhuhai}/plan2017.toml",
                        "--out", "{out}", "--offline"],
}


def write_tiny(folder: Path) -> Path:
    """The tiny study on its streets: schools by 500 m walk, clinics by 15 min walk."""
    from equiserve.testing import write_tiny_study

    return write_tiny_study(folder, network=True,
                            school_std='{ mode = "walk", distance_m = 500 }',
                            clinic_std='{ mode = "walk", minutes = 15 }')


def write_tiny_plain(folder: Path) -> Path:
    """The tiny study with its straight-line standards."""
    from equiserve.testing import write_tiny_study

    return write_tiny_study(folder)


def argv(run: list[str], **paths: Path) -> list[str]:
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in run]
