#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus, tests/fuzz/corpus/: one small valid input per reader and
variant, each file the reader's number (tests/fuzz/readers.h) as its first byte, then the file.
The checkpoints, metrics.jsonl and config.json come from two short real runs of build/vkgan on
lavapipe; the classifier file keeps the shipped classifier's metadata and real statistics without
its weights; the images are made by ImageMagick's convert. Usage: tests/fuzz/make_corpus.py"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
CHECKPOINT, CLASSIFIER, IDX, CIFAR, FOLDER, METRICS, CONFIG = range(7)
TARGETS = 7


def seed(name, target, data, variant=0):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([target + TARGETS * variant]) + data)


def train(tmp, name, *args):
    env = dict(os.environ, VK_DRIVER_FILES="/usr/share/vulkan/icd.d/lvp_icd.x86_64.json")
    out = os.path.join(tmp, name)
    subprocess.run([os.path.join(ROOT, "build", "vkgan"), "train", "--steps", "2", "--log-every",
                    "1", "--quiet", "--out", out, *args], check=True, env=env)
    return out


def safetensors(tensors, meta):
    """tensors: (name, shape, float list)"""
    header, data = {"__metadata__": meta}, b""
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def shipped_classifier():
    raw = open(os.path.join(ROOT, "assets", "fashion-mnist-classifier.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    keep = ("format", "input", "classes", "real.count", "real.accuracy", "real.entropy",
            "real.loss", "features")
    meta = {k: v for k, v in header["__metadata__"].items() if k in keep}
    tensors = []
    for name in ("real.mean", "real.cov"):
        b, e = header[name]["data_offsets"]
        values = struct.unpack("<%df" % ((e - b) // 4), raw[8 + n + b:8 + n + e])
        tensors.append((name, header[name]["shape"], values))
    return safetensors(tensors, meta)


def idx(count, rows, cols):
    images = struct.pack(">IIII", 0x803, count, rows, cols) + bytes(
        (i * 37) % 256 for i in range(count * rows * cols))
    labels = struct.pack(">II", 0x801, count) + bytes(i % 3 for i in range(count))
    return images, labels


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    tmp = tempfile.mkdtemp(prefix="vkgan-corpus-")
    try:
        images = os.path.join(tmp, "images")
        for cls, size, colour in (("cat", "8x8", "rgb(200,20,90)"), ("dog", "6x9", "rgb(10,90,200)")):
            os.makedirs(os.path.join(images, cls))
            for i in range(4):
                subprocess.run(["convert", "-size", size, "xc:" + colour,
                                os.path.join(images, cls, "%d.png" % i)], check=True)
        ring = train(tmp, "ring", "--data", "ring8", "--batch", "8", "--latent", "2",
                     "--mlp-hidden", "4", "--mlp-depth", "1")
        img = train(tmp, "img", "--data", "folder:" + images, "--image-size", "28", "--batch",
                    "4", "--latent", "4", "--g-width", "2", "--d-width", "2", "--conditional",
                    "--virtual-bn", "--ema", "0.9", "--health-every", "0")
        for name, run in (("checkpoint-ring8", ring), ("checkpoint-folder-conditional-vbn", img)):
            seed(name, CHECKPOINT,
                 open(os.path.join(run, "checkpoints", "step-000000002.safetensors"), "rb").read())
        seed("classifier-fashion-mnist-statistics", CLASSIFIER, shipped_classifier())

        im, lb = idx(5, 3, 4)
        seed("idx-raw", IDX, struct.pack("<H", len(im)) + im + lb)
        seed("idx-gz", IDX, struct.pack("<H", len(im)) + im + lb, variant=1)
        seed("cifar-two-records", CIFAR,
             b"".join(bytes([r * 7]) + bytes((i + r) % 256 for i in range(3072)) for r in range(2)))

        for name, fmt, size, variant in (("folder-png-rgb", "png", "7x5", 0),
                                         ("folder-png-grey-32", "png", "5x9", 3),
                                         ("folder-jpeg", "jpg", "9x6", 0),
                                         ("folder-bmp-grey", "bmp", "4x4", 1)):
            path = os.path.join(tmp, "x." + fmt)
            subprocess.run(["convert", "-size", size, "gradient:red-blue", path], check=True)
            seed(name, FOLDER, open(path, "rb").read(), variant)

        metrics = open(os.path.join(ring, "metrics.jsonl"), "rb").read()
        metrics += (b'{"step":2,"fcd":12.5,"class_entropy":2.1,"diversity":3.5,"quality_samples":64}\n'
                    b'{"step":2,"event":"d_collapse","since":1,"detail":"D(x) 0.99","policy":"warn"}\n'
                    b'{"step":2,"event":"rollback","to_step":0,"cause":"nan","lr_d":1e-4,"lr_g":1e-4}\n')
        seed("metrics-ring8-quality-events", METRICS, metrics)
        seed("config-folder-conditional", CONFIG, open(os.path.join(img, "config.json"), "rb").read())
    finally:
        shutil.rmtree(tmp)
    for f in sorted(os.listdir(OUT)):
        print("%6d %s" % (os.path.getsize(os.path.join(OUT, f)), f))


if __name__ == "__main__":
    sys.exit(main())
