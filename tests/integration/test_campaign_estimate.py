"""The campaign's accuracy estimate (the random audit): formulas, bookkeeping, coverage."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autoal.campaign import SCHEMA_VERSION, Campaign, CampaignError
from autoal.campaign.audit import audit_count, wilson_interval
from autoal.campaign.store import DB_NAME
from autoal.cli import main

from support import DIGITS, load_digits, true_accuracy, write_npz


def simulate(camp: Path, data: Path, truth: dict[str, str], *, classes: list[str], seed: int,
             rounds: int, n: int, audit: float) -> Iterator[tuple[dict, float]]:
    """Label every batch with the truth; yield (status, true accuracy) after each teach."""
    with Campaign.init(camp, data, classes, strategy="margin", seed=seed, epochs=5,
                       min_steps=50, audit=audit) as c:
        for _ in range(rounds):
            batch = c.query(n)
            c.teach({i.id: truth[i.id] for i in batch.items})
            st = c.status()
            if st.accuracy_estimate is not None:
                yield st.to_dict(), true_accuracy(camp, truth)


def check_coverage(checks: list[tuple[dict, float]]) -> None:
    covered = [e["low"] <= t <= e["high"] for e, t in checks]
    assert len(checks) >= 15
    assert np.mean(covered) >= 0.9, checks
    late = [(e, t) for e, t in checks if e["labels"] >= 200]
    assert len(late) >= 3
    assert all(abs(e["value"] - t) <= 0.05 for e, t in late), late


# -- formulas -----------------------------------------------------------------------------------
def test_wilson_interval_matches_the_formula() -> None:
    # 8 of 10: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10), the textbook 0.4902..0.9433
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)  # not [1, 1]
    # a finite rest of the same size doubles the variance: the size counts half
    assert wilson_interval(40, 50, rest=50) == pytest.approx(wilson_interval(20, 25))
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_audit_count_is_the_share_on_average() -> None:
    rng = np.random.default_rng(0)
    counts = [audit_count(0.1, 25, rng) for _ in range(4000)]
    assert set(counts) == {2, 3}
    assert np.mean(counts) == pytest.approx(2.5, abs=0.05)
    assert audit_count(0.5, 1, rng) == 0  # a batch of one is the strategy's
    assert audit_count(0.0, 100, rng) == 0
    assert audit_count(0.9, 4, rng) <= 3  # one item at least is left to the strategy


# -- bookkeeping --------------------------------------------------------------------------------
def test_audit_items_are_random_hidden_and_kept_out_of_training(tmp_path: Path,
                                                                 digits_npz) -> None:
    data, truth = digits_npz
    camp = tmp_path / "camp"
    with Campaign.init(camp, data, DIGITS, strategy="margin", epochs=2, min_steps=20,
                       audit=0.3) as c:
        first = c.query(20)  # diverse start: 6 audit items, 14 from k-means
        assert sum(i.audit for i in first.items) == 6
        c.teach({i.id: truth[i.id] for i in first.items})
        assert c.status().accuracy_estimate is None  # no model has guessed yet
        second = c.query(20)
        # the model trained on the 14 strategy labels only
        assert second.n_labeled == 14
        audit = [i for i in second.items if i.audit]
        assert len(audit) == 6 and all(i.guess is None and i.confidence is None for i in audit)
        assert all(i.guess is not None for i in second.items if not i.audit)
        assert [i.audit for i in c.batch().items] == [i.audit for i in second.items]
        c.teach({i.id: truth[i.id] for i in second.items})
        st = c.status()
        est = st.accuracy_estimate
        assert est is not None and est["method"] == "random-audit" and est["round"] == 2
        # the 12 audit labels (some may have been picked by the strategy: promoted)
        conn = sqlite3.connect(camp / DB_NAME)
        rows = conn.execute("SELECT p.guess, l.label FROM audit_predictions p JOIN labels l "
                            "USING (item_id) WHERE p.round_id = 2").fetchall()
        promoted = conn.execute("SELECT COUNT(*) FROM audit_items WHERE promoted_round = 2"
                                ).fetchone()[0]
        conn.close()
        assert est["labels"] == len(rows) == 12 - promoted
        assert est["value"] == pytest.approx(np.mean([g == lab for g, lab in rows]))
        assert 0 <= est["low"] <= est["value"] <= est["high"] <= 1
        assert st.accuracy == est["value"] and "random audit" in st.accuracy_note


def test_accepting_guesses_leaves_audit_items_alone(tmp_path: Path, digits_npz) -> None:
    pytest.importorskip("flask")
    from autoal.campaign.web import create_app

    data, truth = digits_npz
    camp = tmp_path / "camp"
    with Campaign.init(camp, data, DIGITS, strategy="margin", epochs=2, min_steps=20,
                       audit=0.3) as c:
        c.teach({i.id: truth[i.id] for i in c.query(20).items})
        batch = c.query(20)
    client = create_app(camp).test_client()  # a script: no cookie, no CSRF token needed
    resp = client.post("/api/accept", json={})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    audit = {i.id for i in batch.items if i.audit}
    assert audit and body["without_guess"] == len(audit)
    assert not audit & set(body["accepted"])
    with Campaign.open(camp) as c:
        assert {i.id for i in c.batch().pending} == audit


def test_audit_share_is_validated_and_zero_turns_it_off(tmp_path: Path, digits_npz) -> None:
    data, truth = digits_npz
    with pytest.raises(CampaignError, match="audit share"):
        Campaign.init(tmp_path / "a", data, DIGITS, audit=1.0)
    out = CliRunner().invoke(main, ["campaign", "init", str(tmp_path / "b"), "--data",
                                    str(data), "--classes", ",".join(DIGITS), "--audit", "-0.1"])
    assert out.exit_code == 2 and "audit share" in out.output
    with Campaign.init(tmp_path / "c", data, DIGITS, strategy="margin", epochs=2, min_steps=20,
                       audit=0) as c:
        for _ in range(2):
            batch = c.query(10)
            assert not any(i.audit for i in batch.items)
            c.teach({i.id: truth[i.id] for i in batch.items})
        st = c.status()
        assert st.accuracy_estimate is None and "audit is off" in st.accuracy_note


def test_status_json_and_text_name_the_estimate(tmp_path: Path, digits_npz) -> None:
    data, truth = digits_npz
    camp = tmp_path / "camp"
    with Campaign.init(camp, data, DIGITS, strategy="margin", epochs=2, min_steps=20,
                       audit=0.5) as c:
        for _ in range(3):
            c.teach({i.id: truth[i.id] for i in c.query(20).items})
    res = CliRunner().invoke(main, ["campaign", "status", str(camp), "--json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    est = st["accuracy_estimate"]
    assert set(est) >= {"value", "low", "high", "labels", "method"}
    assert all(isinstance(est[k], float) and 0 <= est[k] <= 1 for k in ("value", "low", "high"))
    assert isinstance(est["labels"], int) and est["labels"] > 0
    text = CliRunner().invoke(main, ["campaign", "status", str(camp)]).output
    assert f"random audit of {est['labels']} labels" in text
    assert f"{est['value']:.3f}" in text


def test_campaign_of_schema_2_is_upgraded(tmp_path: Path, digits_npz) -> None:
    data, truth = digits_npz
    camp = tmp_path / "camp"
    with Campaign.init(camp, data, DIGITS, strategy="margin", epochs=2, min_steps=20) as c:
        c.teach({i.id: truth[i.id] for i in c.query(10).items})
    conn = sqlite3.connect(camp / DB_NAME)  # as written by the previous version
    for table in ("audit_items", "audit_predictions", "round_predictions"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE autoal_meta SET value = '2' WHERE key = 'schema_version'")
    config = json.loads(conn.execute("SELECT value FROM autoal_meta WHERE key = 'config'"
                                     ).fetchone()[0])
    del config["audit"]
    conn.execute("UPDATE autoal_meta SET value = ? WHERE key = 'config'", (json.dumps(config),))
    conn.commit()
    conn.close()
    with Campaign.open(camp) as c:
        assert c.config.audit == 0.1  # the default for campaigns made before the audit
        assert c.status().labeled == 10
        batch = c.query(20)
        assert sum(i.audit for i in batch.items) == 2
    conn = sqlite3.connect(camp / DB_NAME)
    assert conn.execute("SELECT value FROM autoal_meta WHERE key = 'schema_version'"
                        ).fetchone()[0] == str(SCHEMA_VERSION) == "3"
    assert conn.execute("SELECT COUNT(*) FROM audit_items").fetchone()[0] == 2
    conn.close()


# -- the estimate is believable -----------------------------------------------------------------
def test_interval_covers_the_accuracy_on_unlabeled_digits(tmp_path: Path) -> None:
    d = load_digits()
    data = write_npz(tmp_path / "digits.npz", d.data)
    truth = {str(i): str(t) for i, t in enumerate(d.target)}
    checks = []
    for seed in range(4):
        for st, true in simulate(tmp_path / f"c{seed}", data, truth, classes=DIGITS, seed=seed,
                                 rounds=6, n=80, audit=0.5):
            checks.append((st["accuracy_estimate"], true))
    check_coverage(checks)


@pytest.mark.slow
def test_interval_covers_the_accuracy_on_unlabeled_fashion_mnist(tmp_path: Path) -> None:
    from autoal.data import DatasetError, load_dataset

    try:
        ds = load_dataset("fashion-mnist")
    except DatasetError as err:
        pytest.skip(str(err))
    rng = np.random.default_rng(0)
    keep = rng.choice(len(ds.X_train), size=2000, replace=False)
    data = write_npz(tmp_path / "fashion.npz", ds.X_train[keep].reshape(len(keep), -1))
    truth = {str(i): ds.classes[int(ds.y_train[k])] for i, k in enumerate(keep)}
    checks = []
    for seed in range(3):
        for st, true in simulate(tmp_path / f"c{seed}", data, truth, classes=ds.classes,
                                 seed=seed, rounds=7, n=80, audit=0.5):
            checks.append((st["accuracy_estimate"], true))
    check_coverage(checks)
    assert math.isfinite(np.mean([t for _, t in checks]))
