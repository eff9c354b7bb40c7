#!/usr/bin/env python3
"""Golden greedy generations: transformers' generate() on the golden tiny Llama with its LoRA
adapter, for a left-padded batch of prompts of different lengths.

Usage:
    python3 tools/golden/generate_golden.py [GOLDEN_DIR] [OUT_FILE]
    (defaults: lora-core/src/test/resources/golden, GOLDEN_DIR/generation.json)

Runs on the CPU in float32 with eager attention; no network. lora4j's GenerationGoldenTest feeds
the same prompts to its Generator (KV cache, left padding) and expects the same tokens.
"""
import json
import os
import sys

import torch
import transformers
import peft
from peft import PeftModel
from transformers import AutoModelForCausalLM

golden = sys.argv[1] if len(sys.argv) > 1 else "lora-core/src/test/resources/golden"
out_file = sys.argv[2] if len(sys.argv) > 2 else os.path.join(golden, "generation.json")

NEW_TOKENS = 12
PAD = 0
g = torch.Generator().manual_seed(2026)
prompts = [torch.randint(3, 96, (n,), generator=g).tolist() for n in (7, 2, 11, 5)]

base = AutoModelForCausalLM.from_pretrained(os.path.join(golden, "llama_gqa/model"), dtype=torch.float32, attn_implementation="eager")
model = PeftModel.from_pretrained(base, os.path.join(golden, "llama_gqa/adapter"), is_trainable=False).eval()

width = max(len(p) for p in prompts)
ids = torch.tensor([[PAD] * (width - len(p)) + p for p in prompts])
mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
with torch.no_grad():
    batched = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, do_sample=False,
                             pad_token_id=PAD, eos_token_id=None, min_new_tokens=NEW_TOKENS)
    single = []
    for p in prompts:
        o = model.generate(input_ids=torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long), max_new_tokens=NEW_TOKENS,
                           do_sample=False, pad_token_id=PAD, eos_token_id=None, min_new_tokens=NEW_TOKENS)
        single.append(o[0, len(p):].tolist())

fixture = {
    "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    "model": "llama_gqa",
    "new_tokens": NEW_TOKENS,
    "prompts": prompts,
    "batched": [row[width:].tolist() for row in batched],
    "single": single,
}
with open(out_file, "w") as f:
    json.dump(fixture, f, indent=1)
print("wrote", out_file, "batched == single:", fixture["batched"] == fixture["single"])
