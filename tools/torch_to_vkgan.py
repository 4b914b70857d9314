#!/usr/bin/python3
"""A PyTorch DCGAN state_dict (G and D, optionally Adam state) as a vkgan checkpoint.

    tools/torch_to_vkgan.py model.pt model.safetensors --image-size 28 --channels 1 \\
        --latent 100 --g-width 16 --d-width 8 --batch 32
    build/vkgan sample --checkpoint model.safetensors --out samples.png
    tools/torch_to_vkgan.py model.pt model.safetensors ... --run-dir runs/imported
    build/vkgan train --resume runs/imported --steps 2000

STATE_DICT.pt (torch.load) is a dict with "G" and "D" (or "netG" / "netD"): the state_dicts of
the DCGANs of tools/vkgan_torch_models.py for the model options given here (nn.Sequential, vkgan's
layer indices: tools/vkgan_to_torch.py writes such files, and pytorch/examples' dcgan with
bias=False has the same layers once its Sequential is the model), and optionally
"optimizer_G" / "optimizer_D" (torch.optim.Adam state_dicts over the models' parameters in
order) and "fixed_z" [batch, latent]. Without Adam state the moments start at 0 (Adam step 0).

The checkpoint has everything `vkgan sample` and `vkgan train --resume` read: G's and D's
weights, batch-norm running statistics and Adam moments under vkgan's names, fixed_z (from the
file, else N(0, 1) drawn with --seed), and the metadata (format vkgan-gan-1, step, Adam
hyperparameters and step, vkgan.options, vkgan.data_shape). --resume needs a run directory:
--run-dir DIR also writes DIR/config.json, DIR/checkpoints/step-<9 digits>.safetensors and
an empty DIR/samples/.
Names or shapes that do not fit the model of the options: one error line, exit status 2.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vkgan_torch_models import (build, script_parser, to_vkgan_layout,  # noqa: E402
                                write_safetensors)


def fail(msg, code=2):
    print(f"torch_to_vkgan: error: {msg}", file=sys.stderr)
    sys.exit(code)


def model_args(a):
    flags = " ".join(f"--{k} {getattr(a, k.replace('-', '_'))}" for k in
                     ("image-size", "channels", "latent", "g-width", "d-width"))
    extra = [f"--{k}" for k in ("bias", "g-leaky", "d-avg-pool", "minibatch-stddev")
             if getattr(a, k.replace("-", "_"))]
    if a.classes:
        extra.append(f"--classes {a.classes}")
    return " ".join([flags] + extra)


def fit(name, model, sd, path, a):
    """The state_dict checked against the model: the first name or shape that does not fit
    ends the program with one line (and how many more there are)."""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}
    got = {k: tuple(v.shape) for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    problems = [f"{name}.{k} is missing" for k in want if k not in got]
    problems += [f"{name}.{k} is not a parameter of this model" for k in got if k not in want]
    problems += [f"{name}.{k} is {list(got[k])}, the model wants {list(want[k])}"
                 for k in want if k in got and got[k] != want[k]]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        fail(f"{path}: {problems[0]}{more}: not the DCGAN of {model_args(a)}")
    full = model.state_dict()
    full.update({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")})
    model.load_state_dict(full, strict=True)


def adam(model, name, opt_sd, path, lr, betas):
    """The moments of model's parameters (vkgan layout) and the Adam hyperparameters."""
    params = list(model.named_parameters())
    hyper = {"lr": lr, "betas": betas, "eps": 1e-8, "weight_decay": 0.0}
    moments, step = {}, 0
    if opt_sd is not None:
        group = opt_sd["param_groups"][0]
        if len(opt_sd["param_groups"]) != 1 or len(group["params"]) != len(params):
            count = sum(len(g["params"]) for g in opt_sd["param_groups"])
            fail(f"{path}: optimizer_{name} is over {count} parameters, {name} has "
                 f"{len(params)}")
        hyper = {k: group[k] for k in hyper}
        for idx, (pname, p) in zip(group["params"], params):
            st = opt_sd["state"].get(idx)
            if st is None:
                continue
            for key in ("exp_avg", "exp_avg_sq"):
                if tuple(st[key].shape) != tuple(p.shape):
                    fail(f"{path}: optimizer_{name} {key} of {name}.{pname} is "
                         f"{list(st[key].shape)}, the parameter {list(p.shape)}")
                moments[f"{pname}.{key}"] = to_vkgan_layout(model, pname, st[key])
            step = max(step, int(float(st["step"])))
    for pname, p in params:
        for key in ("exp_avg", "exp_avg_sq"):
            moments.setdefault(f"{pname}.{key}", to_vkgan_layout(model, pname,
                                                                  torch.zeros_like(p)))
    return moments, hyper, step


