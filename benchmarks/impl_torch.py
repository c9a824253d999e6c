"""The benchmark operations in PyTorch (eager), on the CPU or, as ``torch-gpu``, on CUDA.

The network and the training loop are the idiomatic PyTorch ones: ``nn.Sequential`` of
``nn.Linear``/``nn.ReLU``, ``F.cross_entropy`` on the logits, ``torch.optim.Adam`` with Keras's
epsilon (1e-7), a fresh permutation per epoch and a running accuracy, as Keras's ``fit`` logs.
On CUDA, matrix products run in true float32 (TF32 off, PyTorch's default, set explicitly).
"""

from __future__ import annotations

import numpy as np

from .config import INPUT_DIM
from .data import Data

name = "torch"


def available(device: str = "cpu") -> bool:
    try:
        import torch
    except ImportError:
        return False
    return device == "cpu" or torch.cuda.is_available()


def _sync(device):
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def build(widths: tuple[int, ...], device: str = "cpu"):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
    layers, d = [], INPUT_DIM
    for u in widths:
        layers += [nn.Linear(d, u), nn.ReLU()]
        d = u
    layers.append(nn.Linear(d, 10))
    model = nn.Sequential(*layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    return model, opt


def make(op: str, batch: int, widths: tuple[int, ...], data: Data, device: str = "cpu"):
    import torch
    import torch.nn.functional as F

    model, opt = build(widths, device)
    xs = torch.from_numpy(np.ascontiguousarray(data.x_train)).to(device)
    ys = torch.from_numpy(data.y_train).to(device)
    reps = -(-batch // len(xs))
    x = xs.repeat(reps, 1)[:batch] if reps > 1 else xs[:batch]
    y = ys.repeat(reps)[:batch] if reps > 1 else ys[:batch]

    def synced(fn):
        def run():
            out = fn()
            _sync(device)
            return out
        return run

    dense = model[0]
    if op == "dense_forward":
        def fwd():
            with torch.no_grad():  # an inference-style forward: no graph recorded
                return torch.relu(dense(x))
        return synced(fwd)
    if op == "dense_backward":
        xg = x.clone().requires_grad_(True)
        out = torch.relu(dense(xg))
        dout = torch.randn_like(out)

        def bwd():
            dense.weight.grad = dense.bias.grad = xg.grad = None
            out.backward(dout, retain_graph=True)
            return xg.grad
        return synced(bwd)
    if op == "softmax_ce":
        logits = torch.randn(batch, 10, device=device, requires_grad=True)

        def ce():
            logits.grad = None
            F.cross_entropy(logits, y).backward()
            return logits.grad
        return synced(ce)
    if op == "adam":
        F.cross_entropy(model(x), y).backward()
        return synced(opt.step)
    if op == "train_step":
        def step():
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            return loss.detach(), (logits.argmax(1) == y).sum()
        return synced(step)
    if op == "predict":
        xt = torch.from_numpy(data.x_test).to(device)

        def predict():
            with torch.no_grad():
                return torch.cat([torch.softmax(model(xt[i:i + batch]), 1).cpu()
                                  for i in range(0, len(xt), batch)])
        return synced(predict)
    if op == "epoch":
        n = len(xs)

        def epoch():
            model.train()
            perm = torch.randperm(n, device=device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                xb, yb = xs[idx], ys[idx]
                opt.zero_grad(set_to_none=True)
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * len(idx)
                correct += (logits.argmax(1) == yb).sum()
            return float(loss_sum) / n, int(correct) / n
        return synced(epoch)
    raise ValueError(f"unknown op {op!r}")
