#!/usr/bin/env python3
"""Golden optimizer trajectories from torch.optim, for lora-optim's GoldenOptimizerTest.

Usage (from the repository root, with torch installed; no GPU is needed):

    python3 tools/golden/optimizers.py [OUT_DIR]

OUT_DIR defaults to lora-optim/src/test/resources/golden. Writes optimizers.safetensors (about 300 KB)
and optimizers.json.

Every case starts from the same seeded parameters, w [16, 32] and b [64], and takes the same 100 seeded
gradients (most of norm ~24, every tenth step's a thousand times smaller, so that clipping both acts
and does not). Each case builds a torch optimizer exactly as the JSON describes it and runs 100 updates
on CPU float32 tensors, one thread, with foreach=False (the single-tensor code path that
lora4j's Backend ops reproduce):

    for t in range(100):
        p.grad = grads[t]                                   for every parameter
        clip_grad_norm_(params, max_grad_norm)              when the case clips
        optimizer.step(); scheduler.step()                  scheduler: LambdaLR, when the case has one

The AdamW cases cover AMSGrad, weight decay, a cosine LambdaLR schedule with warmup (transformers'
formula), parameter groups with their own weight decay and learning rate, gradient clipping, and
beta1 = 0.3 (whose lerp_ weight 0.7 takes the other branch of torch's lerp). The SGD cases cover
momentum, dampening, Nesterov and weight decay.

Parameter sizes are multiples of 64 so that every element goes through torch's vectorised CPU kernels
(whose roundings lora4j follows), never their scalar tail loops.

Fixture:
  optimizers.safetensors (F32):
    init.<p>                      initial value of parameter p
    grads.<p>                     [100, *shape]: gradient of step t at [t]
    <case>.step<k>.<p>            parameter p after k updates, k in CHECKPOINTS
    <case>.state.<p>.<name>       the optimizer's state after 100 updates (exp_avg, exp_avg_sq,
                                  max_exp_avg_sq, momentum_buffer), named as lora4j saves them
  optimizers.json:
    {"torch": ..., "python": ..., "steps": 100, "checkpoints": [...],
     "parameters": [{"name": "w", "shape": [16, 32]}, ...],
     "cases": [{"name": ..., "optimizer": "adamw" | "sgd", "lr": ..., <hyperparameters>,
                "schedule": null | {"type": "cosine", "warmup": 10, "total": 100},
                "max_grad_norm": null | 1.0,
                "groups": [{"parameters": ["w"], "weight_decay": ..., "lr": ...}, ...]}, ...]}
A group's lr and weight_decay are present only where the group overrides the optimizer's.
Floats in the JSON are written with repr, which round-trips every double.
"""

import json
import math
import os
import platform
import struct
import sys

import torch

DEFAULT_OUT = os.path.join("lora-optim", "src", "test", "resources", "golden")
STEPS = 100
CHECKPOINTS = [1, 2, 10, 50, 100]
SHAPES = {"w": [16, 32], "b": [64]}
SEED = 20251124


def cosine_lambda(warmup, total, cycles=0.5):
    """transformers' get_cosine_schedule_with_warmup factor (lora-sched matches it to 1e-12)."""

    def factor(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))

    return factor


COSINE = {"type": "cosine", "warmup": 10, "total": STEPS}

CASES = [
    {"name": "adamw", "optimizer": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8,
     "weight_decay": 0.01, "amsgrad": False},
    {"name": "adamw_amsgrad", "optimizer": "adamw", "lr": 3e-3, "betas": [0.9, 0.999], "eps": 1e-8,
     "weight_decay": 0.1, "amsgrad": True},
    {"name": "adamw_cosine", "optimizer": "adamw", "lr": 5e-3, "betas": [0.9, 0.95], "eps": 1e-6,
     "weight_decay": 0.01, "amsgrad": False, "schedule": COSINE},
    {"name": "adamw_groups_clipped", "optimizer": "adamw", "lr": 2e-3, "betas": [0.9, 0.999], "eps": 1e-8,
     "weight_decay": 0.1, "amsgrad": False, "max_grad_norm": 1.0,
     "groups": [{"parameters": ["w"]}, {"parameters": ["b"], "weight_decay": 0.0, "lr": 1e-2}]},
    {"name": "adamw_beta1_low_amsgrad_cosine", "optimizer": "adamw", "lr": 1e-2, "betas": [0.3, 0.9], "eps": 1e-8,
     "weight_decay": 0.0, "amsgrad": True, "schedule": COSINE, "max_grad_norm": 1.0},
    {"name": "sgd", "optimizer": "sgd", "lr": 1e-2, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
     "nesterov": False},
    {"name": "sgd_momentum_dampening", "optimizer": "sgd", "lr": 1e-2, "momentum": 0.9, "dampening": 0.1,
     "weight_decay": 0.01, "nesterov": False},
    {"name": "sgd_nesterov_cosine_clipped", "optimizer": "sgd", "lr": 5e-2, "momentum": 0.9, "dampening": 0.0,
     "weight_decay": 1e-3, "nesterov": True, "schedule": COSINE, "max_grad_norm": 1.0},
]


