#!/usr/bin/env bash
# Runs every JUnit test tagged "gpu" from the staged .gpu/ folder (see stage.sh), on a GPU machine
# without a JDK or network. Extra arguments go to the JUnit console launcher (e.g. --select-class=...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
stage=.gpu
[ -f "$stage/jre.tar.xz" ] || { echo "run-tests: $stage/jre.tar.xz missing; run tools/gpu/stage.sh on a build machine first" >&2; exit 2; }
jre=${LORA4J_JRE_DIR:-/tmp/lora4j-jre}
if [ ! -x "$jre/jre/bin/java" ]; then
  mkdir -p "$jre"
  tar -C "$jre" -xJf "$stage/jre.tar.xz"
fi
cp=$(ls "$stage"/lib/*.jar "$stage"/test/*.jar | tr '\n' ':')
scan=$(ls "$stage"/test/*.jar | tr '\n' ':')
filter=(--include-tag=gpu)
[ $# -gt 0 ] && filter+=("$@")
exec "$jre/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx16g \
  -jar "$stage"/junit-platform-console-standalone-*.jar execute \
  --class-path "$cp" --scan-class-path "$scan" "${filter[@]}" --details=tree --disable-banner \
  --config=jqwik.database=/tmp/lora4j-jqwik-database
