"""Second-stage (lossless) compression of a quantized layer: entropy coding of the streams the
hardware reads, with `constriction` (rANS and Huffman), as in Deep Compression's Huffman stage
and IOS-PoT's second stage.

Streams (symbol = the stored value, in the order the weight buffer is filled, co, ci, ky, kx):
* codes: the code of every stored slot (dense: all 9 per kernel; krp: the 3 of the kept row;
  ikr: the k of the kernel's pattern; unstructured: the kept ones);
* index: krp row index (3 symbols) / ikr pattern id (P symbols) per kernel; unstructured: the
  1-bit occupancy map (2 symbols).

Each stream has its own static model: the symbol frequencies quantized to MODEL_PRECISION bits,
stored once with the layer (n_symbols x MODEL_PRECISION bits, counted). The code stream of a
4-bit layer is also coded with an order-1 model (one frequency row per previous symbol: the
taps of a kernel row are correlated, e.g. 3.59 -> 3.42 bits per code on KRP pot4), kept when it
is smaller with its n_symbols^2 table counted (`rans_order` 1 in entropy_storage's streams).
Per-channel words, the IKR pattern library and the IOS level descriptors stay at fixed width
(storage_bits' metadata).

Decoder cost (what a hardware decoder in front of the weight buffer needs), per stream:
* rANS (constriction AnsCoder, 32-bit words, 24-bit precision by default; we quantize the
  model to 12 bits so the table is small): a 64-bit state register, a table of n_symbols
  (frequency, cumulative) pairs of 12 bits, a symbol search over the cumulative table (a
  4-level comparator tree for 16 symbols, or a 4096-entry slot->symbol ROM), one 12 x 32-bit
  multiply-add per symbol (one DSP48), and a 32-bit word refill; one symbol per cycle pipelined.
  Order 1 adds a 4-bit register holding the last symbol, which selects the row of a
  n_symbols x n_symbols table (256 (frequency, cumulative) pairs for 4-bit codes); the decoded
  symbol feeds back into the next search within the cycle, as the state already does.
* Huffman (canonical, order 0): the code lengths (n_symbols x 4 bits), a barrel shifter over a
  2*Lmax bit window and a first-code-per-length comparator chain (Lmax <= 15 here); no multiplier.
conv8's weight buffer is filled once per layer (1.18 M codes against 3.6 M compute cycles at
PAR_IN = PAR_OUT = 16), so one decoder at one symbol per cycle does not slow the core.
"""

from __future__ import annotations

import math

import numpy as np

from pymodel import metrics
from pymodel.types import QuantizedLayer

MODEL_PRECISION = 12  # bits per stored frequency (rANS) - also the table cost per symbol
HUFFMAN_LENGTH_BITS = 4  # a stored canonical Huffman code length
CONTEXT_ALPHABET = 16  # order-1 (previous-symbol) rANS is tried on 4-bit code streams (an 8-bit
# stream's 256 x 256 table costs more than it could save)


def streams(layer: QuantizedLayer) -> dict[str, tuple[np.ndarray, int]]:
    """{name: (symbols int32, alphabet size)} of the layer's stored streams."""
    codes = layer.codes.astype(np.int32)
    alphabet = 1 << layer.w_bits
    out = {}
    if layer.pruning == "dense":
        out["codes"] = (codes.ravel(), alphabet)
    else:
        out["codes"] = (codes[layer.mask], alphabet)  # row-major (co, ci, ky, kx) order
    if layer.pruning == "krp":
        row_idx = layer.row_idx
        if row_idx is None:  # k_rows > 1 is not exported; derive the first kept row
            row_idx = np.argmax(layer.mask.any(axis=3), axis=2)
        out["index"] = (np.asarray(row_idx, np.int32).ravel(), 3)
    elif layer.pruning == "ikr":
        out["index"] = (np.asarray(layer.pattern_id, np.int32).ravel(), len(layer.patterns))
    elif layer.pruning == "unstructured":
        out["index"] = (layer.mask.astype(np.int32).ravel(), 2)
    return out


