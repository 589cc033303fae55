"""`python -m pymodel report`: fidelity, storage (fixed width and entropy coded), op counts and,
optionally, the end-to-end agreement of every scheme x pruning, as rows and as a text table."""

from __future__ import annotations

import time

import numpy as np
from tqdm import tqdm

from . import reference as R
from .export import LAYER_NAME, retrain_jobs
from .inputs import check_names, import_quantizers, load_inputs
from .layer_cache import cached_layer

INT_PIPE_CROPS = 4  # the integer-pipeline SQNR runs the bit-exact reference on this many held-out crops


def int_pipeline_outputs(layer, conv8, acts, a_bits: int, out_frac: int, crops: int = INT_PIPE_CROPS):
    """(float ReLU(conv8), the integer pipeline's dequantized output out * residual * 2^-out_frac),
    float64 [crops, Cout, H, W] each, on the first `crops` held-out crops."""
    ref = np.maximum(R.float_conv3x3(acts.heldout_float[:crops], conv8), 0).astype(np.float64)
    bias_int, shift, residual = R.requant_params(layer, None, acts.a_frac, out_frac)
    got = np.stack(
        [R.output_stage(R.acc_multiply(x, layer.wint), bias_int, shift, a_bits)
         for x in acts.heldout_int[:crops]]
    ).astype(np.float64)
    got *= residual[None, :, None, None] * 2.0**-out_frac
    return ref, got


def int_pipeline_sqnr(layer, conv8, acts, a_bits: int, out_frac: int) -> float:
    """SQNR (dB) of the integer pipeline's dequantized output against float ReLU(conv8) on the
    held-out crops: includes activation, weight and output quantization and the power-of-two
    requantization."""
    ref, got = int_pipeline_outputs(layer, conv8, acts, a_bits, out_frac)
    noise = np.sum((got - ref) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(ref**2) / noise))


def run_report(args, progress: bool = True) -> dict:
    schemes, metrics = import_quantizers()
    scheme_names = check_names(args.schemes, schemes.SCHEMES, "scheme")
    prunings = check_names(args.prunings, schemes.PRUNINGS, "pruning")
    conv8, acts, out_frac = load_inputs(args, args.a_bits)
    h, w = acts.heldout_int.shape[2:]
    cin = acts.heldout_int.shape[1]
    rows = []
    refits = {"both": (True, False), "refit": (True,), "norefit": (False,)}[args.variants]
    jobs = [(s, p, r, None) for s in scheme_names for p in prunings for r in refits]
    jobs += [(s, p, True, m) for m, s, p in retrain_jobs(getattr(args, "retrain_methods", None),
                                                            scheme_names, prunings)]
    network = getattr(args, "network", False)
    timing: dict[str, float] = {}
    if network:
        from . import network as N

        t0 = time.perf_counter()
        net = N.RestOfNetwork(args.weights_path if str(args.weights_path or "").endswith(".onnx") else None)
        ref_logits = N.float_logits(net, conv8, acts)
        timing["network_float_s"] = time.perf_counter() - t0
    from . import entropy as E

    for scheme, pruning, refit, method in tqdm(jobs, desc="report", disable=not progress, unit="layer"):
        t0 = time.perf_counter()
        if method is None:
            layer = cached_layer(conv8, acts, scheme, pruning, refit, args.cache)
        else:
            layer = schemes.make_layer(conv8, acts, scheme, pruning, refit=True, retrain=method,
                                       retrain_steps=getattr(args, "retrain_steps", None))
        t_layer = time.perf_counter() - t0
        fid = metrics.fidelity(layer, conv8, acts)
        sto = metrics.storage_bits(layer)
        ops = metrics.op_counts(layer, h, w)
        ent = E.entropy_storage(layer)
        e2e = {}
        if network:
            t1 = time.perf_counter()
            e2e = N.agreement(ref_logits, N.layer_logits(net, layer, acts))
            e2e = {"logit_sqnr_db": e2e["logit_sqnr_db"], "top1_agreement": e2e["top1_agreement"],
                   "network_s": time.perf_counter() - t1}
        variant = method or ("refit" if refit else "norefit")
        rows.append(
            {
                "scheme": scheme,
                "pruning": pruning,
                "refit": refit,
                "retrain": method,
                "name": f"{scheme}-{pruning}-{variant}",
                "rans_bits_total": ent["rans_total_bits"],
                "rans_ratio_vs_fp32": ent["rans_ratio_vs_fp32"],
                "huffman_ratio_vs_fp32": ent["huffman_ratio_vs_fp32"],
                "code_entropy_bits": ent["streams"]["codes"]["entropy_bits_per_symbol"],
                "layer_s": layer.extra.get("retrain_s", t_layer) if method else t_layer,
                **e2e,
                "sqnr_db": float(fid["sqnr_db"]),
                "cosine": float(fid["cosine"]),
                "int_pipeline_sqnr_db": int_pipeline_sqnr(layer, conv8, acts, args.a_bits, out_frac),
                "density": float(layer.mask.mean()),
                **{k: (float(v) if isinstance(v, float) else int(v)) for k, v in sto.items()},
                **{k: int(v) for k, v in ops.items()},
                "acc_bits": R.acc_bits_for(layer, cin, args.a_bits),
            }
        )
    synthetic = "synthetic" in conv8.source
    header = {
        "layer": LAYER_NAME,
        "weights_source": conv8.source,
        "weights_synthetic": synthetic,
        "activations_source": acts.source,
        "a_bits": args.a_bits,
        "a_frac": acts.a_frac,
        "out_frac": out_frac,
        "heldout_crops": int(acts.heldout_int.shape[0]),
        "calib_crops": int(acts.calib_int.shape[0]),
        "calib_photos": sorted(set(acts.calib_photos)),
        "heldout_photos": sorted(set(acts.heldout_photos)),
        "int_pipeline_crops": min(INT_PIPE_CROPS, int(acts.heldout_int.shape[0])),
        "seed": args.seed,
        **timing,
    }
    if network:
        header["network"] = (net.source + "; agreement with the float network "
                             "(a brain-MRI classifier fed photos: no labels, agreement is the measure)")
    return {"header": header, "rows": rows}


