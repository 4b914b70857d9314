#!/usr/bin/python3
"""The DCGAN that `vkgan train` trains, in PyTorch, for comparing quality and speed.

Same models (vkgan's DCGAN builders: src/gan/dcgan.c), same recipe: N(0, 0.02) weights, batch-norm
gamma N(1, 0.02), Adam (lr 2e-4, betas 0.5 / 0.999), D trained on an all-real and an all-fake batch,
then G through the updated D on the same fake batch with target 1, BCE with logits, inputs in
[-1, 1], shuffled epochs. Runs with Debian's python3-torch (apt-get install python3-torch);
the tests never need it.

    python3 tools/dcgan_reference.py --steps 1000 --batch 32 --g-width 16 --d-width 8 --out ref

The models come from tools/vkgan_torch_models.py: no bias terms unless --bias (vkgan train
--bias: G's output layer, D's first and last convs). --metrics FILE writes one JSON line per
--log-every steps with the interval's means, as vkgan's metrics.jsonl (loss_d, loss_g, d_x,
d_g_z from the D step, d_g_z_after from the G step).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vkgan_torch_models import build  # noqa: E402  (vkgan's models: one definition)

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx_images(path):
    """An IDX3 file (gzipped or not) as a uint8 array [count, 28, 28]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803:
            sys.exit(f"{path}: not an IDX image file (magic {magic:#x})")
        return np.frombuffer(f.read(), np.uint8).reshape(count, rows, cols)


def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:  # --bias: 0, as vkgan starts them
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def write_png(path, images, cols=8):
    """images: [n, 1, h, w] in [-1, 1] -> a grid PNG with 2-pixel borders, like vkgan's."""
    n, _, h, w = images.shape
    rows = (n + cols - 1) // cols
    cols = min(cols, n)
    grid = np.zeros((rows * (h + 2) + 2, cols * (w + 2) + 2), np.uint8)
    pix = np.clip(np.rint((images[:, 0] + 1) * 127.5), 0, 255).astype(np.uint8)
    for i in range(n):
        y, x = 2 + (i // cols) * (h + 2), 2 + (i % cols) * (w + 2)
        grid[y:y + h, x:x + w] = pix[i]
    raw = b"".join(b"\0" + grid[r].tobytes() for r in range(grid.shape[0]))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", grid.shape[1], grid.shape[0], 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path + ".tmp", "wb") as f:
        f.write(png)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--latent", type=int, default=100)
    p.add_argument("--g-width", type=int, default=64)
    p.add_argument("--d-width", type=int, default=0, help="0: as --g-width")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bias", action="store_true",
                   help="bias terms where no batch norm follows (as vkgan train --bias)")
    p.add_argument("--log-every", type=int, default=50, help="steps per metrics line")
    p.add_argument("--metrics", help="also write the metrics lines (JSON) to this file")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's)")
    p.add_argument("--sample-every", type=int, default=250)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default="runs/pytorch-reference")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    images = os.path.join(DATA, "train-images-idx3-ubyte.gz")
    if not os.path.exists(images):
        sys.exit(f"{images} is missing: apt-get install dataset-fashion-mnist")
    data = torch.from_numpy(load_idx_images(images).copy()).to(dev)
    data = data.float().div(127.5).sub(1).unsqueeze(1)  # [-1, 1], N x 1 x 28 x 28

    g, d = build({"image_size": 28, "channels": 1, "latent": a.latent, "g_width": a.g_width,
                  "d_width": a.d_width or a.g_width, "bias": int(a.bias)})
    g, d = g.to(dev), d.to(dev)
    g.apply(init_weights)
    d.apply(init_weights)
    opt_g = torch.optim.Adam(g.parameters(), lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=a.lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(a.batch, device=dev)
    zeros = torch.zeros(a.batch, device=dev)
    fixed = torch.randn(a.batch, a.latent, 1, 1, device=dev)
    os.makedirs(a.out, exist_ok=True)
    print(f"G {sum(x.numel() for x in g.parameters())} parameters, "
          f"D {sum(x.numel() for x in d.parameters())}, on {dev}")

    order, at, start = torch.randperm(len(data), device=dev), 0, time.time()
    sums, summed = [0.0] * 5, 0  # the log interval's means, as vkgan's metrics lines
    metrics = open(a.metrics, "w") if a.metrics else None
    for step in range(1, a.steps + 1):
        if at + a.batch > len(data):  # a new shuffled epoch
            order, at = torch.randperm(len(data), device=dev), 0
        real = data[order[at:at + a.batch]]
        at += a.batch
        # D: an all-real batch and an all-fake batch, gradients summed
        d.zero_grad()
        out_real = d(real).view(-1)
        err_real = bce(out_real, ones)
        err_real.backward()
        fake = g(torch.randn(a.batch, a.latent, 1, 1, device=dev))
        out_fake = d(fake.detach()).view(-1)
        err_fake = bce(out_fake, zeros)
        err_fake.backward()
        opt_d.step()
        # G: the same fake batch through the updated D, target 1 (non-saturating)
        g.zero_grad()
        out = d(fake).view(-1)
        err_g = bce(out, ones)
        err_g.backward()
        opt_g.step()
        now = [(err_real + err_fake).item(), err_g.item(), torch.sigmoid(out_real).mean().item(),
               torch.sigmoid(out_fake).mean().item(), torch.sigmoid(out).mean().item()]
        sums, summed = [x + y for x, y in zip(sums, now)], summed + 1
        if step % a.log_every == 0 or step == a.steps:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            rate = step * a.batch / (time.time() - start)
            m = [x / summed for x in sums]
            sums, summed = [0.0] * 5, 0
            print(f"step {step}/{a.steps}  {rate:.0f} img/s  loss D {m[0]:.3f} G {m[1]:.3f}  "
                  f"D(x) {m[2]:.3f}  D(G(z)) {m[3]:.3f}", flush=True)
            if metrics:
                row = {"step": step, "seconds": round(time.time() - start, 2)}
                row.update(zip(("loss_d", "loss_g", "d_x", "d_g_z", "d_g_z_after"), m))
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()
        if step % a.sample_every == 0 or step == a.steps:
            with torch.no_grad():  # batch statistics, as vkgan's sample grids
                grid = g(fixed)[:64].cpu().numpy()
            write_png(os.path.join(a.out, f"step-{step:09d}.png"), grid)
    print(f"done: {a.steps} steps in {time.time() - start:.1f} s; grids in {a.out}")


if __name__ == "__main__":
    main()
