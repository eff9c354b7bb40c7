"""Times one LoRA training step of Hugging Face transformers + PEFT on a GPU, the reference lora4j
is measured against: a Llama-3.2-1B-shaped model with random bf16 weights, LoRA r=32, alpha=64,
dropout 0.1 on q/k/v/o, batch 16 x 182 tokens (the course's seed settings).

Prints forward+backward time alone and with a torch AdamW step, and peak allocated memory.
Usage: python3 tools/bench/hf_peft_step.py [--steps 20] [--attn sdpa|eager]
"""
import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=182)
    ap.add_argument("--attn", default="sdpa")
    args = ap.parse_args()

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, rms_norm_eps=1e-5,
        max_position_embeddings=131072, tie_word_embeddings=True,
        # transformers 5 keeps rope settings in rope_parameters (rope_theta and the llama3 scaling).
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    config._attn_implementation = args.attn
    with torch.device("cuda"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    lora = LoraConfig(r=32, lora_alpha=64, lora_dropout=0.1, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, config.vocab_size, (args.batch, args.seq), device="cuda")

    def step(with_optimizer):
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        if with_optimizer:
            opt.step()
        opt.zero_grad(set_to_none=True)

    results = {}
    for with_opt in (False, True):
        for _ in range(args.warmup):
            step(with_opt)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(with_opt)
        torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1000 / args.steps
        key = "step_with_adamw" if with_opt else "forward_backward"
        results[key] = {"ms": round(ms, 2), "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
    results.update({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "attn": args.attn,
                    "trainable_params": trainable, "batch": args.batch, "seq": args.seq})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
