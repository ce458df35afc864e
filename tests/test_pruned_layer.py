"""simulator.pruned_layer: the row form of a pruning (`pruned_rows`) stores exactly the layer
the dense mask (`pruned_codes`) does, for any N, ties, zeros and densities."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from compression.sparse_format import encode_sparse
from simulator.pruned_layer import pruned_codes, pruned_layer, pruned_rows
from workloads.layer_spec import LayerSpec


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(1, 20),
    cols=st.integers(1, 12),
    density=st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1)),
    kind=st.sampled_from(["normal", "ties", "zeros"]),
    n_pe=st.integers(1, 5),
    index_bits=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_form_stores_the_layer_the_mask_does(rows, cols, density, kind, n_pe, index_bits, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((rows, cols)).astype(np.float32)
    if kind == "ties":
        weights = np.round(weights * 2) / 2
    elif kind == "zeros":
        weights[rng.random((rows, cols)) < 0.4] = 0
    spec = LayerSpec("fc", "fc", cols, rows)
    codes = pruned_codes(spec, density, weights=weights)
    form = pruned_rows(spec, density, weights=weights)
    keeps_a_zero = bool(((codes == 1) & (weights == 0)).any())
    assert (form is None) == keeps_a_zero  # the row form refuses exactly these
    want = encode_sparse(codes, n_pe, index_bits)
    got = pruned_layer(spec, density, n_pe=n_pe, index_bits=index_bits, weights=weights).sparse
    for name in ("entry_code", "entry_gap", "col_ptr"):
        assert np.array_equal(getattr(got, name), getattr(want, name))
    if form is not None:
        again = pruned_layer(spec, density, n_pe=n_pe, index_bits=index_bits, rows=form).sparse
        assert np.array_equal(again.entry_code, want.entry_code)
