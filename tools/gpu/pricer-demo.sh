#!/usr/bin/env bash
# The main job on a GPU machine: `lora4j train` with the pricer demo's synthetic data on a
# Llama-3.2-1B-shaped base with random weights (transformers' initialisation, bf16) and the real
# Llama 3.1 tokenizer; with --model the preset runs the course's settings (r=32 on q/k/v/o, lr 1e-4,
# paged AdamW, max length 182, batch 16). Needs the staged .gpu/
# (tools/gpu/stage.sh, with the tokenizer) and python3 with torch and transformers.
#   tools/gpu/pricer-demo.sh OUT_DIR [extra lora4j train flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${1:?usage: pricer-demo.sh OUT_DIR [flags]}
shift
work=${LORA4J_DEMO_WORK:-/tmp/lora4j-pricer-demo}
jre=${LORA4J_JRE_DIR:-/tmp/lora4j-jre}
mkdir -p "$out" "$work"
[ -x "$jre/jre/bin/java" ] || { mkdir -p "$jre" && tar -C "$jre" -xJf .gpu/jre.tar.xz; }
[ -f "$work/llama3_1/tokenizer.json" ] || tar -C "$work" -xJf .gpu/llama3_1-tokenizer.tar.xz
[ -f "$work/model/model.safetensors" ] || python3 tools/bench/random_llama.py \
  lora-core/src/main/resources/io/github/lora4j/core/model/configs/llama-3.2-1b.json "$work/llama3_1" "$work/model" | tee "$out/model.txt"
rm -rf "$work/runs"
"$jre/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx24g -cp ".gpu/lib/*" io.github.lora4j.cli.Lora4jCommand train \
  --preset pricer-demo --model "$work/model" --device cuda --output-dir "$work/runs" \
  --run-name gpu-demo "$@" 2>&1 | tee "$out/train.log"
run=$work/runs/gpu-demo
cp "$run/report.html" "$run/metrics.jsonl" "$out/"
cp "$run"/checkpoint-*/trainer_state.json "$out/" 2>/dev/null || true
[ -f "$run/price-predictions.csv" ] && cp "$run/price-predictions.csv" "$out/"
ls -la "$run" "$run"/checkpoint-* > "$out/run-files.txt"