def _probabilities(symbols: np.ndarray, alphabet: int) -> np.ndarray:
    counts = np.bincount(symbols, minlength=alphabet).astype(np.float64)
    return counts / counts.sum()


def entropy_bits(symbols: np.ndarray, alphabet: int) -> float:
    """Shannon bound (order 0) of the stream, in bits."""
    p = _probabilities(symbols, alphabet)
    nz = p[p > 0]
    return float(-(nz * np.log2(nz)).sum() * len(symbols))


def _quantized_model(probs: np.ndarray):
    """The probabilities as stored (MODEL_PRECISION-bit frequencies, each used symbol >= 1)."""
    total = 1 << MODEL_PRECISION
    freq = np.where(probs > 0, np.maximum(1, np.round(probs * total)), 0)
    while freq.sum() > total:  # trim the largest until the table sums to 2^precision
        freq[np.argmax(freq)] -= 1
    freq[np.argmax(freq)] += total - freq.sum()
    return freq / total


def rans_encode(symbols: np.ndarray, alphabet: int) -> tuple[np.ndarray, np.ndarray]:
    """(compressed uint32 words, model probabilities as stored)."""
    import constriction

    probs = _quantized_model(_probabilities(symbols, alphabet))
    model = constriction.stream.model.Categorical(probs.astype(np.float64), perfect=False)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(np.ascontiguousarray(symbols, np.int32), model)
    return coder.get_compressed(), probs


def rans_decode(words: np.ndarray, probs: np.ndarray, n: int) -> np.ndarray:
    import constriction

    model = constriction.stream.model.Categorical(probs.astype(np.float64), perfect=False)
    coder = constriction.stream.stack.AnsCoder(np.ascontiguousarray(words, np.uint32))
    return coder.decode(model, n)


def _contexts(symbols: np.ndarray) -> np.ndarray:
    """The order-1 context of each symbol: the previous symbol of the stream (0 for the first)."""
    return np.concatenate([[0], symbols[:-1]]).astype(np.int64)


def context_table(symbols: np.ndarray, alphabet: int) -> np.ndarray:
    """[alphabet, alphabet] probabilities as stored (MODEL_PRECISION-bit frequencies): row c is the
    distribution of a symbol whose predecessor is c; rows of contexts that never occur are zero."""
    ctx = _contexts(symbols)
    table = np.zeros((alphabet, alphabet))
    for c in np.unique(ctx):
        table[c] = _quantized_model(_probabilities(symbols[ctx == c], alphabet))
    return table


def rans_encode_context(symbols: np.ndarray, alphabet: int) -> tuple[np.ndarray, np.ndarray]:
    """Order-1 rANS: (compressed uint32 words, context_table), each symbol coded with the row of
    its predecessor."""
    import constriction

    symbols = np.ascontiguousarray(symbols, np.int32)
    table = context_table(symbols, alphabet)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(symbols, constriction.stream.model.Categorical(perfect=False),
                         np.ascontiguousarray(table[_contexts(symbols)], np.float64))
    return coder.get_compressed(), table


def rans_decode_context(words: np.ndarray, table: np.ndarray, n: int) -> np.ndarray:
    """Sequential decode of rans_encode_context: the context is the symbol just decoded."""
    import constriction

    model = constriction.stream.model.Categorical(perfect=False)
    coder = constriction.stream.stack.AnsCoder(np.ascontiguousarray(words, np.uint32))
    out = np.zeros(n, np.int32)
    prev = 0
    for i in range(n):
        prev = out[i] = int(coder.decode(model, table[prev][None, :].astype(np.float64))[0])
    return out