def format_report(report: dict) -> str:
    hd = report["header"]
    lines = [f"layer: {hd['layer']}", f"weights: {hd['weights_source']}"]
    if hd["weights_synthetic"]:
        lines.append(
            "WARNING: SYNTHETIC WEIGHTS (random, not the trained VGG16): accuracy numbers are "
            "not representative"
        )
    lines += [
        f"activations: {hd['activations_source']}",
        f"split by photo: {hd.get('calib_crops', '?')} calibration crops of "
        f"{len(hd.get('calib_photos', []))} photos, {hd['heldout_crops']} held-out crops of "
        f"{len(hd.get('heldout_photos', []))} other photos",
        *([f"end to end: {hd['network']}"] if "network" in hd else []),
        f"a_bits={hd['a_bits']} a_frac={hd['a_frac']} out_frac={hd['out_frac']}; "
        f"SQNR/cosine on {hd['heldout_crops']} held-out crops vs float conv8 (int-pipe: requantized "
        f"uint outputs vs float ReLU, first {hd.get('int_pipeline_crops', '?')} crops); rANS/Huff: "
        "entropy-coded storage vs fp32; exec: products as executed (every stored slot)",
        "",
    ]
    cols = (
        "name",
        "sqnr_db",
        "cosine",
        "int_pipeline_sqnr_db",
        "density",
        "total_bits",
        "metadata_bits",
        "ratio_vs_fp32",
        "rans_ratio_vs_fp32",
        "huffman_ratio_vs_fp32",
        "multiplies",
        "shifts",
        "adds",
        "lookups",
        "executed_products",
        "acc_bits",
        "logit_sqnr_db",
        "top1_agreement",
        "layer_s",
    )
    heads = (
        "layer",
        "SQNR dB",
        "cosine",
        "int-pipe dB",
        "density",
        "bits total",
        "meta bits",
        "x vs fp32",
        "x rANS",
        "x Huff",
        "mults",
        "shifts",
        "adds",
        "lookups",
        "exec products",
        "acc",
        "logit dB",
        "top-1",
        "time s",
    )

    def fmt(k, v):
        if v == "":
            return ""
        if k in ("sqnr_db", "int_pipeline_sqnr_db", "logit_sqnr_db"):
            return f"{v:.2f}"
        if k in ("rans_ratio_vs_fp32", "huffman_ratio_vs_fp32", "layer_s"):
            return f"{v:.1f}" if k == "layer_s" else f"{v:.2f}"
        if k == "top1_agreement":
            return f"{100 * v:.1f}%"
        if k == "cosine":
            return f"{v:.5f}"
        if k in ("density", "ratio_vs_fp32"):
            return f"{v:.3f}" if k == "density" else f"{v:.2f}"
        return str(v)

    table = [heads] + [tuple(fmt(k, r.get(k, "")) for k in cols) for r in report["rows"]]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for i, row in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(wd) if j == 0 else c.rjust(wd)
                for j, (c, wd) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            lines.append("  ".join("-" * wd for wd in widths))
    return "\n".join(lines)
