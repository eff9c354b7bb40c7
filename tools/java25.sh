# Sourced by mvnw, .ci/run and ./lora4j: when JAVA_HOME does not name a JDK 25+, look for one
# (the default java, then /usr/lib/jvm) and export JAVA_HOME. Prints nothing when all is well.
lora4j_java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
lora4j_is_jdk25() { [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ "$(lora4j_java_major "$1/bin/java")" -ge 25 ] 2>/dev/null; }
if [ -z "${JAVA_HOME:-}" ] || ! lora4j_is_jdk25 "$JAVA_HOME"; then
  lora4j_found=
  if command -v javac >/dev/null 2>&1; then
    lora4j_default=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    lora4j_is_jdk25 "$lora4j_default" && lora4j_found=$lora4j_default
  fi
  if [ -z "$lora4j_found" ]; then
    # mvnw runs with noglob (set -f); the candidates below need globbing.
    case $- in *f*) set +f; lora4j_noglob=1 ;; *) lora4j_noglob= ;; esac
    for lora4j_candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*-25* /usr/lib/jvm/*25* /opt/java/*25* /usr/local/*jdk*25*; do
      if lora4j_is_jdk25 "$lora4j_candidate"; then lora4j_found=$lora4j_candidate; break; fi
    done
    if [ -n "$lora4j_noglob" ]; then set -f; fi
  fi
  if [ -n "$lora4j_found" ]; then
    export JAVA_HOME=$lora4j_found
  else
    echo "lora4j: JDK 25 or newer is required; none found in JAVA_HOME, PATH or /usr/lib/jvm. Install one (e.g. Temurin 25) and set JAVA_HOME." >&2
  fi
fi