def huffman_bits(symbols: np.ndarray, alphabet: int) -> tuple[int, int]:
    """(exact Huffman-coded length in bits, longest code length), from the code lengths of
    constriction's Huffman tree on the stream's frequencies."""
    import constriction

    probs = _probabilities(symbols, alphabet)
    used = np.flatnonzero(probs > 0)
    if len(used) == 1:
        return len(symbols), 1
    tree = constriction.symbol.huffman.EncoderHuffmanTree(probs[used])
    lengths = np.zeros(alphabet, np.int64)
    for j, _s in enumerate(used):
        enc = constriction.symbol.QueueEncoder()
        enc.encode_symbol(j, tree)
        lengths[_s] = enc.get_compressed()[1]
    counts = np.bincount(symbols, minlength=alphabet)
    return int((counts * lengths).sum()), int(lengths.max())


def huffman_roundtrip(symbols: np.ndarray, alphabet: int) -> np.ndarray:
    import constriction

    probs = _probabilities(symbols, alphabet)
    used = np.flatnonzero(probs > 0)
    lut = np.full(alphabet, -1, np.int64)
    lut[used] = np.arange(len(used))
    enc_tree = constriction.symbol.huffman.EncoderHuffmanTree(probs[used])
    enc = constriction.symbol.QueueEncoder()
    for s in lut[symbols].tolist():
        enc.encode_symbol(s, enc_tree)
    words, _ = enc.get_compressed()
    dec_tree = constriction.symbol.huffman.DecoderHuffmanTree(probs[used])
    dec = constriction.symbol.QueueDecoder(words)
    return used[np.array([dec.decode_symbol(dec_tree) for _ in range(len(symbols))], np.int64)]


def entropy_storage(layer: QuantizedLayer) -> dict:
    """Bits of the layer after entropy coding, beside the fixed-width figure of storage_bits.

    rans_* counts the compressed words (32 bits each) plus each stream's model table;
    huffman_* the exact coded length plus the code-length table. The fixed metadata (per
    channel words, IKR pattern library, IOS level descriptors) is added unchanged."""
    fixed = metrics.storage_bits(layer)
    cout, cin = layer.wint.shape[:2]
    per_stream = {}
    rans_total = huff_total = 0
    for name, (sym, alphabet) in streams(layer).items():
        words, probs = rans_encode(sym, alphabet)
        rans = 32 * len(words) + MODEL_PRECISION * alphabet
        order = 0
        if name == "codes" and alphabet == CONTEXT_ALPHABET:
            # order 1 where it pays for its table (alphabet^2 frequencies, every row counted)
            ctx_words, _ = rans_encode_context(sym, alphabet)
            ctx_bits = 32 * len(ctx_words) + MODEL_PRECISION * alphabet * alphabet
            if ctx_bits < rans:
                rans, order = ctx_bits, 1
        huff, lmax = huffman_bits(sym, alphabet)
        huff += HUFFMAN_LENGTH_BITS * alphabet
        per_stream[name] = {"symbols": int(len(sym)), "fixed_bits_per_symbol": math.ceil(math.log2(alphabet)),
                            "entropy_bits_per_symbol": entropy_bits(sym, alphabet) / max(1, len(sym)),
                            "rans_bits": int(rans), "rans_order": order, "huffman_bits": int(huff),
                            "huffman_max_len": lmax}
        rans_total += rans
        huff_total += huff
    # fixed metadata that is not entropy coded: per-channel words, pattern library, level descriptors
    extra = cout * metrics.PER_CHANNEL_WORDS * 32
    if layer.pruning == "ikr":
        extra += len(layer.patterns) * 9
    if layer.scheme == "ios":
        extra += 16 * 8
    fp32 = (layer.wint.size + cout) * 32
    n_weights = layer.wint.size
    return {
        "streams": per_stream,
        "rans_total_bits": int(rans_total + extra),
        "huffman_total_bits": int(huff_total + extra),
        "rans_ratio_vs_fp32": fp32 / (rans_total + extra),
        "huffman_ratio_vs_fp32": fp32 / (huff_total + extra),
        "rans_bits_per_weight": (rans_total + extra) / n_weights,
        "fixed_bits_per_weight": fixed["total_bits"] / n_weights,
        "fixed_ratio_vs_fp32": fixed["ratio_vs_fp32"],
        "kernels": cout * cin,
    }
