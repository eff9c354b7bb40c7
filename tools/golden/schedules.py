#!/usr/bin/env python3
"""Golden learning-rate tables from Hugging Face transformers, for lora-sched's GoldenScheduleTest.

Usage (from the repository root, with torch and transformers installed; no GPU is needed):

    python3 tools/golden/schedules.py [OUT_JSON]

OUT_JSON defaults to lora-sched/src/test/resources/golden/schedules.json.

For every lr_scheduler_type lora-sched implements, several parameter sets and several (total, warmup)
pairs, it builds the scheduler as Trainer does, with transformers.get_scheduler on a one-parameter SGD
optimizer whose lr is the peak, and records the rate of updates 0 .. total+5: read
param_groups[0]["lr"], then optimizer.step() and scheduler.step(). It also records
TrainingArguments.get_warmup_steps for a few warmup ratios.

Fixture format (one case per line, so diffs stay readable):
  {"transformers": "...", "torch": "...", "python": "...",
   "warmup_ratios": [{"ratio": r, "total": n, "warmup_steps": w}, ...],
   "cases": [
     {"type": "cosine", "lr": 0.0003, "total": 100, "warmup": 10,
      "kwargs": {...},      # scheduler_specific_kwargs exactly as passed (the test builds from these)
      "params": {...},      # every parameter the lambda used, defaults filled in, for readers
      "rates": [lr at step 0, lr at step 1, ...]},
     ...]}
Floats are written with repr, which round-trips every double.
"""

import inspect
import json
import math
import os
import platform
import sys
import tempfile

import torch
import transformers
from transformers import get_scheduler
from transformers.optimization import (
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
    get_inverse_sqrt_schedule,
    get_polynomial_decay_schedule_with_warmup,
    get_wsd_schedule,
)

DEFAULT_OUT = os.path.join("lora-sched", "src", "test", "resources", "golden", "schedules.json")

LR = 3e-4
EXTRA_STEPS = 5  # steps recorded past the end, where the schedules differ most
# (total, warmup): no warmup, short and long warmup, odd sizes, warmup one short of the run, and a warmup
# that fills the run (where transformers' max(1, ...) guards matter).
PAIRS = [(100, 0), (100, 10), (1000, 30), (7, 3), (50, 49), (10, 10)]
# The long run only for each type's first parameter set, to keep the fixture small.
LONG_TOTAL = 1000


