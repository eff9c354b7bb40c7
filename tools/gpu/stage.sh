#!/usr/bin/env bash
# Stages everything the GPU tests need into .gpu/ (git-ignored, < 64 MiB), for a GPU machine that
# may have no JDK and no network: a jlinked Java 25 runtime (xz), the runtime and test jars, the
# fatbin (inside lora-cuda's jar) and the JUnit console launcher. See docs/gpu-testing.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tools/java25.sh
out=.gpu
rm -rf "$out"
mkdir -p "$out/lib" "$out/test"

echo "stage: building jars and test jars" >&2
# Runtime and test dependencies of the modules, copied in the same reactor build (so sibling
# snapshots resolve from it), without DJL's CPU natives: the GPU machine never runs the DJL backend,
# and that jar alone is larger than the whole stage.
./mvnw -B -q -pl lora-cli -am -DskipTests package dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$root/$out/lib" \
  -DexcludeArtifactIds=pytorch-native-cpu -DexcludeGroupIds=io.github.lora4j >/dev/null
# DJL's tokenizers jar carries its native library for five platforms; the GPU machine is linux-x86_64.
tok=$(ls "$out"/lib/tokenizers-*.jar)
mkdir -p "$out/tok" && (cd "$out/tok" && "$JAVA_HOME/bin/jar" xf "$root/$tok" && find native/lib -mindepth 1 -maxdepth 1 -type d ! -name linux-x86_64 -exec rm -rf {} + \
  && rm -f "$root/$tok" && "$JAVA_HOME/bin/jar" cf "$root/$tok" .) && rm -rf "$out/tok"
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 -DoutputDirectory="$root/$out" >/dev/null
for m in lora-sched lora-tensor lora-cuda lora-optim lora-data lora-core lora-cli; do
  cp "$m/target/$m-0.1.0-SNAPSHOT.jar" "$out/lib/"
  if [ -d "$m/target/test-classes" ]; then
    (cd "$m/target/test-classes" && "$JAVA_HOME/bin/jar" cf "$root/$out/test/$m-tests.jar" .)
  fi
done
rm -f "$out"/lib/lora-tensor-0.1.0-SNAPSHOT-tests.jar

# The real Llama 3.1 tokenizer (tools/fetch-test-assets.sh), xz-packed, for GPU demos with the real vocabulary.
if [ -f .cache/test-assets/llama3_1/tokenizer.json ]; then
  tar -C .cache/test-assets -cJf "$out/llama3_1-tokenizer.tar.xz" llama3_1
fi

echo "stage: jlinking a Java runtime" >&2
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.naming,java.xml,java.sql,jdk.unsupported,jdk.management,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --output "$out/jre"
tar -C "$out" -cJf "$out/jre.tar.xz" jre
rm -rf "$out/jre"
du -sh "$out" >&2
size=$(du -sm "$out" | cut -f1)
if [ "$size" -ge 60 ]; then
  echo "stage: $out is $size MiB, too close to the 64 MiB a device call carries" >&2
  exit 1
fi
