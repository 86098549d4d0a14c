"""Users' pipelines: requests.post + pandas.read_json on each solar/resolver endpoint."""
import io

import pandas as pd
import pytest
import requests

CASES = [
    ("sso", {"n_or_d": "55951"}, "i:ssnamenr"),
    ("sso", {"n_or_d": "4371", "withEphem": True}, "i:magpsf_red"),
    ("ssocand", {"kind": "orbParams"}, "d:ssoCandId"),
    ("ssocand", {"kind": "lightcurves"}, "d:magpsf"),
    ("ssoft", {"output-format": "json"}, "sso_name"),
    ("ssoft", {"sso_name": "Benoitcarry"}, "H_1"),
    ("ssobulk", {"output-format": "json"}, "cmagpsf"),
    ("tracklet", {"date": "2021-06-04"}, "d:tracklet"),
    ("resolver", {"resolver": "tns", "name": "AT 2020mot"}, "d:internalname"),
    ("resolver", {"resolver": "simbad", "name": "ZTF20abfcszi", "reverse": True},
     "d:cdsxmatch"),
    ("resolver", {"resolver": "simbad", "name": "Vega"}, "jradeg"),
    ("resolver", {"resolver": "ssodnet", "name": "19205"}, "i:ssnamenr"),
]


@pytest.mark.parametrize("endpoint, payload, column", CASES)
def test_requests_and_read_json(emu, endpoint, payload, column):
    r = requests.post(f"{emu.url}/api/v1/{endpoint}", json=payload, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pdf = pd.read_json(io.StringIO(r.text))
    assert len(pdf) > 0 and column in pdf.columns
    assert len(pdf.columns) == len(r.json()[0])  # flat records, one key per column


def test_parquet_answers_read_back(emu):
    for endpoint, payload in (("ssoft", {}), ("ssobulk", {}),
                              ("sso", {"n_or_d": "19205", "output-format": "parquet"})):
        r = requests.post(f"{emu.url}/api/v1/{endpoint}", json=payload, timeout=30)
        assert r.status_code == 200
        assert len(pd.read_parquet(io.BytesIO(r.content))) > 0
