import summarizer.run as R
import pytest
from test_secrets import test_recorded_cassette_has_no_key

def test_mutant(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "VCR_FILTER_HEADERS", [])
    with pytest.raises(AssertionError):
        test_recorded_cassette_has_no_key(tmp_path, monkeypatch)
