"""equiserve batch (issue 15): the province's inequality from per-city sums against the
pooled cells, the batch file's errors, a LocalCluster run with a failing city, --resume,
and a real scheduler with two worker processes, one of them killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equiserve.analysis.inequality import gini, theil_t
from equiserve.analysis.province import nested_theil, part_sums, rounded_distribution
from equiserve.batch.jobs import city_jobs
from equiserve.config.batch import load_batch
from equiserve.errors import ConfigError, DataError
from equiserve.testing import write_tiny_study


def test_theil_from_city_sums_equals_the_pooled_cells():
    rng = np.random.default_rng(5)
    xs, ws, cities, groups, parts, city_t = [], [], [], [], [], {}
    for c in range(4):
        n = 500 + 100 * c
        x = rng.gamma(2.0 + c, 1.0 + 0.3 * c, n)
        x[rng.random(n) < 0.05] = np.inf  # unreachable: left out, as the scorecard does
        w = rng.integers(0, 50, n).astype(float)
        g = rng.choice(["east", "west", "island"], n)
        p = part_sums(x, w, g).reset_index(names="group").assign(city=f"c{c}")
        parts.append(p)
        city_t[f"c{c}"] = theil_t(x, w)
        xs.append(x), ws.append(w), cities.append(np.full(n, f"c{c}")), groups.append(g)
    x, w = np.concatenate(xs), np.concatenate(ws)
    t = nested_theil(pd.concat(parts, ignore_index=True), pd.Series(city_t))
    assert t["total"] == pytest.approx(theil_t(x, w), rel=1e-12, abs=1e-15)
    assert t["between_cities"] + t["within_cities"] == pytest.approx(t["total"], abs=1e-12)
    assert t["between_groups_within_cities"] + t["within_groups"] == pytest.approx(
        t["within_cities"], abs=1e-12)
    # between cities by hand: the cities' means as if everyone had their city's mean
    keep = np.isfinite(x) & (w > 0)
    city = np.concatenate(cities)[keep]
    means = pd.Series(x[keep] * w[keep]).groupby(city).sum() / pd.Series(w[keep]).groupby(
        city).sum()
    assert t["between_cities"] == pytest.approx(theil_t(means.reindex(city).to_numpy(),
                                                        w[keep]), rel=1e-10)
    values, weights = rounded_distribution(x, w)
    assert gini(values, weights) == pytest.approx(gini(x, w), abs=1e-4)


def _batch(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "batch.toml"
    path.write_text('[batch]\nname = "Tiny province"\nworkers = 1\n' + body, encoding="utf-8")
    return path


def test_bad_batch_input_names_the_problem(tmp_path):
    with pytest.raises(ConfigError, match=r"city 'a': study .*nowhere/study.toml does not "
                                          "exist"):
        city_jobs(load_batch(_batch(tmp_path, '[[city]]\nname = "a"\n'
                                              'study = "nowhere/study.toml"\n')))
    with pytest.raises(ConfigError, match="two \\[\\[city\\]\\] tables are named 'a'"):
        load_batch(_batch(tmp_path, '[[city]]\nname = "a"\nstudy = "x.toml"\n'
                                    '[[city]]\nname = "a"\nstudy = "y.toml"\n'))
    with pytest.raises(ConfigError, match="cannot be a folder name"):
        load_batch(_batch(tmp_path, '[[city]]\nname = "a/b"\nstudy = "x.toml"\n'))
    write_tiny_study(tmp_path / "t")
    (tmp_path / "template.toml").write_text(
        (tmp_path / "t" / "study.toml").read_text(encoding="utf-8").replace(
            'name = "Tiny test study (synthetic)"', 'name = "${name} (${province})"'),
        encoding="utf-8")
    pd.DataFrame({"name": ["a", "b"]}).to_csv(tmp_path / "cities.csv", index=False)
    tpl = '[template]\nstudy = "template.toml"\ntable = "cities.csv"\n'
    with pytest.raises(ConfigError, match=r"uses \$\{province\} but the table cities.csv "
                                          "has no column 'province'"):
        city_jobs(load_batch(_batch(tmp_path, tpl)))
    pd.DataFrame({"name": ["a", "a"], "province": ["x", "y"]}).to_csv(tmp_path / "cities.csv",
                                                                     index=False)
    with pytest.raises(ConfigError, match="city 'a' is named twice"):
        city_jobs(load_batch(_batch(tmp_path, tpl)))


def test_an_unreachable_scheduler_fails_in_seconds(tmp_path):
    from equiserve.batch import run_batch

    write_tiny_study(tmp_path / "a")
    cfg = load_batch(_batch(tmp_path, '[[city]]\nname = "a"\nstudy = "a/study.toml"\n'))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=f"cannot reach the Dask scheduler at "
                                        f"tcp://127.0.0.1:{port}"):
        run_batch(cfg, tmp_path / "out", scheduler=f"tcp://127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 20


@pytest.mark.slow
def test_a_local_batch_with_a_template_a_failing_city_and_resume(tmp_path):
    from typer.testing import CliRunner

    from equiserve.cli import app

    write_tiny_study(tmp_path / "t")
    text = (tmp_path / "t" / "study.toml").read_text(encoding="utf-8")
    (tmp_path / "t" / "template.toml").write_text(
        text.replace('name = "Tiny test study (synthetic)"', 'name = "${name}"')
        .replace('{ distance_m = 500 }', '{ distance_m = ${school_m} }'), encoding="utf-8")
    pd.DataFrame({"name": ["near", "far", "broken"], "school_m": ["800", "300", "-1"]}).to_csv(
        tmp_path / "cities.csv", index=False)
    batch = _batch(tmp_path, '[template]\nstudy = "t/template.toml"\ntable = "cities.csv"\n'
                             '[shared.layers.clinics]\nstandard = { distance_m = 700 }\n')
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["batch", str(batch), "--out", str(out), "--offline"])
    assert r.exit_code == 1, r.output  # one city failed
    status = pd.read_csv(out / "batch_status.csv").set_index("city")
    assert status["status"].to_dict() == {"near": "done", "far": "done", "broken": "failed"}
    assert "distance_m" in status.loc["broken", "error"]
    s = pd.read_csv(out / "batch_summary.csv")
    cov = s[(s["level"] == "study")].set_index(["city", "layer"])["coverage_pct"]
    assert cov[("near", "schools")] > cov[("far", "schools")]  # 800 m vs 300 m
    assert cov[("near", "clinics")] == cov[("far", "clinics")]  # [shared]: 700 m for both
    near = pd.read_csv(out / "near" / "summary.csv")
    assert near.loc[near["layer"] == "clinics", "standard"].iloc[0] == "700 m straight-line"
    eq = pd.read_csv(out / "batch_equity.csv")
    np.testing.assert_allclose(eq["theil_between_cities"] + eq["theil_within_cities"],
                               eq["theil"], atol=1e-12)
    assert (out / "batch_report.html").read_text(encoding="utf-8").count("near/report.html")
    r = CliRunner().invoke(app, ["batch", str(batch), "--out", str(out), "--offline",
                                 "--resume"])
    status = pd.read_csv(out / "batch_status.csv").set_index("city")
    assert status.loc[["near", "far"], "status"].tolist() == ["skipped", "skipped"]
    assert pd.read_csv(out / "batch_equity.csv").equals(eq)  # the same province view
    (tmp_path / "cities.csv").write_text("name,school_m\nnear,900\nfar,300\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["batch", str(batch), "--out", str(out), "--offline",
                                 "--resume"])
    assert r.exit_code == 0, r.output
    status = pd.read_csv(out / "batch_status.csv").set_index("city")
    assert status["status"].to_dict() == {"near": "done", "far": "skipped"}  # inputs changed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_scheduler_two_workers_and_one_lost(tmp_path):
    """dask scheduler + two dask worker processes on localhost; 3 demo cities; the worker
    that finished the first city is killed: the batch still finishes, and every city's
    summary.csv and equity.csv equal equiserve report's on it alone."""
    from distributed import Client

    from equiserve.datasets.demo.batch import write_demo_batch

    batch = write_demo_batch(tmp_path / "inputs", 3)
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    sport = _free_port()
    address = f"tcp://127.0.0.1:{sport}"
    env = {**os.environ, "EQUISERVE_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(sport),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    ports = [_free_port(), _free_port()]
    try:
        for port in ports:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers",
                 "1", "--nthreads", "1", "--worker-port", str(port), "--no-dashboard",
                 "--no-nanny"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        out = tmp_path / "out"
        run = subprocess.Popen([sys.executable, "-m", "equiserve", "batch", str(batch),
                                "--out", str(out), "--scheduler", address, "--offline"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        killed, lines = None, []
        assert run.stdout is not None
        for line in run.stdout:  # "cities 1/3; running: ..." once the first is gathered
            lines.append(line)
            if killed is None and "cities 1/3" in line:
                first = min(out.glob("*/batch_city.json"), key=lambda f: f.stat().st_mtime)
                worker = json.loads(first.read_text(encoding="utf-8"))["worker"]
                killed = next(i for i, p in enumerate(ports, 1) if worker.endswith(f":{p}"))
                procs[killed].send_signal(signal.SIGKILL)
        output = "".join(lines)
        run.wait(timeout=600)
        assert run.returncode == 0, output
        assert killed is not None
        status = pd.read_csv(out / "batch_status.csv")
        assert (status["status"] == "done").all()
        assert status["worker"].nunique() == 2  # both workers ran cities
        eq = pd.read_csv(out / "batch_equity.csv")
        np.testing.assert_allclose(eq["theil_between_cities"] + eq["theil_within_cities"],
                                   eq["theil"], atol=1e-12)
        assert (eq["theil_between_cities"] > 0).all()  # three different cities
    finally:
        for p in procs:
            p.kill()
            p.wait()
    for city in status["city"]:  # each city as equiserve report makes it alone
        alone = tmp_path / "alone" / city
        r = subprocess.run([sys.executable, "-m", "equiserve", "report",
                            str(batch.parent / city / "study.toml"), "--out", str(alone),
                            "--offline", "--service-areas", "none"], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        for name in ("summary.csv", "equity.csv"):
            assert (out / city / name).read_bytes() == (alone / name).read_bytes(), name


def _build(path: str) -> int:
    from equiserve.network import network_from_osm

    return network_from_osm(path, "walk", crs="EPSG:32649").n_edges


def test_concurrent_writers_of_one_cache_entry_leave_it_whole(tmp_path, monkeypatch):
    """Cities of a batch building the same network at once: every writer's file is its
    own until os.replace, so the entry left is whole and loads."""
    import multiprocessing as mp

    from equiserve.network import network_from_osm
    from equiserve.testing import tiny_streets_osm

    osm = tmp_path / "streets.osm"
    osm.write_text(tiny_streets_osm(), encoding="utf-8")
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    with mp.get_context("spawn").Pool(4) as pool:
        edges = pool.map(_build, [str(osm)] * 8)
    entries = list((tmp_path / "cache").glob("network-*.npz"))
    assert len(entries) == 1 and not list((tmp_path / "cache").glob("*.tmp.npz"))
    net = network_from_osm(osm, "walk", crs="EPSG:32649")
    assert net.info["cache"].startswith("loaded") and set(edges) == {net.n_edges}


@pytest.mark.slow
def test_demo_batch_command(tmp_path):
    from typer.testing import CliRunner

    from equiserve.cli import app

    out = tmp_path / "province"
    r = CliRunner().invoke(app, ["demo", "--batch", "1", "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    assert (out / "inputs" / "batch.toml").is_file()
    assert (out / "city_1" / "report.html").is_file()
    status = pd.read_csv(out / "batch_status.csv")
    assert status["status"].tolist() == ["done"]
    r = CliRunner().invoke(app, ["demo", "--batch", "2", "--scale", "2", "--out",
                                 str(tmp_path / "x")])
    assert r.exit_code == 2 and "--scale or --batch" in r.output
