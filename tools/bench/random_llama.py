#!/usr/bin/env python3
"""Writes a Hugging Face Llama directory with transformers' random initialisation (bf16) for a
config JSON, plus a tokenizer's files: a base model of a real shape for GPU demos and benchmarks
without downloading weights.

Usage: python3 tools/bench/random_llama.py CONFIG_JSON TOKENIZER_DIR OUT_DIR [SEED]
e.g.   python3 tools/bench/random_llama.py lora-core/src/main/resources/io/github/lora4j/core/model/configs/llama-3.2-1b.json \\
           /tmp/llama3_1 /tmp/llama-3.2-1b-random
"""
import json
import shutil
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

config_file, tokenizer_dir, out_dir = sys.argv[1:4]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
t0 = time.time()
torch.manual_seed(seed)
config = LlamaConfig(**json.load(open(config_file)))
device = "cuda" if torch.cuda.is_available() else "cpu"
with torch.device(device):
    model = LlamaForCausalLM(config).to(torch.bfloat16)
model.save_pretrained(out_dir, safe_serialization=True)
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(f"{tokenizer_dir}/{f}", f"{out_dir}/{f}")
params = sum(p.numel() for p in model.parameters())
print(f"random_llama: {params:,} parameters (init std {config.initializer_range}) in {out_dir}, {time.time() - t0:.1f} s")
