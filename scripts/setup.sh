#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project into it. Usage: scripts/setup.sh [EXTRA]
# torch is pinned to the CPU build on local disk: an unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
log=.venv/install.log
pip=(.venv/bin/python -m pip --disable-pip-version-check)

# llama-cpp-python (the `llm` extra, which `test` includes) builds from source, ~7 min. Built for
# the CPU it runs on, ggml's AMX matrix kernels crash on Intel Xeons with AMX (segfault in
# ggml_backend_amx_mul_mat), so it is built for x86-64-v3 (AVX2, FMA, F16C): the same wheel runs on
# every machine of the project. It is kept under ~/.cache/rag-news, keyed by version and flags,
# because pip's own wheel cache would hand back a native build whatever the flags.
llama_install() {
  local version=0.3.36
  local flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  local wheels
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/rag-news/llama-cpp-python-$version-$(echo "$flags" | sha256sum | cut -c1-12)"
  if ! compgen -G "$wheels/llama_cpp_python-$version-*.whl" >/dev/null; then
    echo "Building llama-cpp-python $version for x86-64-v3 (~7 min, once per machine) ..."
    CMAKE_ARGS="$flags" "${pip[@]}" wheel --no-deps --no-cache-dir -w "$wheels" "llama-cpp-python==$version"
  fi
  "${pip[@]}" install --no-deps --force-reinstall "$wheels"/llama_cpp_python-$version-*.whl
}

echo "Installing into .venv/ (log: $log) ..."
if ! { "${pip[@]}" install "torch==2.13.0" &&
       { [ "$extra" != test ] && [ "$extra" != llm ] || llama_install; } &&
       "${pip[@]}" install -e ".${extra:+[$extra]}"; } >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "install failed; full log in $log" >&2
  exit 1
fi