def defaults(fn):
    """The keyword defaults of a transformers schedule function, read from the installed version."""
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def wsd_decay(total, warmup, share):
    """num_decay_steps as a share of what warmup leaves: 'third', 'half' or 'all'."""
    left = total - warmup
    return {"third": left // 3, "half": left // 2, "all": left}[share]


def variants():
    """(type, kwargs-builder, pair filter) for every case; a kwargs-builder maps (total, warmup) to kwargs."""
    yield "constant", lambda t, w: {}, lambda t, w: w == 0
    yield "constant_with_warmup", lambda t, w: {}, None
    yield "linear", lambda t, w: {}, None
    yield "cosine", lambda t, w: {}, None
    yield "cosine", lambda t, w: {"num_cycles": 1.5}, None
    yield "cosine", lambda t, w: {"num_cycles": 0.25}, None
    yield "cosine_with_restarts", lambda t, w: {}, None
    yield "cosine_with_restarts", lambda t, w: {"num_cycles": 3}, None
    # transformers divides by total - warmup without max(1, ...) in polynomial: ZeroDivisionError at
    # step == total when warmup == total, so those pairs are left out (lora-sched refuses them).
    poly_ok = lambda t, w: w < t
    yield "polynomial", lambda t, w: {}, poly_ok
    yield "polynomial", lambda t, w: {"lr_end": 1e-5, "power": 2.0}, poly_ok
    yield "polynomial", lambda t, w: {"lr_end": 0.0, "power": 0.5}, poly_ok
    yield "inverse_sqrt", lambda t, w: {}, None
    yield "inverse_sqrt", lambda t, w: {"timescale": 25}, None
    yield "warmup_stable_decay", lambda t, w: {"num_decay_steps": wsd_decay(t, w, "third")}, None
    yield "warmup_stable_decay", lambda t, w: {
        "num_decay_steps": wsd_decay(t, w, "all"), "decay_type": "linear", "min_lr_ratio": 0.1}, None
    yield "warmup_stable_decay", lambda t, w: {
        "num_decay_steps": wsd_decay(t, w, "half"), "decay_type": "1-sqrt"}, None
    yield "warmup_stable_decay", lambda t, w: {
        "num_decay_steps": wsd_decay(t, w, "third"), "warmup_type": "cosine", "decay_type": "linear",
        "min_lr_ratio": 0.05}, None
    yield "warmup_stable_decay", lambda t, w: {
        "num_decay_steps": wsd_decay(t, w, "half"), "warmup_type": "1-sqrt", "decay_type": "cosine",
        "num_cycles": 0.25, "min_lr_ratio": 0.1}, None
    yield "cosine_with_min_lr", lambda t, w: {"min_lr_rate": 0.1}, None
    yield "cosine_with_min_lr", lambda t, w: {"min_lr_rate": 0.25, "num_cycles": 1.0}, None


def params_used(name, total, warmup, kwargs):
    """Every parameter the schedule's lambda uses, transformers' defaults filled in, for readers of the fixture."""
    fn = {
        "cosine": get_cosine_schedule_with_warmup,
        "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
        "polynomial": get_polynomial_decay_schedule_with_warmup,
        "inverse_sqrt": get_inverse_sqrt_schedule,
        "warmup_stable_decay": get_wsd_schedule,
        "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    }.get(name)
    if fn is None:  # constant, constant_with_warmup and linear take nothing but the step counts
        return {}
    params = {k: v for k, v in defaults(fn).items() if k != "last_epoch" and v is not None}
    params.update(kwargs)
    if name == "inverse_sqrt" and "timescale" not in kwargs:
        params["timescale"] = warmup or 10_000  # get_inverse_sqrt_schedule's default
    if name == "warmup_stable_decay":
        params["num_stable_steps"] = total - warmup - kwargs["num_decay_steps"]
    return params


def rates(name, total, warmup, kwargs):
    """The lr of updates 0 .. total+EXTRA_STEPS, from the scheduler Trainer would build."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=LR)
    # transformers 5 passes scheduler_specific_kwargs to every type but constant and constant_with_warmup
    # (4.x dropped them for inverse_sqrt, so its timescale could not be set this way).
    scheduler = get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=total,
                              scheduler_specific_kwargs=dict(kwargs))
    out = []
    for _ in range(total + EXTRA_STEPS + 1):
        lr = optimizer.param_groups[0]["lr"]
        out.append(float(lr.item() if isinstance(lr, torch.Tensor) else lr))
        optimizer.step()
        scheduler.step()
    return out


def warmup_steps(ratio, total):
    """TrainingArguments.get_warmup_steps for a ratio: a float warmup_steps below 1 in transformers 5."""
    args = transformers.TrainingArguments(output_dir=tempfile.mkdtemp(), warmup_steps=ratio, report_to="none")
    return int(args.get_warmup_steps(total))


def case(name, total, warmup, kwargs):
    return {"type": name, "lr": LR, "total": total, "warmup": warmup, "kwargs": kwargs,
            "params": params_used(name, total, warmup, kwargs), "rates": rates(name, total, warmup, kwargs)}


def main():
    if int(transformers.__version__.split(".")[0]) < 5:
        sys.exit(f"schedules.py: needs transformers 5 (it passes inverse_sqrt's timescale through get_scheduler and"
                 f" reads warmup ratios from a float warmup_steps); found {transformers.__version__}")
    out_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    cases = []
    for name, make_kwargs, keep in variants():
        first = not any(c["type"] == name for c in cases)
        for total, warmup in PAIRS:
            if keep is not None and not keep(total, warmup):
                continue
            if total == LONG_TOTAL and not first:
                continue
            kwargs = make_kwargs(total, warmup)
            cases.append(case(name, total, warmup, kwargs))
        # get_scheduler ignores warmup for constant, so it gets a short run of its own besides (100, 0).
        if name == "constant" and first:
            cases.append(case(name, 7, 0, {}))

    ratios = []
    for ratio, total in [(0.03, 1000), (0.07, 100), (0.1, 7), (0.5, 3), (0.0, 100), (0.999, 1000),
                         (0.3, 10), (0.01, 333)]:
        ratios.append({"ratio": ratio, "total": total, "warmup_steps": warmup_steps(ratio, total),
                       "math_ceil": math.ceil(total * ratio)})

    header = {"transformers": transformers.__version__, "torch": torch.__version__,
              "python": platform.python_version(), "generated_by": "tools/golden/schedules.py",
              "warmup_ratios": ratios}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        head = json.dumps(header)
        f.write(head[:-1] + ',\n "cases": [\n')
        f.write(",\n".join(json.dumps(case) for case in cases))
        f.write("\n]}\n")
    count = sum(len(c["rates"]) for c in cases)
    types = len({c["type"] for c in cases})
    print(f"schedules.py: wrote {len(cases)} cases ({count} rates, {types} types) from transformers "
          f"{transformers.__version__} / torch {torch.__version__} to {out_path}")


if __name__ == "__main__":
    main()
