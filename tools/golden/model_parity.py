#!/usr/bin/env python3
"""Golden-fixture generator: tiny Llama/Qwen2 models + LoRA adapters, with the
logits, loss and LoRA gradients that transformers + PEFT compute for them.

Usage:
    python3 tools/golden/model_parity.py [OUT_DIR]
    (default OUT_DIR: lora-core/src/test/resources/golden)

Written against torch 2.11, transformers 5.17, peft 0.21. Runs on the CPU in
float32; no network access is needed. The fixture layout is described in
tools/golden/README.md.
"""

import copy
import json
import math
import os
import shutil
import sys

import torch

import transformers
import peft
import safetensors
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
from peft import LoraConfig, get_peft_model

DEFAULT_OUT = "lora-core/src/test/resources/golden"

# Shapes shared by all cases.
VOCAB = 96
HIDDEN = 32
INTERMEDIATE = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2
HEAD_DIM = 8
MAX_POS = 64
INIT_RANGE = 0.1

# Batch: B rows of T tokens, right padded to the row lengths below.
BATCH = 3
SEQ = 11
ROW_LENGTHS = (11, 8, 5)
PAD_ID = 0
PROMPT_TOKENS = 3          # first tokens of every row get label -100
IGNORE_INDEX = -100
FIRST_REAL_ID = 3          # real tokens are drawn from [FIRST_REAL_ID, VOCAB)

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_B_STD = 0.05          # lora_B is overwritten with randn * LORA_B_STD
NORM_JITTER = 0.1          # RMSNorm weights become 1 + randn * NORM_JITTER
BIAS_STD = 0.1             # existing Linear biases (Qwen2 q/k/v) become randn * BIAS_STD
SIZE_BUDGET = 1_500_000    # bytes for all fixtures together; a warning is printed above it

CASES = [
    {
        "name": "llama_gqa",
        "arch": "llama",
        "seed": 1001,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "save_dtype": "float32",
        "lora": {"r": 4, "lora_alpha": 8, "use_rslora": False},
    },
    {
        "name": "llama_tied_bf16",
        "arch": "llama",
        "seed": 2002,
        "rope_theta": 500000.0,
        "rope_scaling": None,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": True,
        "save_dtype": "bfloat16",
        "lora": {"r": 4, "lora_alpha": 8, "use_rslora": False},
    },
    {
        "name": "qwen2_bias",
        "arch": "qwen2",
        "seed": 3003,
        "rope_theta": 1000000.0,
        "rope_scaling": None,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "save_dtype": "float32",
        "lora": {"r": 8, "lora_alpha": 16, "use_rslora": True},
    },
    {
        "name": "llama3_rope",
        "arch": "llama",
        "seed": 4004,
        "rope_theta": 500000.0,
        # With head_dim 8 and theta 5e5 the four RoPE wavelengths are about 6.3, 167, 4443 and 1.2e5.
        # original_max_position_embeddings = 256 (low/high freq factors 1 and 4 -> wavelength bounds 256
        # and 64) puts one frequency in each branch of the llama3 rule: kept, smoothed, divided by factor.
        # (With 16, as first planned, the bounds are 16 and 4: no frequency would be kept unchanged.)
        # max_position_embeddings is raised above it, as transformers expects (it only warns otherwise);
        # max_position_embeddings has no other effect on llama3 RoPE.
        "rope_scaling": {
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 256,
        },
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "save_dtype": "float32",
        "lora": {"r": 4, "lora_alpha": 8, "use_rslora": False},
    },
]


def log(*args):
    print(*args, flush=True)


# ----------------------------------------------------------------------------------------------
# Config and model construction
# ----------------------------------------------------------------------------------------------

