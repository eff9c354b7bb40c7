#!/usr/bin/env python3
"""Checks that a LoRA adapter written by lora4j loads in PEFT and gives the expected logits.

Usage:
    python3 tools/golden/check_adapter.py MODEL_DIR ADAPTER_DIR BATCH.safetensors EXPECTED.safetensors
        [--key logits] [--tol 1e-4] [--mask-only]

MODEL_DIR    a transformers model folder (config.json + model.safetensors), loaded in float32, eager attention
ADAPTER_DIR  a PEFT adapter folder (adapter_config.json + adapter_model.safetensors), e.g. written by lora4j
BATCH        safetensors with int tensors input_ids [B,T] and attention_mask [B,T]
EXPECTED     safetensors holding the expected logits [B,T,V] under --key (default "logits")

The adapter's weights are first checked against what PEFT loaded (every key of the file must land in a LoRA
parameter and every LoRA parameter must come from the file), then the model runs the batch and its logits are
compared with the expected ones: PASS when the largest absolute difference is at most --tol (over all positions,
or only where attention_mask is 1 with --mask-only). Exit code 0 on PASS, 1 on FAIL.

Written against torch 2.11, transformers 5.17, peft 0.21.
"""

import argparse
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
from peft import PeftModel


def load_fp32(model_dir):
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation="eager")
    model.config._attn_implementation = "eager"
    return model


def adapter_key(param_name, adapter_name):
    seg = f".{adapter_name}."
    return param_name.replace(seg, ".", 1) if seg in param_name else None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("adapter_dir")
    ap.add_argument("batch")
    ap.add_argument("expected")
    ap.add_argument("--key", default="logits", help="tensor name in EXPECTED (default: logits)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max abs error allowed (default: 1e-4)")
    ap.add_argument("--mask-only", action="store_true", help="compare only positions with attention_mask == 1")
    args = ap.parse_args(argv[1:])

    torch.set_num_threads(1)
    adapter_name = "default"
    ok = True

    with open(os.path.join(args.adapter_dir, "adapter_config.json")) as f:
        acfg = json.load(f)
    r, alpha, rs = acfg.get("r"), acfg.get("lora_alpha"), bool(acfg.get("use_rslora", False))
    print(f"adapter_config: peft_type={acfg.get('peft_type')} r={r} lora_alpha={alpha} use_rslora={rs} "
          f"target_modules={acfg.get('target_modules')} bias={acfg.get('bias')}")

    base = load_fp32(args.model_dir)
    model = PeftModel.from_pretrained(base, args.adapter_dir, adapter_name=adapter_name, is_trainable=False)
    model.eval()

    # ---- did every tensor of the file land in a LoRA parameter, and vice versa? -----------------
    file_weights = load_file(os.path.join(args.adapter_dir, "adapter_model.safetensors"))
    lora_params = {n: p for n, p in model.named_parameters() if "lora_" in n}
    by_key = {}
    for n in lora_params:
        k = adapter_key(n, adapter_name)
        if k is None:
            print(f"FAIL: LoRA parameter without adapter name segment: {n}")
            ok = False
        else:
            by_key[k] = n
    unexpected = sorted(set(file_weights) - set(by_key))
    missing = sorted(set(by_key) - set(file_weights))
    for k in unexpected:
        print(f"FAIL: key in adapter file matches no LoRA parameter (PEFT ignores it): {k}")
    for k in missing:
        print(f"FAIL: LoRA parameter not in adapter file (left at its init value): {k}")
    ok = ok and not unexpected and not missing
    worst_w = 0.0
    for k, n in by_key.items():
        if k not in file_weights:
            continue
        fw = file_weights[k]
        p = lora_params[n].detach()
        if tuple(fw.shape) != tuple(p.shape):
            print(f"FAIL: shape of {k}: file {tuple(fw.shape)} vs model {tuple(p.shape)}")
            ok = False
            continue
        worst_w = max(worst_w, float((fw.to(torch.float32) - p.to(torch.float32)).abs().max()))
    print(f"adapter tensors: {len(file_weights)} in file, {len(lora_params)} LoRA parameters in model, "
          f"max |file - loaded| = {worst_w:.3e}")
    if worst_w > 0:
        print("FAIL: loaded LoRA weights differ from the file")
        ok = False
    scalings = set()
    for m in model.modules():
        sc = getattr(m, "scaling", None)
        if isinstance(sc, dict) and adapter_name in sc:
            scalings.add(float(sc[adapter_name]))
    if r and alpha:
        want = alpha / (math.sqrt(r) if rs else r)
        print(f"LoRA scaling used by PEFT: {sorted(scalings)} (alpha/{'sqrt(r)' if rs else 'r'} = {want})")

    # ---- logits ---------------------------------------------------------------------------------
    batch = load_file(args.batch)
    ids = batch["input_ids"].to(torch.int64)
    mask = batch["attention_mask"].to(torch.int64)
    expected = load_file(args.expected)
    if args.key not in expected:
        print(f"FAIL: '{args.key}' not in {args.expected} (has: {sorted(expected)})")
        return 1
    want = expected[args.key].to(torch.float32)
    with torch.no_grad():
        got = model(input_ids=ids, attention_mask=mask, use_cache=False).logits.to(torch.float32)
    if tuple(got.shape) != tuple(want.shape):
        print(f"FAIL: logits shape {tuple(got.shape)} vs expected {tuple(want.shape)}")
        return 1
    diff = (got - want).abs()
    err_all = float(diff.max())
    err_valid = float(diff[mask.bool()].max())
    err = err_valid if args.mask_only else err_all
    print(f"max abs error: all positions {err_all:.3e}, attention_mask==1 positions {err_valid:.3e} "
          f"(tolerance {args.tol:g}, judged on {'masked' if args.mask_only else 'all'} positions)")
    if not math.isfinite(err) or err > args.tol:
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