def main():
    p = script_parser(__doc__)
    p.add_argument("state_dict", help="a .pt file (torch.save) holding G and D")
    p.add_argument("out", help="the vkgan checkpoint to write (.safetensors)")
    p.add_argument("--image-size", type=int, required=True, help="28, 32 or 64")
    p.add_argument("--channels", type=int, required=True, help="1 or 3")
    p.add_argument("--latent", type=int, default=100)
    p.add_argument("--g-width", type=int, required=True)
    p.add_argument("--d-width", type=int, required=True)
    p.add_argument("--bias", action="store_true", help="the models have vkgan's --bias")
    p.add_argument("--g-leaky", action="store_true")
    p.add_argument("--d-avg-pool", action="store_true")
    p.add_argument("--minibatch-stddev", action="store_true")
    p.add_argument("--classes", type=int, default=0, help="a conditional model's classes")
    p.add_argument("--batch", type=int, default=32,
                   help="vkgan's batch size (sampling uses its batch statistics)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default="fashion-mnist", help="vkgan train --data, for --resume")
    p.add_argument("--lr", type=float, default=2e-4, help="without Adam state")
    p.add_argument("--beta1", type=float, default=0.5, help="without Adam state")
    p.add_argument("--beta2", type=float, default=0.999, help="without Adam state")
    p.add_argument("--step", type=int, default=-1,
                   help="the checkpoint's step (default: G's Adam step, 0 without Adam state)")
    p.add_argument("--run-dir", help="also write a run directory that vkgan train --resume takes")
    a = p.parse_args()

    src = torch.load(a.state_dict, map_location="cpu")
    if not isinstance(src, dict):
        fail(f"{a.state_dict}: holds a {type(src).__name__}, not a dict with G and D")
    cfg = {"model": "dcgan", "image_size": a.image_size, "channels": a.channels,
           "latent": a.latent, "g_width": a.g_width, "d_width": a.d_width, "classes": a.classes,
           "bias": int(a.bias), "g_leaky": int(a.g_leaky), "d_avg_pool": int(a.d_avg_pool),
           "minibatch_stddev": int(a.minibatch_stddev)}
    try:
        g, d = build(cfg)
    except ValueError as e:
        fail(str(e))
    tensors, hyper, steps = {}, {}, {}
    for name, model, keys in (("G", g, ("G", "netG")), ("D", d, ("D", "netD"))):
        sd = next((src[k] for k in keys if k in src), None)
        if sd is None:
            fail(f"{a.state_dict}: no {' or '.join(repr(k) for k in keys)} state_dict in it "
                 f"(keys: {', '.join(map(str, src))})")
        fit(name, model, sd, a.state_dict, a)
        moments, hyper[name], steps[name] = adam(model, name, src.get(f"optimizer_{name}"),
                                                 a.state_dict, a.lr, (a.beta1, a.beta2))
        for pname, v in model.named_parameters():
            tensors[f"{name}.{pname}"] = to_vkgan_layout(model, pname, v)
        for key, v in moments.items():
            tensors[f"{name}.{key}"] = v
        for bname, v in model.named_buffers():
            if bname.endswith(("running_mean", "running_var")):
                tensors[f"{name}.{bname}"] = v.detach().numpy().astype(np.float32)
    fixed = src.get("fixed_z")
    if fixed is None:
        fixed = np.random.default_rng(a.seed).normal(size=(a.batch, a.latent))
    fixed = np.asarray(fixed, np.float32).reshape(-1, a.latent) if not torch.is_tensor(fixed) \
        else fixed.detach().float().numpy().reshape(-1, a.latent)
    if fixed.shape != (a.batch, a.latent):
        fail(f"{a.state_dict}: fixed_z is {list(fixed.shape)}, --batch and --latent want "
             f"[{a.batch}, {a.latent}]")
    tensors["fixed_z"] = fixed
    step = a.step if a.step >= 0 else steps["G"]
    options = {"data": a.data, "steps": max(step, 1), "batch": a.batch, "seed": a.seed,
               "image-size": a.image_size, "latent": a.latent, "g-width": a.g_width,
               "d-width": a.d_width, "bias": int(a.bias),
               "lr": float(np.float32(hyper["G"]["lr"])),
               "lr-d": float(np.float32(hyper["D"]["lr"])),
               "lr-g": float(np.float32(hyper["G"]["lr"])),
               "beta1": float(np.float32(hyper["G"]["betas"][0])),
               "beta2": float(np.float32(hyper["G"]["betas"][1])),
               "g-leaky": int(a.g_leaky), "d-avg-pool": int(a.d_avg_pool),
               "minibatch-stddev": int(a.minibatch_stddev), "conditional": int(a.classes > 0),
               "classifier": "none"}

    def adam_meta(h, s):
        return (f"{h['lr']:.9g} {h['betas'][0]:.9g} {h['betas'][1]:.9g} {h['eps']:.9g} "
                f"{h['weight_decay']:.9g} 0 {s}")

    meta = {"format": "vkgan-gan-1", "step": str(step), "seed": str(a.seed),
            "batch": str(a.batch), "latent": str(a.latent),
            "G.adam": adam_meta(hyper["G"], steps["G"]), "D.adam": adam_meta(hyper["D"], steps["D"]),
            "batches_drawn": str(step), "vkgan.options": json.dumps(options),
            "vkgan.seconds": "0",
            "vkgan.data_shape": f"0 {a.channels} {a.image_size} {a.image_size} {a.classes}",
            "vkgan.imported_from": os.path.basename(a.state_dict)}
    write_safetensors(a.out, tensors, meta)
    print(f"wrote {a.out}: {len(tensors)} tensors, step {step}")
    if a.run_dir:
        for sub in ("checkpoints", "samples"):  # what vkgan train --resume writes into
            os.makedirs(os.path.join(a.run_dir, sub), exist_ok=True)
        ckpt = os.path.join(a.run_dir, "checkpoints", f"step-{step:09d}.safetensors")
        write_safetensors(ckpt, tensors, meta)
        with open(os.path.join(a.run_dir, "config.json"), "w") as f:
            json.dump({"options": options}, f, indent=1)
        print(f"wrote the run directory {a.run_dir} ({ckpt}); continue it with "
              f"'vkgan train --resume {a.run_dir} --steps N' (N > {step})")


if __name__ == "__main__":
    main()
