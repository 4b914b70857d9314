#!/bin/sh
# One call that measures everything on a machine lent for a few minutes (a GPU machine without a
# package registry): it takes the build made elsewhere and carried in the working tree (build/),
# and writes every output under $OUT (default ./device-check-out):
#   selfcheck.txt      build/vkgan selfcheck
#   tests.txt          build/vkgan_tests conv dense gemm parity (validation on when the layer is
#                      installed)
#   bench-kernels.txt  build/vkgan bench-kernels (the 28, 32 and 64 DCGANs, batches 64 and 128)
#   bench-packed.txt   the same for the 28x28 model with the packed (CPU) GEMM path forced
#   vs-pytorch.txt     tools/bench_vs_pytorch.sh (PyTorch on the GPU where it sees one)
#   default-run.txt    vkgan train with the device's defaults (the README's first command's run;
#                      its run directory, checkpoints included, in default-run/)
#   mpi-1rank.txt      mpirun -np 1 vkgan train (the MPI build as one rank), when mpirun is there
#   mpi-2ranks-1gpu.txt  2 ranks sharing one GPU: the bytes and time of the sums across ranks
#   mpi-Nranks.txt     N ranks on N GPUs, only where the machine has N >= 2 (nvidia-smi -L)
#   tests-all.txt      the whole of build/vkgan_tests on this device
#   summary.txt        the exit status and wall time of each step
# A step that fails or times out does not stop the others. On lavapipe it works as a dry run:
#   VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json tools/device_check.sh --quick
# (--quick: the 28x28 model at batch 64 with one replay, 2 short PyTorch rounds, 20-step MPI runs,
# and neither the default run nor the whole suite).
set -u
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-device-check-out}
mkdir -p "$out"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
summary="$out/summary.txt"
: >"$summary"

step() { # step NAME SECONDS COMMAND...: runs COMMAND with a time limit into $out/NAME.txt
    name=$1 limit=$2
    shift 2
    start=$(date +%s)
    echo "== $name: $*" >&2
    timeout "$limit" "$@" >"$out/$name.txt" 2>&1
    rc=$?
    printf '%-16s rc %3d  %4d s  %s\n' "$name" "$rc" $(($(date +%s) - start)) "$*" | tee -a "$summary" >&2
}

for f in build/vkgan build/vkgan_tests; do
    [ -x "$f" ] || { echo "device_check.sh: $f missing: build first and carry build/" | tee -a "$summary" >&2; exit 1; }
done
{
    uname -a
    nproc
    command -v nvidia-smi >/dev/null && nvidia-smi
    build/vkgan devices
} >"$out/machine.txt" 2>&1

layer=0
for d in /usr/share/vulkan/explicit_layer.d /usr/local/share/vulkan/explicit_layer.d /etc/vulkan/explicit_layer.d; do
    [ -e "$d/VkLayer_khronos_validation.json" ] && layer=1
done

step selfcheck 120 build/vkgan selfcheck
step tests 300 env VKGAN_VALIDATION=$layer build/vkgan_tests conv dense gemm parity
if [ "$quick" = 1 ]; then
    step bench-kernels 300 build/vkgan bench-kernels --model 28 --batch 64 --repeat 1
    step bench-packed 300 env VKGAN_GEMM=packed build/vkgan bench-kernels --model 28 --batch 64 --repeat 1
else
    step bench-kernels 300 build/vkgan bench-kernels
    step bench-packed 200 env VKGAN_GEMM=packed build/vkgan bench-kernels --model 28
fi
# PyTorch on the GPU where it sees one (bench_vs_pytorch.sh finds the python that imports torch,
# and stops with a clear line where none does). A GPU step of this small model takes about a
# millisecond, so the rounds are long enough that start-up (cuDNN's, the pipelines') is a small part.
if [ "$quick" = 1 ]; then
    step vs-pytorch 300 tools/bench_vs_pytorch.sh --rounds 2 --steps 20 --torch-device auto
else
    step vs-pytorch 300 tools/bench_vs_pytorch.sh --rounds 3 --steps 4000 --threads "$(nproc)" \
        --torch-device auto
    # The README's first command's training run with this device's defaults: time and FCD.
    step default-run 300 build/vkgan train --out "$out/default-run"
fi
# Data-parallel training (README: 'Several GPUs or machines'). The MPI build needs libmpi where
# it runs (Debian's libopenmpi3): without mpirun these steps say so and are skipped.
if command -v mpirun >/dev/null; then
    mpi="mpirun --allow-run-as-root --oversubscribe"
    data=fashion-mnist
    [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || data=ring8
    train="build/vkgan train --data $data --classifier none --health-every 0 --log-every 50"
    steps=200
    [ "$quick" = 1 ] && steps=20
    step mpi-1rank 300 $mpi -np 1 $train --steps "$steps" --out "$out/mpi-1rank-run"
    step mpi-2ranks-1gpu 300 $mpi -np 2 $train --steps "$steps" --batch 128 \
        --out "$out/mpi-2ranks-1gpu-run"
    gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
    if [ "${gpus:-0}" -ge 2 ]; then
        step mpi-Nranks 300 $mpi -np "$gpus" $train --steps "$steps" --batch $((64 * gpus)) \
            --out "$out/mpi-Nranks-run"
    else
        echo "mpi-Nranks       skipped: ${gpus:-0} GPU(s) here (N ranks need N >= 2)" | tee -a "$summary" >&2
    fi
else
    echo "mpi              skipped: no mpirun here (carry openmpi-bin, or build with -DVKGAN_MPI=OFF)" | tee -a "$summary" >&2
fi
# Last, the whole suite on this device (the CLI tests start training runs, so it takes longest).
[ "$quick" = 1 ] || step tests-all 300 env VKGAN_VALIDATION=$layer build/vkgan_tests
echo "outputs in $out" >&2