def build_config(case):
    """Builds the case's config the transformers-5 way (rope_parameters); falls back to the
    legacy rope_theta / rope_scaling keywords if this transformers does not take rope_parameters."""
    arch = case["arch"]
    common = dict(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        intermediate_size=INTERMEDIATE,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        hidden_act="silu",
        max_position_embeddings=case.get("max_position_embeddings", MAX_POS),
        initializer_range=INIT_RANGE,
        rms_norm_eps=case["rms_norm_eps"],
        tie_word_embeddings=case["tie_word_embeddings"],
        attention_dropout=0.0,
        use_cache=False,
    )
    if arch == "llama":
        cls = LlamaConfig
        common.update(head_dim=HEAD_DIM, attention_bias=False, mlp_bias=False)
    elif arch == "qwen2":
        cls = Qwen2Config
        # Qwen2Config has no head_dim field; hidden_size / num_attention_heads = 8 = HEAD_DIM.
        common.update(use_sliding_window=False)
    else:
        raise ValueError(arch)

    rope_new = {"rope_type": "default", "rope_theta": case["rope_theta"]}
    if case["rope_scaling"] is not None:
        rope_new = dict(case["rope_scaling"])
        rope_new["rope_theta"] = case["rope_theta"]
    try:
        config = cls(rope_parameters=copy.deepcopy(rope_new), attn_implementation="eager", **common)
        style = "rope_parameters"
    except TypeError as e:
        log(f"  [{case['name']}] rope_parameters not accepted ({e}); using legacy rope_theta/rope_scaling")
        legacy = dict(common)
        legacy["rope_theta"] = case["rope_theta"]
        if case["rope_scaling"] is not None:
            legacy["rope_scaling"] = copy.deepcopy(case["rope_scaling"])
        config = cls(**legacy)
        style = "legacy"
    # Eager attention in every transformers version.
    config._attn_implementation = "eager"

    # Check that the rope settings arrived where the model reads them.
    rp = getattr(config, "rope_parameters", None)
    if rp:
        got_theta = rp.get("rope_theta")
        got_type = rp.get("rope_type", rp.get("type", "default"))
    else:
        got_theta = getattr(config, "rope_theta", None)
        rs = getattr(config, "rope_scaling", None) or {}
        got_type = rs.get("rope_type", rs.get("type", "default"))
    want_type = case["rope_scaling"]["rope_type"] if case["rope_scaling"] else "default"
    assert float(got_theta) == float(case["rope_theta"]), (got_theta, case["rope_theta"])
    assert got_type == want_type, (got_type, want_type)
    if arch == "qwen2":
        assert all(t == "full_attention" for t in getattr(config, "layer_types", ["full_attention"])), config.layer_types
    return config, style


def model_class(arch):
    return {"llama": LlamaForCausalLM, "qwen2": Qwen2ForCausalLM}[arch]


@torch.no_grad()
def perturb_defaults(model, gen):
    """transformers initialises RMSNorm weights to 1 and Linear biases to 0; make them non-trivial so
    that a reader ignoring them fails the comparison."""
    for name, module in model.named_modules():
        cls_name = type(module).__name__
        if "RMSNorm" in cls_name:
            w = module.weight
            w.copy_(1.0 + NORM_JITTER * torch.randn(w.shape, generator=gen, dtype=torch.float32))
        elif isinstance(module, torch.nn.Linear) and module.bias is not None:
            b = module.bias
            b.copy_(BIAS_STD * torch.randn(b.shape, generator=gen, dtype=torch.float32))


def load_fp32(model_dir):
    """Loads a saved model widened to float32 with eager attention (transformers 5 defaults to dtype='auto')."""
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation="eager")
    model.config._attn_implementation = "eager"
    for n, p in model.named_parameters():
        assert p.dtype == torch.float32, (n, p.dtype)
    return model


# ----------------------------------------------------------------------------------------------
# RoPE check
# ----------------------------------------------------------------------------------------------

def reference_inv_freq(case):
    """Independent computation of the RoPE inverse frequencies (default and llama3 rule), in float64."""
    d = HEAD_DIM
    theta = case["rope_theta"]
    base = [1.0 / (theta ** (i / d)) for i in range(0, d, 2)]
    rs = case["rope_scaling"]
    if rs is None:
        return base, base, ["default"] * len(base)
    factor = rs["factor"]
    lo, hi = rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wl, high_wl = old / lo, old / hi
    out, branch = [], []
    for f in base:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(f)
            branch.append("kept")
        elif wl > low_wl:
            out.append(f / factor)
            branch.append("divided")
        else:
            s = (old / wl - lo) / (hi - lo)
            out.append((1 - s) * f / factor + s * f)
            branch.append("smoothed")
    return base, out, branch


def model_inv_freq(model):
    """model: a LlamaForCausalLM / Qwen2ForCausalLM (not the PEFT wrapper)."""
    return model.model.rotary_emb.inv_freq.detach().to(torch.float64).cpu()


# ----------------------------------------------------------------------------------------------
# Batch
# ----------------------------------------------------------------------------------------------

