#!/usr/bin/python3
"""A vkgan checkpoint as PyTorch modules: G and D state_dicts (strict), Adam state, fixed_z.

    tools/vkgan_to_torch.py RUN/checkpoints/step-000001200.safetensors model.pt
    tools/vkgan_to_torch.py CKPT model.pt --check            # and compare with vkgan's own G

The models are those of tools/vkgan_torch_models.py (nn.Sequential with vkgan's layer indices),
built from the checkpoint's vkgan.options and vkgan.data_shape, and loaded with
load_state_dict(strict=True) (batch norm's num_batches_tracked, which vkgan does not keep, is
set to the Adam step). OUT.pt (torch.save) holds a dict:
  "format": "vkgan-torch-1", "config": the model config (build(config) makes the modules),
  "options": the run's vkgan train options, "step", "G", "D" (state_dicts), "G_ema" (when the
  run kept an EMA of G: what vkgan samples with), "optimizer_G" / "optimizer_D"
  (torch.optim.Adam state_dicts for G's / D's parameters in order), "fixed_z" [batch, latent].
Load it with:
  ck = torch.load("model.pt"); g, d = vkgan_torch_models.build(ck["config"])
  g.load_state_dict(ck["G_ema"] if "G_ema" in ck else ck["G"])

--check runs `vkgan sample --raw` on the checkpoint and generates the same z with PyTorch's G
(batch statistics in batches of the training batch size, as vkgan samples), requiring every
value within --tolerance (1e-4) of vkgan's.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vkgan_torch_models import (build, config_from_options, from_vkgan_layout,  # noqa: E402
                                g_input, read_safetensors, script_parser)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def fail(msg):
    sys.exit(f"vkgan_to_torch: error: {msg}")


def state_dict(model, prefix, tensors, path, suffix="", step=0):
    """model's state_dict filled from the checkpoint's "<prefix>.<name><suffix>" tensors."""
    sd = {}
    for name, ref in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            sd[name] = torch.tensor(step, dtype=torch.long)
            continue
        key = f"{prefix}.{name}"
        src = tensors.get(key + suffix if not name.endswith(("running_mean", "running_var"))
                          else key)
        if src is None:
            fail(f"{path}: tensor {key + suffix} is missing")
        t = from_vkgan_layout(model, name, src)
        if tuple(t.shape) != tuple(ref.shape):
            fail(f"{path}: {key} is {list(t.shape)}, the model wants {list(ref.shape)}")
        sd[name] = t
    return sd


def adam_state(model, prefix, tensors, hyper):
    """torch.optim.Adam's state_dict for model's parameters from vkgan's moments and its
    "lr beta1 beta2 eps weight_decay decoupled step" metadata."""
    lr, b1, b2, eps, wd, decoupled, step = hyper.split()
    cls = torch.optim.AdamW if int(decoupled) else torch.optim.Adam
    opt = cls(model.parameters(), lr=float(lr), betas=(float(b1), float(b2)), eps=float(eps),
              weight_decay=float(wd))
    for name, p in model.named_parameters():
        key = f"{prefix}.{name}"
        opt.state[p] = {"step": torch.tensor(float(step)),
                        "exp_avg": from_vkgan_layout(model, name, tensors[key + ".exp_avg"]),
                        "exp_avg_sq": from_vkgan_layout(model, name, tensors[key + ".exp_avg_sq"])}
    return opt.state_dict(), int(step)


def convert(path):
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "vkgan-gan-1" or "vkgan.options" not in meta:
        fail(f"{path}: not a checkpoint of vkgan train (metadata format "
             f"{meta.get('format', 'missing')}, vkgan.options {'vkgan.options' in meta})")
    options = json.loads(meta["vkgan.options"])
    shape = [int(v) for v in meta["vkgan.data_shape"].split()]
    try:
        cfg = config_from_options(options, shape)
    except ValueError as e:
        fail(f"{path}: {e}")
    g, d = build(cfg)
    opt_g, g_step = adam_state(g, "G", tensors, meta["G.adam"])
    opt_d, d_step = adam_state(d, "D", tensors, meta["D.adam"])
    out = {"format": "vkgan-torch-1", "config": cfg, "options": options,
           "step": int(meta["step"]),
           "G": state_dict(g, "G", tensors, path, step=g_step),
           "D": state_dict(d, "D", tensors, path, step=d_step),
           "optimizer_G": opt_g, "optimizer_D": opt_d,
           "fixed_z": torch.from_numpy(tensors["fixed_z"])}
    g.load_state_dict(out["G"], strict=True)
    d.load_state_dict(out["D"], strict=True)
    if any(k.endswith(".ema") for k in tensors):
        out["G_ema"] = state_dict(g, "G", tensors, path, suffix=".ema", step=g_step)
        g.load_state_dict(out["G_ema"], strict=True)
    return out, g


def check(ckpt, out, g, args):
    """vkgan's own samples (vkgan sample --raw) against PyTorch's G on the same z."""
    cfg = out["config"]
    batch = int(out["options"]["batch"])
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.safetensors")
        cmd = [args.vkgan, "sample", "--checkpoint", ckpt, "--n", str(args.n), "--raw", raw,
               "--out", os.path.join(tmp, "samples.png"), "--seed", str(args.seed)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            fail(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")
        got, _ = read_safetensors(raw)
    z = torch.from_numpy(got["z"]).double()
    labels = torch.from_numpy(got["labels"]) if "labels" in got else None
    g = g.double().train()  # batch statistics, as vkgan samples (running ones unused)
    worst = 0.0
    with torch.no_grad():
        for i in range(0, z.shape[0], batch):
            rows = slice(i, i + batch)
            y = g(g_input(cfg, z[rows], labels[rows] if labels is not None else None))
            want = got["images"][rows].reshape(y.shape)
            worst = max(worst, float(np.abs(y.numpy() - want).max()))
    ok = worst <= args.tolerance
    print(f"check: {z.shape[0]} samples ({z.shape[0] // batch} batches of {batch}) from "
          f"vkgan sample --raw vs PyTorch's G on the same z: largest difference {worst:.3g} "
          f"({'within' if ok else 'over'} {args.tolerance:g})")
    return ok


def main():
    p = script_parser(__doc__)
    p.add_argument("checkpoint", help="a .safetensors file from RUN/checkpoints/")
    p.add_argument("out", help="the .pt file to write (torch.save)")
    p.add_argument("--check", action="store_true",
                   help="compare PyTorch's G with `vkgan sample --raw` on the same z")
    p.add_argument("--vkgan", default=os.path.join(ROOT, "build", "vkgan"),
                   help="the vkgan binary for --check (default build/vkgan)")
    p.add_argument("--n", type=int, default=64, help="--check: samples (whole batches)")
    p.add_argument("--seed", type=int, default=1, help="--check: seed of z")
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    out, g = convert(a.checkpoint)
    torch.save(out, a.out)
    # what was written loads back strictly into freshly built modules
    back = torch.load(a.out)
    g2, d2 = build(back["config"])
    g2.load_state_dict(back["G"], strict=True)
    d2.load_state_dict(back["D"], strict=True)
    print(f"wrote {a.out}: G {sum(v.numel() for v in g2.parameters())} parameters, "
          f"D {sum(v.numel() for v in d2.parameters())}, step {out['step']}"
          f"{', with G_ema' if 'G_ema' in out else ''}; loads with load_state_dict(strict=True)")
    if a.check and not check(a.checkpoint, out, g, a):
        sys.exit(1)


if __name__ == "__main__":
    main()
