"""A full disk and a read-only file system under run files, summaries and exports.

Each test mounts a small tmpfs (and read-only bind mounts) where the machine allows it
(root with mount permission); otherwise it is skipped with a message. Root ignores file
modes, so read-only means a read-only mount. Every write must fail with a clear error that
names the file, and leave the previous file byte for byte as it was.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autoal.bench.config import parse_config, tomllib
from autoal.bench.runner import run_cell
from autoal.cli import main
from autoal.io import write_json_atomic

from support import tiny_bench_config

pytestmark = pytest.mark.slow

TINY = tiny_bench_config('margin = { strategy = "margin" }\nrandom = { strategy = "random" }')


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def small_fs(tmp_path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt))
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or err
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount permission): {detail}")
    yield mnt
    for path in [*reversed(_bind_mounts.pop(str(mnt), [])), mnt]:  # bind mounts first
        _umount(path)


_bind_mounts: dict[str, list[Path]] = {}


def read_only(path: Path, fs: Path) -> None:
    """Make ``path`` (``fs`` itself, or a folder in it) read-only."""
    if path == fs:
        _mount("-o", "remount,ro", str(fs))
        return
    _mount("--bind", str(path), str(path))
    _bind_mounts.setdefault(str(fs), []).append(path)
    _mount("-o", "remount,bind,ro", str(path))


def fill(fs: Path) -> None:
    """Write filler files until the file system is full (unbuffered: nothing left to flush)."""
    for name, size in (("filler", 65536), ("filler-tail", 512)):
        with open(fs / name, "wb", buffering=0) as fh:
            try:
                while fh.write(b"\0" * size):
                    pass
            except OSError as err:
                assert err.errno == errno.ENOSPC


def free(fs: Path) -> None:
    for filler in fs.glob("filler*"):
        filler.unlink()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("filler")}


# ----------------------------------------------------------------------------- io
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_atomic_write_fails_clearly_and_keeps_the_old_file(small_fs, fault):
    target = small_fs / "run.json"
    write_json_atomic(target, {"old": True})
    before = target.read_bytes()
    if fault == "full":
        fill(small_fs)
    else:
        read_only(small_fs, small_fs)
    big = {"values": np.arange(200_000).tolist()}
    with pytest.raises(OSError) as info:
        write_json_atomic(target, big)
    assert info.value.errno == (errno.ENOSPC if fault == "full" else errno.EROFS)
    assert str(target) in str(info.value)
    assert target.read_bytes() == before
    assert not list(small_fs.glob(".*.tmp"))


# ----------------------------------------------------------------------------- bench
def test_a_run_file_that_cannot_be_written_leaves_no_partial_file(small_fs):
    cfg = parse_config(tomllib.loads(TINY), "tiny.toml")
    out = small_fs / "out"
    cell = cfg.cells()[0]
    run_cell(cell, out)  # fits
    before = snapshot(out)
    (out / "runs" / f"{cell.name}.json").unlink()
    fill(small_fs)
    with pytest.raises(OSError, match=f"cannot write .*{cell.name}.json: No space left"):
        run_cell(cell, out)
    assert not list((out / "runs").iterdir())  # neither a partial run file nor a temp file
    free(small_fs)
    run_cell(cell, out)
    assert snapshot(out).keys() == before.keys()
    assert json.loads((out / "runs" / f"{cell.name}.json").read_text())["bench"]["cell"] == (
        cell.name)


def bench(config: Path, out: Path) -> object:
    return CliRunner().invoke(main, ["bench", str(config), "--out", str(out), "--workers", "1",
                                     "--threads", "1", "--quiet", "--no-data-check"])


def test_bench_onto_a_full_disk_says_so_and_resumes_when_there_is_room(small_fs, tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = small_fs / "out"
    assert bench(config, out).exit_code == 0
    (out / "runs" / "digits__low__margin__0.json").unlink()
    before = snapshot(out)
    fill(small_fs)
    res = bench(config, out)
    assert res.exit_code == 1, res.output
    assert "error: cannot write" in res.output and "No space left on device" in res.output
    assert "Traceback" not in res.output
    assert snapshot(out) == before  # the other run file and the summary, byte for byte
    free(small_fs)
    res = bench(config, out)
    assert res.exit_code == 0, res.output
    assert "ran 1 cell(s), skipped 1 finished" in res.output


def test_bench_with_read_only_runs_folder_reports_the_cell_and_keeps_the_rest(
    small_fs, tmp_path
):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = small_fs / "out"
    assert bench(config, out).exit_code == 0
    (out / "runs" / "digits__low__margin__0.json").unlink()
    runs_before = snapshot(out / "runs")
    read_only(out / "runs", small_fs)
    res = bench(config, out)
    assert res.exit_code == 1, res.output
    assert "digits__low__margin__0" in res.output and "Read-only file system" in res.output
    assert snapshot(out / "runs") == runs_before
    assert "Read-only" in (out / "errors" / "digits__low__margin__0.txt").read_text()


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_report_onto_a_full_or_read_only_disk_keeps_the_previous_summary(
    small_fs, tmp_path, fault
):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = small_fs / "out"
    assert bench(config, out).exit_code == 0
    # a summary that must change: the runs now say more than the summary
    (out / "summary.md").write_text("old summary\n")
    before = snapshot(out)
    if fault == "full":
        fill(small_fs)
    else:
        read_only(small_fs, small_fs)
    res = CliRunner().invoke(main, ["report", str(out)])
    assert res.exit_code == 1, res.output
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    assert f"error: cannot write {out}" in res.output and reason in res.output
    assert "previous summary is kept" in res.output and "Traceback" not in res.output
    assert snapshot(out) == before


# ----------------------------------------------------------------------------- campaign
@pytest.fixture
def campaign(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    rows = ["id,a,b,label"] + [
        f"i{i},{rng.random():.4f},{rng.random():.4f},{'xy'[i % 2] if i < 10 else ''}"
        for i in range(30)
    ]
    data = tmp_path / "items.csv"
    data.write_text("\n".join(rows) + "\n")
    directory = tmp_path / "camp"
    res = CliRunner().invoke(main, ["campaign", "init", str(directory), "--data", str(data),
                                    "--classes", "x,y", "--strategy", "margin"])
    assert res.exit_code == 0, res.output
    return directory


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_campaign_export_onto_a_full_or_read_only_disk_keeps_the_previous_file(
    small_fs, campaign, tmp_path, fault
):
    out = small_fs / "labels.csv"
    res = CliRunner().invoke(main, ["campaign", "export", str(campaign), "--out", str(out)])
    assert res.exit_code == 0, res.output
    before = out.read_bytes()
    labels = tmp_path / "more.csv"
    labels.write_text("id,label\ni11,x\ni12,y\n")
    assert CliRunner().invoke(main, ["campaign", "teach", str(campaign), str(labels)]).exit_code \
        == 0
    if fault == "full":
        fill(small_fs)
    else:
        read_only(small_fs, small_fs)
    res = CliRunner().invoke(main, ["campaign", "export", str(campaign), "--out", str(out)])
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    assert res.exit_code == 2, res.output
    assert f"error: cannot write {out}: {reason}" in res.output
    assert "Traceback" not in res.output
    assert out.read_bytes() == before
    assert not list(small_fs.glob(".*.tmp"))
    # the campaign itself is untouched: the labels are all still there
    status = CliRunner().invoke(main, ["campaign", "status", str(campaign)])
    assert status.exit_code == 0 and "12" in status.output


def test_small_fs_is_writable_again_after_each_test(small_fs):
    # Guards the fixture: a fresh mount every test, empty and writable.
    assert not list(small_fs.iterdir())
    write_json_atomic(small_fs / "x.json", {"ok": 1})
    assert os.path.getsize(small_fs / "x.json") > 0
