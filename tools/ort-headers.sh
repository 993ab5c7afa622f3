#!/usr/bin/env bash
# Fetches the ONNX Runtime C/C++ API headers into third_party/onnxruntime/include.
# Debian 12 has no libonnxruntime-dev; trixie's package carries the headers (API 21). We only unpack it
# (dpkg -x) through a private apt configuration: nothing from trixie is installed system-wide, and the
# runtime library itself comes from the onnxruntime-node npm package (opened with dlopen).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/onnxruntime"
if [ -f "$dest/include/onnxruntime_cxx_api.h" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/preferences.d"
cat > "$work/etc/sources.list" <<SRC
deb http://deb.debian.org/debian trixie main
SRC
touch "$work/status"
opts=(-o Dir::Etc::SourceList="$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::Etc::PreferencesParts="$work/etc/preferences.d"
      -o Dir::State::Lists="$work/lists" -o Dir::State::Status="$work/status"
      -o Dir::Cache="$work/cache" -o APT::Architecture=amd64 -o Debug::NoLocking=1 -qq)
apt-get "${opts[@]}" update
(cd "$work" && apt-get "${opts[@]}" download libonnxruntime-dev)
dpkg -x "$work"/libonnxruntime-dev_*.deb "$work/x"
mkdir -p "$dest/include"
cp "$work"/x/usr/include/onnxruntime/*.h "$dest/include/" 2>/dev/null || cp -r "$work"/x/usr/include/onnxruntime/* "$dest/include/"
cp "$work"/x/usr/share/doc/libonnxruntime-dev/copyright "$dest/COPYRIGHT" 2>/dev/null || true
echo "ONNX Runtime headers in $dest/include"
