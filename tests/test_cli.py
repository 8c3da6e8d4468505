"""End to end: the real CLI, real models, a real local E-utilities server, the user's seeds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from claims.types import Label
from pipeline.cli import cli
from tests.conftest import SEED_FEED, SEED_PAGE, SHARED, needs_shared
from tests.eutils_server import EutilsServer, Record, load_scifact_corpus

EXTRA = [
    Record(
        "900001",
        "Fatty infiltration of the neck extensor muscles after whiplash injury",
        (
            "Fatty infiltration of the deep cervical extensor muscles was found in patients with "
            "chronic whiplash-associated disorders.",
            "Muscle fat was not seen in those who recovered.",
        ),
        publication_types=("Journal Article", "Observational Study"),
    ),
    Record(
        "900002",
        "Exercise therapy for chronic low back pain",
        (
            "Exercise therapy reduces pain and improves function in adults with chronic low back "
            "pain.",
        ),
        publication_types=("Meta-Analysis",),
    ),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    # Shared by the module's runs: a seed checked twice costs its E-utilities requests once.
    return str(tmp_path_factory.mktemp("eutils") / "cache.sqlite")


@pytest.fixture(scope="module")
def server() -> Iterator[EutilsServer]:
    corpus = SHARED / "data" / "scifact" / "corpus.jsonl"
    records = load_scifact_corpus(corpus) if corpus.is_file() else []
    with EutilsServer(records + EXTRA, enforce_rate=True) as s:
        yield s


def _invoke(server: EutilsServer, args: list[str], stdin: str | None = None, cache: str = ""):  # type: ignore[no-untyped-def]
    where = ["--cache", cache] if cache else ["--no-cache"]
    return CliRunner().invoke(
        cli, [*args, "--eutils-url", server.base_url, *where, "--quiet"], input=stdin
    )


@needs_shared
@pytest.mark.parametrize("seed", [SEED_FEED, SEED_PAGE], ids=["feed", "page"])
def test_issue_2_check_seed_produces_labelled_claims_with_evidence(
    server: EutilsServer, cache: str, seed
) -> None:  # type: ignore[no-untyped-def]
    result = _invoke(server, ["check", str(seed), "--format", "json"], cache=cache)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == 2 and report["failures"] == []
    (doc,) = report["documents"]
    assert len(doc["claims"]) >= 20
    labels = {c["label"] for c in doc["claims"]}
    assert labels <= {"supported", "contested", "commercial-promotional", "unverified"}
    for claim in doc["claims"]:
        assert doc["text"][claim["start"] : claim["end"]] == claim["text"]
        assert claim["rationale"]
        if claim["label"] == "unverified":
            assert claim["confidence"] is None
        else:
            assert 0.5 <= claim["confidence"] <= 1.0
        if claim["evidence_status"] != "found":
            # Abstracts that are not about the claim are listed, never cited.
            assert claim["evidence"] == []
        for ev in claim["evidence"]:
            assert ev["url"] == f"https://pubmed.ncbi.nlm.nih.gov/{ev['pmid']}/"
    assert any(c["evidence"] for c in doc["claims"])
    # NCBI's limit without a key, by the server's own log. The client sends at most 3
    # requests in any 1.1 s (tested on a fake clock in tests/pubmed/test_client.py); here
    # arrival times also carry the machine's scheduling delays, so the rate is checked
    # over 10 s windows, with one second's worth of slack for requests held up on their
    # way: a run that kept to 3/s passes at any load; one that sent 4 a second for 10 s
    # (a bypassed or per-thread limiter) fails, and each seed needs well over 40.
    assert len(server.log) > 40
    assert server.max_in_window(10.0) <= 3 * (10 + 1)
    assert all(r.params.get("tool") == "claimscan" and r.params.get("email") for r in server.log)


@needs_shared
def test_issue_2_page_seed_flags_promotional_sentence(server: EutilsServer, cache: str) -> None:
    _invoke(server, ["check", str(SEED_PAGE), "--format", "json"], cache=cache)
    before = len(server.log)
    result = _invoke(server, ["check", str(SEED_PAGE), "--format", "json"], cache=cache)
    assert len(server.log) == before  # a rerun is answered from the cache alone
    doc = json.loads(result.stdout)["documents"][0]
    promo = {c["text"] for c in doc["claims"] if c["label"] == "commercial-promotional"}
    assert any("superior regenerative solution" in t for t in promo)
    assert doc["commercial_context"] is True


@needs_shared
def test_promo_threshold_trades_recall_for_precision(server: EutilsServer, cache: str) -> None:
    def promotional(*extra: str) -> list[float]:
        result = _invoke(server, ["check", str(SEED_PAGE), "--format", "json", *extra], cache=cache)
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)["documents"][0]
        return [c["confidence"] for c in doc["claims"] if c["label"] == "commercial-promotional"]

    default, strict = promotional(), promotional("--promo-threshold", "0.9")
    assert 0 < len(strict) < len(default)
    assert min(strict) >= 0.9 and min(default) < 0.9
    refused = _invoke(server, ["check", str(SEED_PAGE), "--promo-threshold", "1.5"])
    assert refused.exit_code != 0
    assert "--promo-threshold" in refused.output


def test_claim_jsonl_keeps_one_line_per_input(server: EutilsServer) -> None:
    lines = (
        "Exercise therapy reduces chronic low back pain.\n\nWhiplash causes fatty infiltration.\n"
    )
    result = _invoke(server, ["claim", "--from-file", "-", "--format", "jsonl"], stdin=lines)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["text"] == "Exercise therapy reduces chronic low back pain."
    # Checked against the meta-analysis the server holds (which label the fast model
    # reaches on one abstract is not this test's concern: one line per input is).
    assert out[0]["evidence_status"] == "found"
    assert out[0]["label"] in {label.value for label in Label}
    assert out[1]["error"] and out[1]["text"] == ""
    assert "error" not in out[2]
    assert result.exit_code == 1  # the empty line failed


def test_issue_20_check_refuses_a_missing_source_before_checking_the_others(
    server: EutilsServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "note.md"
    good.write_text("Exercise therapy reduces pain in adults with chronic low back pain.\n")
    before = len(server.log)
    result = _invoke(server, ["check", str(tmp_path / "nope.html"), str(good), "--format", "json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    missing = tmp_path / "nope.html"
    assert result.stderr == f"claimscan: {missing} does not exist; give a file, URL or -\n"
    assert len(server.log) == before


@pytest.mark.parametrize(
    "args",
    [["check"], ["claim"], ["claim", "x", "--from-file", "-"], ["check", "x", "--format", "pdf"]],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(cli, args).exit_code == 2


def test_issue_14_dead_network_is_unverified_with_one_line_and_exit_1() -> None:
    import socket

    # A port nothing listens on: connection refused at once, as with a dead network.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        cli,
        ["claim", "Smoking causes lung cancer.", "Vitamin C cures the common cold."]
        + ["--format", "json", "--eutils-url", f"http://127.0.0.1:{port}/", "--no-cache"],
    )
    assert result.exit_code == 1
    claims = [d["claims"][0] for d in json.loads(result.stdout)["documents"]]
    assert [c["label"] for c in claims] == ["unverified", "unverified"]
    assert all(c["evidence_status"] == "unavailable" and c["confidence"] is None for c in claims)
    lines = [line for line in result.stderr.splitlines() if line.startswith("claimscan:")]
    # One line for the cause, counting the claims; no query is printed.
    assert len(lines) == 1 and "2 claims unverified" in lines[0]
    assert "cannot connect" in lines[0] and "Smoking" not in lines[0]
