#!/usr/bin/env bash
# Run every benchmark (overhead, mlp, lenet5, gpt, rnn as LSTM and GRU; 1 and 2 threads) and print one table of ours vs PyTorch
# with the CPU model and SIMD level. Fails (non-zero exit, the failing output shown) when a benchmark fails.
#
#   bench/run_all.sh                    # the project's venv (or $PYTHON, or python3)
#   NEIGHBOUR=1 bench/run_all.sh        # with one busy process beside the benchmarks
#   ISA=avx2 bench/run_all.sh           # Numba, OpenBLAS and PyTorch limited to AVX2
#   MODELS=1 bench/run_all.sh           # also bench/models.py: word LM, DCGAN, CIFAR ResNet, MNIST CNN
#   CORES=0,1 OUT=/tmp/b bench/run_all.sh
#
# On a machine with more than two CPUs the runs are pinned to two of them (the last two this process may
# use on two different physical cores, or $CORES) so that 1 and 2 threads mean what they say; with two or fewer nothing is pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=$(command -v python3)
fi
"$PY" -c "import autograd_core" || { echo "run_all.sh: $PY cannot import autograd_core (set PYTHON=...)" >&2; exit 1; }
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
CORES=${CORES:-$("$PY" -c "import sys; sys.path.insert(0, 'bench'); import harness; print(harness.two_cores())")}
PIN=()
if [ -n "$CORES" ]; then
  if command -v taskset >/dev/null; then PIN=(taskset -c "$CORES"); else echo "(taskset not found: not pinned)"; fi
fi
EXTRA=()
[ "${NEIGHBOUR:-0}" = 1 ] && EXTRA+=(--neighbour)
[ -n "${ISA:-}" ] && EXTRA+=(--isa "$ISA")
"$PY" -c "import numpy, sys; print('python', sys.version.split()[0], 'numpy', numpy.__version__)"
"$PY" -c "import numba; print('numba', numba.__version__)" 2>/dev/null || echo "numba not installed"
"$PY" -c "import torch; print('torch', torch.__version__)" 2>/dev/null || echo "torch not installed"
echo "cores: ${CORES:-all} (${PIN[*]:-not pinned})"
run() {
  local name=$1; shift
  echo "== bench/$name.py $*"
  if ! "${PIN[@]}" "$PY" "bench/$name.py" "$@" --json "$OUT/$name.json" > "$OUT/$name.txt" 2>&1; then
    cat "$OUT/$name.txt"
    echo "run_all.sh: bench/$name.py failed" >&2
    exit 1
  fi
  cat "$OUT/$name.txt"
}
rm -f "$OUT"/*.json
if [ "${NEIGHBOUR:-0}" = 1 ] || [ -n "${ISA:-}" ]; then
  echo "(overhead.py runs on its own: no --neighbour/--isa there)"
fi
run overhead --threads 1
cp "$OUT/overhead.json" "$OUT/overhead1.json"
run overhead --threads 2
cp "$OUT/overhead.json" "$OUT/overhead2.json"
rm -f "$OUT/overhead.json"
run mlp "${EXTRA[@]}" ${MLP_ARGS:-}
run lenet5 "${EXTRA[@]}" ${LENET_ARGS:-}
run gpt "${EXTRA[@]}" ${GPT_ARGS:-}
run rnn "${EXTRA[@]}" ${RNN_ARGS:-}
cp "$OUT/rnn.json" "$OUT/lstm.json"
run rnn --kind gru "${EXTRA[@]}" ${RNN_ARGS:-}
mv "$OUT/rnn.json" "$OUT/gru.json"
if [ "${MODELS:-0}" = 1 ]; then
  for m in wordlm dcgan resnet mnist; do
    run models --model "$m" "${EXTRA[@]}"
    mv "$OUT/models.json" "$OUT/$m.json"
  done
fi
rm -f "$OUT/rnn.json"
echo
"$PY" bench/table.py "$OUT" | tee "$OUT/table.md"
