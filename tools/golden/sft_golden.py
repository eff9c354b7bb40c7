#!/usr/bin/env python3
"""Golden SFT preparation from TRL: labels, truncation, BFD packing and padding-free collation.

Usage: python3 tools/golden/sft_golden.py TOKENIZER_DIR [OUT_FILE]

TOKENIZER_DIR holds the Llama 3.1 tokenizer.json and tokenizer_config.json (tools/fetch-test-assets.sh
puts them in .cache/test-assets/llama3_1). OUT_FILE defaults to
lora-data/src/test/resources/golden/trl_sft.json. Runs TRL's own dataset preparation
(SFTTrainer._prepare_dataset, on a stand-in trainer: no model is needed), pack_dataset and
DataCollatorForLanguageModeling on fixed examples, offline, on the CPU. lora4j's SftGoldenTest
compares SftEncoder and SftDataset against the result.
"""
import json
import os
import re
import sys
import types

import datasets
import transformers
import trl
from datasets import Dataset
from transformers import PreTrainedTokenizerFast
from trl import SFTConfig
from trl.data_utils import pack_dataset
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling, SFTTrainer

PRICER_PROMPT = "How much does this cost to the nearest dollar?\n\n{}\n\nPrice is $"

PROMPT_COMPLETION = [
    {"prompt": PRICER_PROMPT.format("Stainless steel kettle, 1.7 L, auto shut-off"), "completion": "30.00"},
    {"prompt": "The capital of France is", "completion": " Paris."},
    # A token spans the boundary ("the" + "re" is " there"): TRL splits by the prompt's token count.
    {"prompt": "Say the", "completion": "re you go"},
    # Cut by max_length, completion partly kept.
    {"prompt": "List:", "completion": " one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two"},
    # Nothing of the completion survives max_length: TRL drops it.
    {"prompt": "A prompt that is far too long " * 6, "completion": " lost"},
    {"prompt": "", "completion": "Unconditional text."},
]

TEXTS = [
    {"text": "The quick brown fox jumps over the lazy dog."},
    {"text": "Already ends with EOS<|eot_id|>"},
    {"text": "A text long enough to be cut: " + "lorem ipsum dolor sit amet " * 8},
]

# A Llama-3-style template with transformers' {% generation %} blocks, so that TRL can compute
# assistant masks (the Llama 3.1 template has none).
GENERATION_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] | trim }}<|eot_id|>{% endgeneration %}"
    "{% else %}{{ message['content'] | trim }}<|eot_id|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}]},
    {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is 2 + 2?"},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "And 3 + 3?"},
            {"role": "assistant", "content": "6"},
        ]
    },
]


def prepare(tokenizer, rows, max_length, completion_only_loss=True, assistant_only_loss=False):
    """TRL's preparation of `rows`, each tagged with its index so that dropped rows can be told."""
    args = SFTConfig(
        output_dir="/tmp/sft_golden",
        use_cpu=True,
        bf16=False,
        max_length=max_length,
        completion_only_loss=completion_only_loss,
        assistant_only_loss=assistant_only_loss,
        report_to=[],
    )
    stand_in = types.SimpleNamespace(_tokenizer=tokenizer, completion_only_loss=completion_only_loss, chat_template=None)
    tagged = [dict(row, index=i) for i, row in enumerate(rows)]
    prepared = SFTTrainer._prepare_dataset(stand_in, Dataset.from_list(tagged), tokenizer, args, False, None, "golden")
    kept = {row["index"]: row for row in prepared}
    out = []
    for i, row in enumerate(rows):
        case = {"example": row}
        if i in kept:
            case["input_ids"] = list(kept[i]["input_ids"])
            case["labels"] = list(kept[i]["labels"])
        else:
            case["dropped"] = True
        out.append(case)
    return {"max_length": max_length, "completion_only_loss": completion_only_loss, "assistant_only_loss": assistant_only_loss, "cases": out}


def packing(tokenizer, seq_length):
    """BFD packing and padding-free collation of tokenized examples of assorted lengths."""
    examples = []
    for i in range(14):
        words = " ".join(f"w{j}" for j in range((i * 7) % 19 + 1))
        ids = tokenizer(f"Example {i}: {words}")["input_ids"]
        labels = [-100] * 3 + ids[3:]
        examples.append({"input_ids": ids, "labels": labels})
    packed = pack_dataset(Dataset.from_list(examples), seq_length, "bfd")
    collator = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, padding_free=True)
    rows = []
    for row in packed:
        batch = collator([{"input_ids": row["input_ids"], "labels": row["labels"], "seq_lengths": row["seq_lengths"]}])
        rows.append(
            {
                "input_ids": batch["input_ids"][0].tolist(),
                "labels": batch["labels"][0].tolist(),
                "position_ids": batch["position_ids"][0].tolist(),
                "seq_lengths": list(row["seq_lengths"]),
            }
        )
    return {"seq_length": seq_length, "examples": examples, "rows": rows}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "lora-data/src/test/resources/golden/trl_sft.json"
    tokenizer = PreTrainedTokenizerFast.from_pretrained(directory, local_files_only=True)

    fixture = {
        "generator": "tools/golden/sft_golden.py",
        "trl_version": trl.__version__,
        "transformers_version": transformers.__version__,
        "datasets_version": datasets.__version__,
        "prompt_completion": prepare(tokenizer, PROMPT_COMPLETION, 32),
        "prompt_completion_all_tokens": prepare(tokenizer, PROMPT_COMPLETION, 32, completion_only_loss=False),
        "text": prepare(tokenizer, TEXTS, 24),
    }
    chat_tokenizer = PreTrainedTokenizerFast.from_pretrained(directory, local_files_only=True)
    chat_tokenizer.chat_template = GENERATION_TEMPLATE
    fixture["generation_template"] = GENERATION_TEMPLATE
    fixture["conversational"] = prepare(chat_tokenizer, CONVERSATIONS, 64, assistant_only_loss=True)
    fixture["packing"] = packing(tokenizer, 40)

    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    text = json.dumps(fixture, ensure_ascii=False, indent=1)
    # Lists of numbers on one line each: readable, and a diff shows which case changed.
    text = re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {out} (trl {trl.__version__}, transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
