#!/usr/bin/env bash
# Run every benchmark, pinned to two cores (CORES="2,3" by default) so that 1 and 2 threads mean
# what they say on a bigger machine. Output also goes to $OUT/ when OUT is set.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD
CORES=${CORES:-2,3}
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT"
python3 -c "import numpy, numba, sys; print('python', sys.version.split()[0], 'numpy', numpy.__version__, 'numba', numba.__version__)"
python3 -c "import torch; print('torch', torch.__version__)" 2>/dev/null || echo "torch not installed"
lscpu 2>/dev/null | grep -E "Model name" || true
for b in overhead mlp lenet5; do
  echo "== bench/$b.py (cores $CORES)"
  taskset -c "$CORES" python3 "bench/$b.py" 2>&1 | tee "$OUT/$b.txt"
done
