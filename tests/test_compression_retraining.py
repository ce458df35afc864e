"""Torch retraining mechanisms (DESIGN §3.1, §3.3) on a tiny net: masks enforced through
gradients and optimizer steps, iterative pruning, trained quantization's centroid gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from compression.retraining import (
    MaskEnforcer,
    bake_shared_weights,
    iterative_prune,
    share_module_weights,
)


def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))


def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(16, 6, generator=generator), torch.randint(0, 3, (16,), generator=generator)


def train_steps(net, enforcer, steps=5):
    x, y = batch()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        for name, mask in enforcer.masks.items():
            assert torch.all(enforcer.params[name].grad[~mask] == 0)
        optimizer.step()
        enforcer.apply()


def test_masks_keep_pruned_weights_zero_and_gradients_zero():
    net = tiny_net()
    params = {"fc1": net[0].weight, "fc2": net[2].weight}
    rng = np.random.default_rng(0)
    masks = {name: rng.random(tuple(p.shape)) < 0.4 for name, p in params.items()}
    enforcer = MaskEnforcer(params, masks)
    before = {name: p.detach().clone() for name, p in params.items()}
    train_steps(net, enforcer)
    for name, p in params.items():
        mask = torch.from_numpy(masks[name])
        assert torch.all(p[~mask] == 0)
        assert not torch.equal(p[mask], before[name][mask])  # the survivors did train
    with pytest.raises(ValueError, match="mask 'fc1' shape"):
        MaskEnforcer(params, {"fc1": np.ones((2, 2), bool)})


def test_iterative_prune_reaches_exact_density_and_never_revives():
    net = tiny_net()
    params = {"fc1": net[0].weight, "fc2": net[2].weight}
    seen = []

    def retrain(step, enforcer):
        seen.append({name: int((~m).sum()) for name, m in enforcer.masks.items()})
        train_steps(net, enforcer, steps=3)

    masks = iterative_prune(params, {"fc1": 0.25, "fc2": 0.5}, steps=3, retrain=retrain)
    assert [s["fc1"] for s in seen] == sorted(s["fc1"] for s in seen)  # monotone pruning
    assert int(masks["fc1"].sum()) == round(0.25 * 72) and int(masks["fc2"].sum()) == 18
    assert int((net[0].weight != 0).sum()) <= 18


def test_trained_quantization_centroid_gradient_is_sum_of_member_gradients():
    net = tiny_net()
    with torch.no_grad():
        net[0].weight[net[0].weight.abs() < 0.15] = 0
    zero_before = (net[0].weight == 0).clone()
    dense_weight = net[0].weight.detach().clone().requires_grad_(True)
    shared = share_module_weights(net[0], weight_bits=2)
    codes = shared.codes.clone()
    x, y = batch()
    # gradient of the loss w.r.t. each (quantized) weight, computed on a plain copy
    quantized = net[0].weight.detach().clone().requires_grad_(True)
    hidden = torch.relu(nn.functional.linear(x, quantized, net[0].bias))
    nn.functional.cross_entropy(net[2](hidden), y).backward()
    expected = torch.zeros(3)
    for c in range(1, 4):
        expected[c - 1] = quantized.grad[codes == c].sum()
    nn.functional.cross_entropy(net(x), y).backward()
    torch.testing.assert_close(shared.centroids.grad, expected)
    optimizer = torch.optim.SGD([shared.centroids], lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    weight = net[0].weight.detach()
    assert torch.all(weight[zero_before] == 0) and torch.equal(shared.codes, codes)
    assert torch.unique(weight[weight != 0]).numel() <= 3
    codebook, baked_codes = bake_shared_weights(net[0])
    assert codebook[0] == 0 and np.array_equal(baked_codes, codes.numpy())
    assert torch.equal(net[0].weight.detach(), torch.from_numpy(codebook)[codes])
    assert dense_weight.shape == weight.shape
