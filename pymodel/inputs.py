"""The inputs every pymodel command works from: conv8's weights and the calibration / held-out
activations (memoized per process), the quantizer modules, and the user error type.

A user error (bad names, unsupported widths, missing or corrupt files) is a CliError: the CLI
prints it as one "pymodel: error: ..." line and exits with code 2.
"""

from __future__ import annotations

import sys
import warnings

from . import reference as R


class CliError(Exception):
    """A user error reported as one line on stderr with exit code 2."""


def import_quantizers():
    try:
        from . import metrics, schemes
    except ImportError as exc:
        raise CliError(f"the quantizer modules are not available ({exc})") from exc
    return schemes, metrics


def load_inputs(args, a_bits: int):
    """(conv8, activations, out_frac) for `a_bits`, memoized per process (the bench's warm run)."""
    from . import activations, weights

    key = (args.weights, args.weights_path, args.seed, a_bits)
    if key not in _INPUTS_MEMO:
        convs = vgg_convs(args)
        conv8 = convs[weights.CONV8]
        acts = activations.conv8_inputs(convs, a_bits=a_bits, seed=args.seed)
        _INPUTS_MEMO[key] = (conv8, acts, R.out_frac_from_calibration(conv8, acts.calib_float, a_bits))
    return _INPUTS_MEMO[key]


_INPUTS_MEMO: dict = {}


def check_names(given: list[str] | None, valid, what: str) -> list[str]:
    valid = list(valid)
    if given is None:
        return valid
    bad = [g for g in given if g not in valid]
    if bad:
        raise CliError(f"unknown {what} {', '.join(bad)}; expected from {', '.join(valid)}")
    return list(dict.fromkeys(given))


_CONVS_MEMO: dict = {}


def vgg_convs(args):
    from . import weights

    key = (args.weights, args.weights_path, args.seed)
    if key not in _CONVS_MEMO:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", weights.SyntheticFallbackWarning)
            _CONVS_MEMO[key] = weights.load_vgg16_convs(args.weights, args.weights_path, args.seed)
        for w in caught:  # never fall back silently: one line per reason
            sys.stderr.write(f"pymodel {args.command}: warning: {str(w.message).splitlines()[0]}\n")
    return _CONVS_MEMO[key]
