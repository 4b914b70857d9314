#!/bin/sh
# vkgan against PyTorch (on the CPU by default) on the same DCGAN: 28x28 Fashion-MNIST,
# G width 16, D width 8, batch 32, no biases (tools/dcgan_reference.py builds vkgan's models),
# the same number of threads (LP_NUM_THREADS for lavapipe, torch.set_num_threads for PyTorch).
# Rounds alternate vkgan / PyTorch so a change in the machine's load hits both; each round
# prints both times per step and their ratio, and at the end the median ratio.
#
#   tools/bench_vs_pytorch.sh [--rounds 3] [--steps 60] [--threads 1] [--vkgan build/vkgan]
#                             [--device D] [--torch-device cpu|cuda|auto]
#
# --torch-device: cpu (the default), cuda, or auto (cuda when PyTorch sees a GPU, else cpu).
#
# Extra environment for vkgan (e.g. VKGAN_GEMM=tiled to time the tiled kernels) passes through.
# The python is the first of /usr/bin/python3 (Debian's python3-torch) and python3 on PATH (a
# virtual environment) that imports torch; with neither, python3-torch is installed with apt-get
# (never a dependency of vkgan or its tests), and without root or a package registry the script
# says so and stops.
set -eu

rounds=3 steps=60 threads=1 vkgan=build/vkgan device="" torch_device=cpu
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --vkgan) vkgan=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --torch-device) torch_device=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench_vs_pytorch.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
# The first python that imports torch: Debian's python3-torch lives in /usr/bin (a pyenv python
# may come first on PATH); a GPU machine's image may hold it in a virtual environment on PATH.
py=/usr/bin/python3
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import torch' 2>/dev/null; then py=$p && break; fi
done
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "bench_vs_pytorch.sh: PyTorch missing; installing python3-torch with apt-get" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi
    $sudo apt-get install -y python3-torch >&2 || {
        echo "bench_vs_pytorch.sh: cannot install python3-torch (no root or no package registry)" >&2
        exit 1
    }
fi
[ "$torch_device" = auto ] &&
    torch_device=$("$py" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
[ -x "$vkgan" ] || { echo "bench_vs_pytorch.sh: no vkgan binary at $vkgan (build first)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
model="--batch 32 --g-width 16 --d-width 8"
dev_arg=""
[ -n "$device" ] && dev_arg="--device $device"

# seconds per step from a "done: N steps in S s" line
per_step() { sed -n 's/^done: \([0-9]*\) steps in \([0-9.]*\) s.*/\2 \1/p' | awk '{ printf "%.6f", $1 / $2 }'; }

echo "model: DCGAN 28x28, G width 16, D width 8, batch 32; $steps steps a run; $threads thread(s) each"
echo "vkgan: $vkgan $(LP_NUM_THREADS=$threads "$vkgan" devices 2>/dev/null | grep -m1 -i "$device" || true)"
echo "pytorch: $("$py" -c 'import torch; print(torch.__version__)') on $torch_device"
echo "round  vkgan s/step  pytorch s/step  ratio"
ratios=""
r=1
while [ "$r" -le "$rounds" ]; do
    out="$work/vkgan$r"
    # shellcheck disable=SC2086
    v=$(LP_NUM_THREADS=$threads "$vkgan" train --data fashion-mnist --steps "$steps" $model $dev_arg \
        --classifier none --health-every 0 --sample-every "$steps" --log-every "$steps" \
        --out "$out" 2>"$work/vkgan$r.err" | per_step) || true
    [ -n "$v" ] || { echo "vkgan failed:" >&2; cat "$work/vkgan$r.err" >&2; exit 1; }
    # shellcheck disable=SC2086
    t=$(OMP_NUM_THREADS=$threads "$py" -c '
import runpy, sys, torch
torch.set_num_threads(int(sys.argv[1]))
path = sys.argv[2]
sys.argv = [path] + sys.argv[3:]
runpy.run_path(path, run_name="__main__")
' "$threads" "$here/dcgan_reference.py" --steps "$steps" $model --sample-every "$steps" \
        --device "$torch_device" --out "$work/torch$r" 2>"$work/torch$r.err" | per_step) || true
    [ -n "$t" ] || { echo "pytorch failed:" >&2; cat "$work/torch$r.err" >&2; exit 1; }
    ratio=$(awk -v a="$v" -v b="$t" 'BEGIN { printf "%.2f", a / b }')
    printf "%5d  %12s  %14s  %5sx\n" "$r" "$v" "$t" "$ratio"
    ratios="$ratios $ratio"
    r=$((r + 1))
done
echo "$ratios" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median ratio (vkgan / pytorch time per step): %.2fx over %d rounds\n", m, NR }'
