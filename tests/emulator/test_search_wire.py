"""The search endpoints as users' pipelines call them: plain requests on a served emulator."""
import io
import subprocess
import sys

import pandas as pd
import pytest
import requests

from astroquery_fink.testing.ztf_search import ROUTES

PAYLOADS = {
    "conesearch": {"ra": 23.5, "dec": 30.6, "radius": 18000},
    "latests": {"class": "SN candidate", "n": 5},
    "anomaly": {"n": 3},
    "statistics": {"date": "2021"},
    "skymap": {"event_name": "EMU250610a", "credible_level": 0.9},
}


@pytest.mark.parametrize("endpoint", sorted(PAYLOADS))
def test_requests_post_and_read_json(emu, endpoint):
    if endpoint in ("conesearch", "skymap"):
        pytest.importorskip("astropy_healpix")
    r = requests.post(f"{emu.url}/api/v1/{endpoint}", json=PAYLOADS[endpoint], timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pdf = pd.read_json(io.StringIO(r.text))
    assert len(pdf) > 0 and len(pdf.columns) > 0
    assert not pdf.columns.duplicated().any()


def test_classes_and_descriptions(emu):
    r = requests.get(f"{emu.url}/api/v1/classes", timeout=30)
    assert r.status_code == 200 and len(r.json()["Fink classifiers"]) == 11
    # GET without a query string: the namespace description, as on the server
    descriptions = {
        "/api/v1/conesearch": "Get object data based on coordinates",
        "/api/v1/latests": "Get object data based their class",
        "/api/v1/anomaly": "Get alerts tagged as anomaly",
        "/api/v1/statistics": "Get statistics about Fink and the ZTF alert stream",
        "/api/v1/skymap": "Return Fink/ZTF alerts within a GW skymap",
    }
    for path, text in descriptions.items():
        r = requests.get(emu.url + path, timeout=30)
        assert r.status_code == 200 and r.text == text
    assert {route.path for route in ROUTES} == {*descriptions, "/api/v1/classes"}


def test_get_query_string(emu):
    r = requests.get(f"{emu.url}/api/v1/latests",
                     params={"class": "SN candidate", "n": 2, "output-format": "csv"},
                     timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/csv"
    assert len(pd.read_csv(io.StringIO(r.text))) == 2


def test_cli_port_zero_prints_the_bound_port():
    proc = subprocess.Popen(
        [sys.executable, "-m", "astroquery_fink.testing", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once the socket is bound
        assert "Fink emulator (ztf)" in line, (line, proc.stderr.read() if proc.poll() else "")
        url = line.split(" on ")[1].split()[0]
        port = int(url.rsplit(":", 1)[1])
        assert port > 0
        r = requests.post(url + "/api/v1/statistics", json={"date": "2025"}, timeout=30)
        assert r.status_code == 200 and r.json()[0]["basic:night"].startswith("ztf_2025")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