def data():
    g = torch.Generator().manual_seed(SEED)
    init = {n: torch.randn(s, generator=g, dtype=torch.float32) for n, s in SHAPES.items()}
    grads = {}
    for n, s in SHAPES.items():
        scale = torch.tensor([1e-3 if t % 10 == 3 else 0.5 + 0.25 * (t % 4) for t in range(STEPS)],
                             dtype=torch.float32).view(-1, *([1] * len(s)))
        grads[n] = torch.randn([STEPS, *s], generator=g, dtype=torch.float32) * scale
    return init, grads


def build(case, params):
    groups = case.get("groups") or [{"parameters": list(SHAPES)}]
    param_groups = []
    for gdef in groups:
        group = {"params": [params[n] for n in gdef["parameters"]]}
        if "weight_decay" in gdef:
            group["weight_decay"] = gdef["weight_decay"]
        if "lr" in gdef:
            group["lr"] = gdef["lr"]
        param_groups.append(group)
    if case["optimizer"] == "adamw":
        opt = torch.optim.AdamW(param_groups, lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                                weight_decay=case["weight_decay"], amsgrad=case["amsgrad"], foreach=False)
    else:
        opt = torch.optim.SGD(param_groups, lr=case["lr"], momentum=case["momentum"], dampening=case["dampening"],
                              weight_decay=case["weight_decay"], nesterov=case["nesterov"], foreach=False)
    sched = None
    if case.get("schedule"):
        s = case["schedule"]
        assert s["type"] == "cosine"
        sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_lambda(s["warmup"], s["total"]))
    return opt, sched


STATE_NAMES = {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq",
               "momentum_buffer": "momentum_buffer"}


def clip(params, max_norm):
    try:
        torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=False)
    except TypeError:  # torch before 2.0 has no foreach argument (and no foreach path on the CPU)
        torch.nn.utils.clip_grad_norm_(params, max_norm)


def run(case, init, grads, out):
    params = {n: init[n].clone().requires_grad_(True) for n in SHAPES}
    opt, sched = build(case, params)
    for t in range(STEPS):
        for n, p in params.items():
            p.grad = grads[n][t].clone()
        if case.get("max_grad_norm"):
            clip(list(params.values()), case["max_grad_norm"])
        opt.step()
        if sched is not None:
            sched.step()
        if t + 1 in CHECKPOINTS:
            for n, p in params.items():
                out[f"{case['name']}.step{t + 1}.{n}"] = p.detach().clone()
    for n, p in params.items():
        for key, value in opt.state[p].items():
            if key in STATE_NAMES and value is not None:
                out[f"{case['name']}.state.{n}.{STATE_NAMES[key]}"] = value.detach().clone()
        assert torch.isfinite(p).all(), f"{case['name']}: {n} is not finite"


def write_safetensors(path, tensors):
    """The safetensors format (8-byte little-endian header length, JSON header, data), F32 only."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        assert t.dtype == torch.float32
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    init, grads = data()
    tensors = {}
    for n in SHAPES:
        tensors[f"init.{n}"] = init[n]
        tensors[f"grads.{n}"] = grads[n]
    for case in CASES:
        run(case, init, grads, tensors)
    write_safetensors(os.path.join(out_dir, "optimizers.safetensors"), tensors)
    meta = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "steps": STEPS,
        "checkpoints": CHECKPOINTS,
        "seed": SEED,
        "parameters": [{"name": n, "shape": s} for n, s in SHAPES.items()],
        "cases": [dict(case, schedule=case.get("schedule"), max_grad_norm=case.get("max_grad_norm"),
                       groups=case.get("groups") or [{"parameters": list(SHAPES)}]) for case in CASES],
    }
    with open(os.path.join(out_dir, "optimizers.json"), "w") as f:
        f.write(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(tensors)} tensors for {len(CASES)} cases to {out_dir} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
