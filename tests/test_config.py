from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import DEFAULT_EUTILS_URL, load_config
from pipeline.errors import ConfigError


def test_load_config_defaults() -> None:
    c = load_config(env={})
    assert c.eutils_url == DEFAULT_EUTILS_URL and c.api_key is None and c.rate_limit == 3.0


def test_load_config_precedence_flag_over_env_over_default() -> None:
    env = {
        "CLAIMSCAN_EUTILS_URL": "http://127.0.0.1:9/eutils",
        "NCBI_API_KEY": "k",
        "NCBI_EMAIL": "a@b.org",
    }
    assert load_config(env=env).eutils_url == "http://127.0.0.1:9/eutils/"
    c = load_config({"eutils_url": "http://localhost:1/", "email": None}, env=env)
    assert c.eutils_url == "http://localhost:1/" and c.email == "a@b.org" and c.rate_limit == 10.0


def test_api_key_is_not_in_repr() -> None:
    assert "sekret" not in repr(load_config(env={"NCBI_API_KEY": "sekret"}))


def test_no_cache_env_disables_cache(tmp_path: Path) -> None:
    assert load_config(env={"XDG_CACHE_HOME": str(tmp_path)}).cache_path == (
        tmp_path / "claimscan" / "eutils.sqlite"
    )
    assert load_config(env={"CLAIMSCAN_NO_CACHE": "1"}).cache_path is None


@pytest.mark.parametrize(
    ("overrides", "env", "message"),
    [
        ({}, {"CLAIMSCAN_TIMEOUT": "soon"}, "CLAIMSCAN_TIMEOUT"),
        ({"eutils_url": "ftp://x"}, {}, "must start with http"),
        ({"retmax": 0}, {}, "retmax"),
        ({"nonsense": 1}, {}, "unknown setting"),
        ({}, {"CLAIMSCAN_PROMO_THRESHOLD": "0"}, "promotional threshold"),
        ({"promo_threshold": 1.5}, {}, "promotional threshold"),
    ],
)
def test_load_config_rejects_bad_values(overrides: dict, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides, env=env)


def test_int8_switches_are_off_unless_turned_on() -> None:
    assert load_config(env={}).int8_selector is False
    assert load_config(env={}).quantize is False
    assert load_config(env={"CLAIMSCAN_INT8_SELECTOR": "1"}).int8_selector is True
    assert load_config(env={"CLAIMSCAN_QUANTIZE": "1"}).quantize is True


def test_promo_threshold_defaults_to_the_heads_own() -> None:
    assert load_config(env={}).promo_threshold is None
    assert load_config(env={"CLAIMSCAN_PROMO_THRESHOLD": "0.6"}).promo_threshold == 0.6
    assert (
        load_config(
            {"promo_threshold": 0.7}, env={"CLAIMSCAN_PROMO_THRESHOLD": "0.6"}
        ).promo_threshold
        == 0.7
    )


def test_issue_14_promo_threshold_under_even_odds_is_refused() -> None:
    # Below 0.5 a label would read as its opposite; those claims are "possibly promotional".
    with pytest.raises(ConfigError, match="possibly promotional"):
        load_config({"promo_threshold": 0.4}, env={})


def test_fast_switches_the_default_stance_model_only() -> None:
    from pipeline.config import DEFAULT_STANCE_MODEL, FAST_STANCE_MODEL

    assert load_config(env={}).stance_model == str(DEFAULT_STANCE_MODEL)
    assert load_config(env={"CLAIMSCAN_FAST": "1"}).stance_model == str(FAST_STANCE_MODEL)
    assert load_config({"fast": True}, env={}).stance_model == str(FAST_STANCE_MODEL)
    # A stance model named explicitly wins over --fast.
    named = load_config({"fast": True, "stance_model": "/models/nli"}, env={})
    assert named.stance_model == "/models/nli"
