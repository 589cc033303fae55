// Facts of the product units and weight formats, written once (docs/engine.md); the contract's
// constants (taps, index and pattern widths) come from the generated conv_contract.vh.
// `include this inside a module body: each is a constant function, so localparams and
// generate conditions of the engine, the units and their checks all read the same source.
//
// ARITH  0 = MULT (int codes, a*w), 1 = SHIFT (pot / apot codes, shift-add),
//        2 = PLUT (ios codebook: product bank per candidate, lanes index it)
// FORMAT 0 = dense (9 taps), 1 = KRP (one kept row: 3 taps), 2 = IKR (K kept of 9: K taps)

`include "conv_contract.vh"

// ------------------------------------------------------------------ product units

// largest |w| a code can decode to (pymodel.codes.max_abs_weight); PLUT is bounded by the
// largest level exponent its bank holds
function integer prod_max_w;
    input integer arith, w_bits, exp1_bits, exp2_bits, level_exp_max;
    begin
        if (arith == 0)
            prod_max_w = 1 << (w_bits - 1);
        else if (arith == 1 && exp2_bits == 0)
            prod_max_w = 1 << ((1 << exp1_bits) - 2);
        else if (arith == 1)
            prod_max_w = (1 << ((1 << exp1_bits) - 2)) + (1 << ((1 << exp2_bits) - 2));
        else
            prod_max_w = 7 << level_exp_max;
    end
endfunction

// power-of-two terms per weight (SHIFT two-term apot: 2)
function integer prod_n_terms;
    input integer arith, exp2_bits;
    begin
        prod_n_terms = (arith == 1 && exp2_bits > 0) ? 2 : 1;
    end
endfunction

// largest shift of one SHIFT term: exponent field value - 1
function integer prod_shift_max;
    input integer exp1_bits, exp2_bits;
    integer s1, s2;
    begin
        s1 = (1 << exp1_bits) - 2;
        s2 = (exp2_bits > 0) ? (1 << exp2_bits) - 2 : 0;
        prod_shift_max = (s1 > s2) ? s1 : s2;
    end
endfunction

// leaves per output lane: MULT one product per input lane; SHIFT and PLUT emit one's
// complement leaves plus one correction leaf (the count of negated leaves)
function integer prod_n_leaves;
    input integer arith, exp2_bits, par_in;
    begin
        if (arith == 0)
            prod_n_leaves = par_in;
        else
            prod_n_leaves = prod_n_terms(arith, exp2_bits) * par_in + 1;
    end
endfunction

// signed leaf width
function integer prod_leaf_w;
    input integer arith, a_bits, w_bits, exp1_bits, exp2_bits, level_exp_max, par_in;
    integer mag, cnt;
    begin
        if (arith == 0) begin
            prod_leaf_w = a_bits + w_bits + 1;
        end else if (arith == 1) begin
            mag = a_bits + prod_shift_max(exp1_bits, exp2_bits) + 1;
            cnt = $clog2(prod_n_terms(arith, exp2_bits) * par_in + 1) + 1;
            prod_leaf_w = (mag > cnt) ? mag : cnt;
        end else begin
            prod_leaf_w = a_bits + 3 + level_exp_max + 1;
        end
    end
endfunction

// whether the unit reads the parameter block's level descriptors (PLUT: its codebook)
function integer prod_reads_levels;
    input integer arith;
    begin
        prod_reads_levels = (arith == 2) ? 1 : 0;
    end
endfunction

// cycles from the unit's inputs to its registered leaves
function integer prod_latency;
    input integer arith;
    begin
        prod_latency = (arith == 1) ? 1 : 2;
    end
endfunction

// ------------------------------------------------------------------ weight formats

// steps per (pixel, channel group): the weight beats of a channel group
function integer fmt_taps;
    input integer format, ikr_k;
    begin
        fmt_taps = (format == 0) ? `CONV_FORMAT_DENSE_TAPS : (format == 1) ? `CONV_FORMAT_KRP_TAPS : ikr_k;
    end
endfunction

// candidate window positions offered at one step: dense the tap itself; KRP the three
// rows of column t (position c*3+t); IKR positions t..t+9-K (the t-th kept position of a
// pattern of K ascending positions always lies there): position t+c
function integer fmt_ncand;
    input integer format, ikr_k;
    begin
        fmt_ncand = (format == 0) ? 1 : (format == 1) ? `CONV_KERNEL_ROWS : `CONV_TAPS + 1 - ikr_k;
    end
endfunction

// window position (ky*3+kx) of candidate c at step t
function integer fmt_cand_pos;
    input integer format, t, c;
    begin
        fmt_cand_pos = (format == 0) ? t : (format == 1) ? c * 3 + t : t + c;
    end
endfunction

// width of a lane's candidate index (at least 1 so the ports stay legal)
function integer fmt_sel_w;
    input integer format, ikr_k;
    begin
        fmt_sel_w = (fmt_ncand(format, ikr_k) > 1) ? $clog2(fmt_ncand(format, ikr_k)) : 1;
    end
endfunction

// width of a lane's index in the index beat: KRP row 0..2, IKR pattern id
function integer fmt_idx_bits;
    input integer format, ikr_p;
    begin
        fmt_idx_bits = (format == 1) ? `CONV_FORMAT_KRP_INDEX_BITS : (format == 2 && ikr_p > 2) ? $clog2(ikr_p) : 1;
    end
endfunction

// bits of the parameter block after the level descriptors: the IKR pattern library
function integer fmt_table_bits;
    input integer format, ikr_p;
    begin
        fmt_table_bits = (format == 2) ? ikr_p * `CONV_PB_PATTERN_BITS : 0;
    end
endfunction
