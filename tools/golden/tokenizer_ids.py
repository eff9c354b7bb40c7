#!/usr/bin/env python3
"""Golden token ids and chat-template renderings from Hugging Face `tokenizers` and `transformers`.

Usage: python3 tools/golden/tokenizer_ids.py TOKENIZER_DIR [OUT_FILE]

TOKENIZER_DIR holds tokenizer.json and tokenizer_config.json (the Llama 3.1 tokenizer that
tools/fetch-test-assets.sh puts in .cache/test-assets/llama3_1). OUT_FILE defaults to
lora-data/src/test/resources/golden/llama31_tokenizer.json. No network is needed: everything is
read from TOKENIZER_DIR.

The fixture records, for each fixed string, the ids with and without special tokens and the
character offsets (code points, as `tokenizers` reports them); and, for each fixed conversation,
transformers' apply_chat_template text and ids. lora4j's TokenizerGoldenTest compares against it.
"""
import json
import os
import sys

import tokenizers
import transformers
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

TEXTS = [
    "Hello",
    "Hello, world!",
    " leading space",
    "two  spaces and a\ttab",
    "line one\nline two\n\nline four",
    "I'm sure they'll say it's done, don't you think?",
    "12345 678 9 3.14159 $1,299.99",
    "How much does this cost to the nearest dollar?\n\nStainless steel kettle, 1.7 L\n\nPrice is $",
    "café naïve résumé",
    "中文文本和日本語のテキスト",
    "emoji 😀 and 👍🏽 in text",
    "<|begin_of_text|>literal special tokens<|eot_id|>",
    "   ",
    "",
    "CamelCaseWords and snake_case_words and URLs like https://example.com/a?b=c",
]

CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}],
    [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "  What is 2 + 2?  "},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3 + 3?"},
        {"role": "assistant", "content": "6\n"},
    ],
]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "lora-data/src/test/resources/golden/llama31_tokenizer.json"
    raw = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    fast = PreTrainedTokenizerFast.from_pretrained(directory, local_files_only=True)

    texts = []
    for text in TEXTS:
        with_special = raw.encode(text, add_special_tokens=True)
        without = raw.encode(text, add_special_tokens=False)
        # transformers must agree with the bare tokenizer, or the fixture pins the wrong thing.
        assert fast(text)["input_ids"] == with_special.ids, text
        texts.append(
            {
                "text": text,
                "ids": with_special.ids,
                "ids_without_special_tokens": without.ids,
                "offsets_without_special_tokens": [list(o) for o in without.offsets],
                "decoded": raw.decode(with_special.ids, skip_special_tokens=False),
            }
        )

    conversations = []
    for messages in CONVERSATIONS:
        for add_generation_prompt in (False, True):
            rendered = fast.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
            ids = fast.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt)
            if not isinstance(ids, list):  # a BatchEncoding, when return_dict is the default
                ids = ids["input_ids"]
            if ids and isinstance(ids[0], list):
                ids = ids[0]
            conversations.append(
                {"messages": messages, "add_generation_prompt": add_generation_prompt, "rendered": rendered, "ids": list(ids)}
            )

    fixture = {
        "generator": "tools/golden/tokenizer_ids.py",
        "tokenizers_version": tokenizers.__version__,
        "transformers_version": transformers.__version__,
        "bos_token_id": fast.bos_token_id,
        "eos_token_id": fast.eos_token_id,
        "vocab_size": len(fast),
        "texts": texts,
        "conversations": conversations,
    }
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    # One case per line, so that a diff of a re-recorded fixture shows which case changed.
    parts = []
    for key, value in fixture.items():
        if isinstance(value, list):
            body = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f' "{key}": [\n  {body}\n ]')
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    with open(out, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")
    print(f"wrote {out}: {len(texts)} texts, {len(conversations)} conversations "
          f"(tokenizers {tokenizers.__version__}, transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
