#!/usr/bin/env bash
# Installs the Debian packages vkgan needs (only those missing) and builds it in build/.
# Idempotent. Usage: tools/setup.sh [--sanitize]   (--sanitize builds build-asan/ with ASan+UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make gcc pkg-config libc6-dev
          libvulkan-dev libvulkan-volk-dev glslang-tools mesa-vulkan-drivers
          vulkan-validationlayers libglfw3-dev libstb-dev zlib1g-dev libcjson-dev
          dataset-fashion-mnist
          console-setup-linux          # the window's 8x16 font, embedded at build time
          xvfb xauth xdotool imagemagick  # the window's tests: a virtual X server, keys, screenshots
          openmpi-bin libopenmpi-dev)     # data-parallel training: mpirun -np N build/vkgan train

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DVKGAN_SANITIZE=ON)
fi
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" -- --no-print-directory >/dev/null
echo "setup: built $build_dir/vkgan"