def make_batch(gen):
    ids = torch.full((BATCH, SEQ), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((BATCH, SEQ), dtype=torch.int64)
    for b, n in enumerate(ROW_LENGTHS):
        ids[b, :n] = torch.randint(FIRST_REAL_ID, VOCAB, (n,), generator=gen, dtype=torch.int64)
        mask[b, :n] = 1
    labels = ids.clone()
    labels[mask == 0] = IGNORE_INDEX
    labels[:, :PROMPT_TOKENS] = IGNORE_INDEX
    return ids, mask, labels


# ----------------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------------

def adapter_key(param_name, adapter_name="default"):
    """PEFT parameter name -> key in adapter_model.safetensors (the adapter name segment is dropped)."""
    seg = f".{adapter_name}."
    assert param_name.count(seg) == 1, param_name
    return param_name.replace(seg, ".")


def normalize_adapter_config(path):
    """PEFT keeps target_modules as a set, so its order in adapter_config.json follows the string hash seed;
    sort it so that the fixture is byte-for-byte reproducible. Nothing else is changed."""
    with open(path) as f:
        cfg = json.load(f)
    if isinstance(cfg.get("target_modules"), list):
        cfg["target_modules"] = sorted(cfg["target_modules"])
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def run_case(case, out_dir):
    name = case["name"]
    seed = case["seed"]
    case_dir = os.path.join(out_dir, name)
    if os.path.isdir(case_dir):
        shutil.rmtree(case_dir)
    model_dir = os.path.join(case_dir, "model")
    adapter_dir = os.path.join(case_dir, "adapter")
    os.makedirs(case_dir)

    # ---- base model: build, perturb, (cast,) save --------------------------------------------
    config, style = build_config(case)
    torch.manual_seed(seed)
    model = model_class(case["arch"])(config)
    model.to(torch.float32)
    perturb_defaults(model, torch.Generator().manual_seed(seed + 1))
    if case["tie_word_embeddings"]:
        assert model.lm_head.weight is model.model.embed_tokens.weight, "lm_head is not tied"
    else:
        assert model.lm_head.weight is not model.model.embed_tokens.weight

    if case["save_dtype"] == "bfloat16":
        model.to(torch.bfloat16)
    elif case["save_dtype"] != "float32":
        raise ValueError(case["save_dtype"])
    model.save_pretrained(model_dir)
    del model

    with open(os.path.join(model_dir, "config.json")) as f:
        saved_config = json.load(f)
    log(f"---- {name}: model/config.json ({style} config) ----")
    log(json.dumps(saved_config, indent=2, sort_keys=True))
    saved_weights = load_file(os.path.join(model_dir, "model.safetensors"))
    want = torch.bfloat16 if case["save_dtype"] == "bfloat16" else torch.float32
    for k, v in saved_weights.items():
        assert v.dtype == want, (k, v.dtype)
    if case["tie_word_embeddings"]:
        assert "lm_head.weight" not in saved_weights, "tied lm_head was written to model.safetensors"
    else:
        assert "lm_head.weight" in saved_weights
    log(f"  model.safetensors: {len(saved_weights)} tensors, dtype {case['save_dtype']}")

    # ---- reload exactly what was written, widened to fp32 ----------------------------------------
    base = load_fp32(model_dir)
    if case["tie_word_embeddings"]:
        assert base.lm_head.weight.data_ptr() == base.model.embed_tokens.weight.data_ptr(), "reload untied lm_head"
    for k, v in saved_weights.items():
        assert torch.equal(base.state_dict()[k], v.to(torch.float32)), f"reloaded {k} differs from file"

    # RoPE frequencies: independent formula vs the model's buffer.
    ref_base, ref_scaled, branches = reference_inv_freq(case)
    got = model_inv_freq(base)
    log(f"  inv_freq unscaled: {[f'{x:.6e}' for x in ref_base]}")
    log(f"  inv_freq model   : {[f'{x:.6e}' for x in got.tolist()]}")
    log(f"  inv_freq branches: {branches}")
    assert torch.allclose(got, torch.tensor(ref_scaled, dtype=torch.float64), rtol=1e-5, atol=0), "inv_freq mismatch"
    if case["rope_scaling"] is not None:
        assert set(branches) == {"kept", "smoothed", "divided"}, branches
        assert not torch.allclose(got, torch.tensor(ref_base, dtype=torch.float64)), "llama3 scaling had no effect"

    # ---- LoRA ----------------------------------------------------------------------------------
    lcfg = case["lora"]
    lora_config = LoraConfig(
        r=lcfg["r"],
        lora_alpha=lcfg["lora_alpha"],
        lora_dropout=0.0,
        target_modules=list(TARGET_MODULES),
        bias="none",
        use_rslora=lcfg["use_rslora"],
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(seed + 2)                       # lora_A: PEFT's own init, seeded
    peft_model = get_peft_model(base, lora_config)
    # Keep the absolute path of this machine out of adapter_config.json.
    peft_model.peft_config["default"].base_model_name_or_path = "../model"

    gen_b = torch.Generator().manual_seed(seed + 3)
    lora_names = []
    with torch.no_grad():
        for n, p in peft_model.named_parameters():
            if "lora_" in n:
                lora_names.append(n)
                if ".lora_B." in n:
                    p.copy_(LORA_B_STD * torch.randn(p.shape, generator=gen_b, dtype=torch.float32))
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert sorted(trainable) == sorted(lora_names), "trainable parameters other than LoRA A/B"
    expected_lora = LAYERS * len(TARGET_MODULES) * 2
    assert len(lora_names) == expected_lora, (len(lora_names), expected_lora)

    # save_embedding_layers=False: no embedding is targeted, and "auto" would look base_model_name_or_path up
    # (on the Hub if it is no local folder).
    peft_model.save_pretrained(adapter_dir, save_embedding_layers=False)
    card = os.path.join(adapter_dir, "README.md")
    if os.path.exists(card):
        os.remove(card)                               # PEFT's model card; not needed by the tests
    normalize_adapter_config(os.path.join(adapter_dir, "adapter_config.json"))
    adapter_weights = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    params = dict(peft_model.named_parameters())
    key_of = {n: adapter_key(n) for n in lora_names}
    assert sorted(key_of.values()) == sorted(adapter_weights.keys()), (
        "adapter file keys differ from the renamed PEFT parameter names:\n"
        f"  file only : {sorted(set(adapter_weights) - set(key_of.values()))}\n"
        f"  model only: {sorted(set(key_of.values()) - set(adapter_weights))}")
    for n, k in key_of.items():
        assert torch.equal(adapter_weights[k], params[n].detach()), f"saved {k} differs"
        assert adapter_weights[k].dtype == torch.float32, (k, adapter_weights[k].dtype)
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        adapter_config = json.load(f)

    # ---- batch ---------------------------------------------------------------------------------
    ids, mask, labels = make_batch(torch.Generator().manual_seed(seed + 4))
    save_file(
        {
            "input_ids": ids.to(torch.int32).contiguous(),
            "attention_mask": mask.to(torch.int32).contiguous(),
            "labels": labels.to(torch.int32).contiguous(),
        },
        os.path.join(case_dir, "batch.safetensors"),
        metadata={"format": "pt"},
    )

    # ---- base logits (adapter disabled) --------------------------------------------------------
    peft_model.train()
    with torch.no_grad(), peft_model.disable_adapter():
        logits_base = peft_model(input_ids=ids, attention_mask=mask, use_cache=False).logits.detach().clone()

    # ---- adapted forward + backward ------------------------------------------------------------
    peft_model.train()
    peft_model.zero_grad(set_to_none=True)
    out = peft_model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False)
    logits = out.logits.detach().clone()
    loss = out.loss
    loss.backward()

    # Independent loss: logits[:, :-1] against labels[:, 1:], mean over labels != -100.
    flat_logits = logits[:, :-1, :].reshape(-1, VOCAB).to(torch.float64)
    flat_labels = labels[:, 1:].reshape(-1)
    loss_sum = torch.nn.functional.cross_entropy(
        flat_logits, flat_labels, ignore_index=IGNORE_INDEX, reduction="sum")
    token_count = int((flat_labels != IGNORE_INDEX).sum())
    assert token_count == sum(max(0, n - PROMPT_TOKENS) for n in ROW_LENGTHS), token_count
    manual_loss = loss_sum / token_count
    assert abs(manual_loss.item() - loss.item()) < 1e-5, (manual_loss.item(), loss.item())

    grads = {}
    for n in lora_names:
        g = params[n].grad
        assert g is not None, f"no gradient for {n}"
        grads["grad." + key_of[n]] = g.detach().to(torch.float32).clone().contiguous()
    assert all(float(g.abs().max()) > 0 for g in grads.values()), "a LoRA gradient is all zero"

    assert not torch.allclose(logits, logits_base), "adapter had no effect on the logits"

    # ---- merged model (last: merging changes weights) ------------------------------------------
    merged = copy.deepcopy(peft_model).merge_and_unload()
    merged.eval()
    with torch.no_grad():
        merged_logits = merged(input_ids=ids, attention_mask=mask, use_cache=False).logits.detach().clone()
    merge_err = float((merged_logits - logits).abs().max())
    assert merge_err < 1e-4, f"merged logits differ from adapter logits by {merge_err}"
    del merged

    expected = {
        "logits": logits.to(torch.float32).contiguous(),
        "logits_base": logits_base.to(torch.float32).contiguous(),
        "merged_logits": merged_logits.to(torch.float32).contiguous(),
        "loss": loss.detach().to(torch.float32).reshape(1).contiguous(),
        "loss_sum": loss_sum.to(torch.float32).reshape(1).contiguous(),
        "token_count": torch.tensor([float(token_count)], dtype=torch.float32),
        "rope_inv_freq": got.to(torch.float32).contiguous(),
    }
    expected.update(grads)
    for k, v in expected.items():
        assert v.dtype == torch.float32, k
        assert torch.isfinite(v).all(), f"non-finite values in {k}"
    save_file(expected, os.path.join(case_dir, "expected.safetensors"), metadata={"format": "pt"})

    sizes = {
        "model": dir_size(model_dir),
        "adapter": dir_size(adapter_dir),
        "batch": os.path.getsize(os.path.join(case_dir, "batch.safetensors")),
        "expected": os.path.getsize(os.path.join(case_dir, "expected.safetensors")),
    }
    sizes["total"] = sum(sizes.values())
    scaling = lcfg["lora_alpha"] / (math.sqrt(lcfg["r"]) if lcfg["use_rslora"] else lcfg["r"])
    summary = {
        "name": name,
        "arch": case["arch"],
        "model_class": type(peft_model.get_base_model()).__name__,
        "seed": seed,
        "config_style": style,
        "rope_theta": case["rope_theta"],
        "rope_scaling": case["rope_scaling"],
        "rms_norm_eps": case["rms_norm_eps"],
        "tie_word_embeddings": case["tie_word_embeddings"],
        "weights_dtype": case["save_dtype"],
        "max_position_embeddings": case.get("max_position_embeddings", MAX_POS),
        "lora": {"r": lcfg["r"], "lora_alpha": lcfg["lora_alpha"], "use_rslora": lcfg["use_rslora"],
                 "scaling": scaling, "target_modules": TARGET_MODULES},
        "rope_inv_freq": got.tolist(),
        "rope_branches": branches,
        "loss": loss.item(),
        "loss_sum": float(loss_sum),
        "token_count": token_count,
        "logits_max_abs": float(logits.abs().max()),
        "logits_base_max_abs": float(logits_base.abs().max()),
        "adapter_vs_base_max_abs_diff": float((logits - logits_base).abs().max()),
        "merged_vs_adapter_max_abs_diff": merge_err,
        "grad_count": len(grads),
        "grad_max_abs": max(float(g.abs().max()) for g in grads.values()),
        "model_files": sorted(os.listdir(model_dir)),
        "adapter_files": sorted(os.listdir(adapter_dir)),
        "adapter_config": {k: adapter_config.get(k) for k in
                                        ("r", "lora_alpha", "use_rslora", "lora_dropout", "bias", "task_type")},
        "bytes": sizes,
    }
    log(f"  adapter_config.json: {json.dumps(summary['adapter_config'])}")
    log(f"SUMMARY {name}: loss={loss.item():.6f} loss_sum={float(loss_sum):.6f} tokens={token_count} "
        f"grads={len(grads)} |logits|max={summary['logits_max_abs']:.4f} "
        f"adapter-base={summary['adapter_vs_base_max_abs_diff']:.4f} merge_err={merge_err:.2e} "
        f"bytes={sizes}")
    return summary


def main(argv):
    if len(argv) > 2:
        print(__doc__)
        return 2
    out_dir = argv[1] if len(argv) == 2 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
        f"safetensors {safetensors.__version__}, python {sys.version.split()[0]}")

    summaries = [run_case(case, out_dir) for case in CASES]

    manifest = {
        "generator": "tools/golden/model_parity.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "safetensors": safetensors.__version__,
            "python": sys.version.split()[0],
        },
        "shapes": {
            "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE,
            "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
            "head_dim": HEAD_DIM, "batch": BATCH, "seq_len": SEQ, "row_lengths": list(ROW_LENGTHS),
        },
        "batch": {"pad_id": PAD_ID, "padding_side": "right", "prompt_tokens_ignored": PROMPT_TOKENS,
                  "ignore_index": IGNORE_INDEX},
        "init": {"initializer_range": INIT_RANGE, "rmsnorm_weight": f"1 + {NORM_JITTER} * randn",
                 "linear_bias": f"{BIAS_STD} * randn", "lora_A": "PEFT default (kaiming uniform)",
                 "lora_B": f"{LORA_B_STD} * randn"},
        "cases": summaries,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")

    total = dir_size(out_dir)
    log(f"fixtures in {out_dir}: {total} bytes in all"
        + ("" if total <= SIZE_BUDGET else f"  WARNING: over the {SIZE_BUDGET}-byte budget"))
    for root, _, files in sorted(os.walk(out_dir)):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            log(f"  {os.path.getsize(p):>9}  {os.path.relpath(p, out_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
