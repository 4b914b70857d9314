#!/usr/bin/python3
"""Step-for-step parity fixtures: vkgan's GAN training step in PyTorch, dumped for the test suite.

For each fixture (tiny DCGANs at 28x28x1, 32x32x3 and 64x64x3, the ring8 MLP, and 28x28 DCGANs
with one stabilisation option each, or with --bias) this builds the PyTorch models equal to what
vkgan's builders make (tools/vkgan_torch_models.py: src/gan/dcgan.c, src/gan/mlp.c,
run_build_layers in src/train/setup.c), draws the initial
weights (DCGAN init), the real batches and z, runs 3 training steps in the order of vkgan's
recorded step (src/gan/gan.c: record_d_step, record_g_step) and writes
tests/parity/NAME.safetensors. tests/test_parity.c feeds the same weights and inputs to vkgan
(the test seam vkg_gan_config.external_inputs) and compares every number after every step.

Run by hand (Debian's python3-torch and python3-numpy); the build and the tests never need it:

    tools/pytorch_parity.py                 # every fixture into tests/parity/
    tools/pytorch_parity.py --only ema      # one of them
    tools/pytorch_parity.py --compare       # float32 PyTorch against the fixtures

The step, as vkgan records it (each of the d_steps D steps on its own real batch and z):
  D step: [historical average of D moves to include D's current weights]
          D(real) in train mode, BCE with logits against the real target (1, or the smoothed
          one), backward (D's gradients overwritten); G(z) in train mode; D(G(z).detach()) in
          train mode, BCE against 0, backward (D's gradients added); [+ 2 lambda (theta - avg)];
          Adam on D.
  G step: [historical average of G moves]; the fake batch of the last D step through the
          updated D in train mode, BCE against 1 (the non-saturating loss), backward into G
          (G's gradients overwritten; D's are not touched); [+ 2 lambda (theta - avg)];
          Adam on G; [EMA of G's parameters].
  Every D forward and every G forward is in train mode and moves the batch-norm running
  statistics (momentum 0.1, the unbiased batch variance), three times per step for D with one
  D step. Feature matching replaces the G step's loss: D's last hidden features (the input of
  its last layer) averaged over the batch, once for the real batch (batch statistics, the
  running ones untouched) and once for the fake batch (train mode), loss = sum_j (mr_j - mf_j)^2
  (the squared norm of Salimans et al. 2016; their code took the mean), the real means held
  constant; the BCE of the fake logits is still computed for D(G(z)).

vkgan's definitions checked here against PyTorch's: BCEWithLogitsLoss (mean), Adam (eps added
to sqrt(v_hat), bias corrections as torch.optim.Adam), BatchNorm2d (eps 1e-5, momentum 0.1,
unbiased running variance), LeakyReLU(0.2), Tanh, Conv2d [out, in, k, k] and ConvTranspose2d
[in, out, k, k] weights. vkgan's hyperparameters are float32 (beta2 = 0.999 is 0.99900001287),
so the fixtures use those values. One layout differs: vkgan's dense weight is [in, out]
(y = x w), the transpose of nn.Linear's [out, in]; fixtures hold vkgan's layout.

The fixtures are computed in float64 from float32 inputs and initial weights and stored as
float32: the reference is then (nearly) exact, and what the test tolerates is vkgan's own float32
rounding. --compare shows that scale: float32 PyTorch against the fixtures, per tensor (at most
2.2e-5 of a tensor's largest magnitude in these fixtures, in batch-norm gamma gradients, which
are sums of a few hundred to a few thousand products of either sign; vkgan is at most 2.2e-5 off
on lavapipe; the test allows 1e-4). Fixtures avoid values float32 cannot resolve (see dcgan64
and ring8).

The fixture (safetensors, written here with numpy): metadata holds the config (one key per
field, decimal text); tensors, all F32, named as vkgan's checkpoints name them:
  init.G.<i>.weight / .bias (batch norm: gamma / beta), init.D.<i>...     the initial weights
  s<k>.real [d_steps*batch, c, h, w], s<k>.z [d_steps*batch, latent]    step k's inputs
  s<k>.real_labels, s<k>.fake_labels [d_steps*batch] (conditional)      class indices
  s<k>.losses [6]: loss_d_real, D(x), loss_d_fake, D(G(z)) in the D step, loss_g,
                   D(G(z)) in the G step (after D's update): vkgan's VKG_LOSS_* order,
                   from the last D step
  s<k>.G.<i>.weight, ...grad, ...exp_avg, ...exp_avg_sq, [...ema], [...hist_avg],
  s<k>.G.<i>.running_mean / running_var                                 after step k
  (D's gradients: those of its last D step; G's: those of the G step.)
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vkgan_torch_models import (build, init_weights, onehot_maps,  # noqa: E402
                                to_vkgan_layout, write_safetensors)

FIXTURES = {
    # name: config over BASE
    "dcgan28": {},
    "dcgan32": {"image_size": 32, "channels": 3},
    # G width 2: with width 1 G's last batch norm has one channel, whose gamma gradient (one
    # sum over the whole batch) float32 gets only to 1e-3 .. 1e-5 of itself, seed to seed
    "dcgan64": {"image_size": 64, "channels": 3, "g_width": 2, "d_width": 1, "batch": 2},
    # real target 0.9: with the plain targets D's output at init is 0.5 +- 1e-5 on both batches,
    # so the gradient of its last bias, mean sigmoid(real) - 1 + mean sigmoid(fake), is ~1e-6,
    # below float32's resolution of those sums (float32 PyTorch is 3% off float64 there), and
    # Adam divides it by its own size: no two float32 implementations agree to 1e-4 on it
    "ring8": {"model": "mlp", "latent": 4, "batch": 8, "lr_d": 1e-3, "lr_g": 1e-3,
              "real_target": 0.9},
    "label_smoothing": {"real_target": 0.9},
    "feature_matching": {"feature_matching": 1},
    "minibatch_stddev": {"minibatch_stddev": 1},
    "hist_avg": {"hist_avg": 0.5},
    "ema": {"ema": 0.9},
    "conditional": {"classes": 3},
    "d_steps2": {"d_steps": 2, "lr_d": 4e-4, "lr_g": 1e-4},
    # --bias: biases in G's output layer and D's first and last convs; real target 0.9 for D's
    # last bias, whose gradient is ~1e-6 with the plain targets at init (see ring8)
    "bias": {"bias": 1, "real_target": 0.9},
}

BASE = {
    "model": "dcgan",  # or "mlp" (2D points)
    "image_size": 28,
    "channels": 1,
    "latent": 2,
    "g_width": 2,
    "d_width": 2,
    "mlp_hidden": 8,
    "mlp_depth": 2,
    "batch": 4,
    "steps": 3,
    "d_steps": 1,
    "lr_d": 2e-4,
    "lr_g": 2e-4,
    "beta1": 0.5,
    "beta2": 0.999,
    "real_target": 1.0,  # one-sided label smoothing when below 1
    "feature_matching": 0,
    "minibatch_stddev": 0,
    "hist_avg": 0.0,
    "ema": 0.0,
    "classes": 0,
    "seed": 1,
}


def draw_inputs(cfg, rng):
    """One step's inputs, d_steps sets of a batch each."""
    n = cfg["d_steps"] * cfg["batch"]
    out = {}
    if cfg["model"] == "mlp":  # ring8: 8 modes on a circle of radius 2, sigma 0.02
        mode = rng.integers(0, 8, n)
        angle = 2 * np.pi * mode / 8
        pts = np.stack([2 * np.cos(angle), 2 * np.sin(angle)], 1) + 0.02 * rng.normal(size=(n, 2))
        out["real"] = pts.astype(np.float32)
    else:  # images as vkgan reads bytes: v / 127.5 - 1 in float32
        c, s = cfg["channels"], cfg["image_size"]
        pixels = rng.integers(0, 256, (n, c, s, s)).astype(np.float32)
        out["real"] = pixels / np.float32(127.5) - np.float32(1)
    out["z"] = rng.normal(size=(n, cfg["latent"])).astype(np.float32)
    if cfg["classes"]:
        out["real_labels"] = rng.integers(0, cfg["classes"], n).astype(np.float32)
        out["fake_labels"] = rng.integers(0, cfg["classes"], n).astype(np.float32)
    return out


def bn_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


class Trainer:
    def __init__(self, cfg, g, d, dtype):
        self.cfg, self.g, self.d, self.dtype = cfg, g, d, dtype
        # vkgan holds its hyperparameters in float32 (vkg_gan_config): beta2 = 0.999 is
        # 0.99900001287 there, and 1 - beta2 in the second moment 1.3e-5 away from 0.001
        f32 = lambda key: float(np.float32(cfg[key]))
        betas = (f32("beta1"), f32("beta2"))
        eps = float(np.float32(1e-8))
        self.opt_d = torch.optim.Adam(d.parameters(), lr=f32("lr_d"), betas=betas, eps=eps)
        self.opt_g = torch.optim.Adam(g.parameters(), lr=f32("lr_g"), betas=betas, eps=eps)
        self.real_target = f32("real_target")
        self.d_batches = 0  # VKG_COUNTER_BATCH: D steps so far
        self.g_steps = 0  # VKG_COUNTER_STEP
        # historical averages: w = 1 / counter makes the first update copy the weights
        self.hist_g = [torch.zeros_like(p) for p in g.parameters()]
        self.hist_d = [torch.zeros_like(p) for p in d.parameters()]
        self.ema = [p.detach().clone() for p in g.parameters()]

    def shape_input(self, x, labels):
        """D's input: the batch (points: [N, 2]; images NCHW) with the one-hot class maps."""
        cfg = self.cfg
        if cfg["model"] == "mlp":
            return x.view(x.shape[0], -1)
        if cfg["classes"]:
            return torch.cat([x, onehot_maps(labels, cfg["classes"], x.shape[2], x.shape[3])], 1)
        return x

    def g_input(self, z, labels):
        cfg = self.cfg
        if cfg["model"] == "mlp":
            return z
        z = z.view(z.shape[0], -1, 1, 1)
        if cfg["classes"]:
            return torch.cat([z, onehot_maps(labels, cfg["classes"], 1, 1)], 1)
        return z

    def hist_update(self, model, avg, count):
        """vkg_param_average with decay < 0: avg += (1 / count) (theta - avg)."""
        w = np.float32(1) / np.float32(count)
        with torch.no_grad():
            for p, a in zip(model.parameters(), avg):
                a.add_(float(w) * (p - a))

    def hist_penalty(self, model, avg):
        """vkg_average_penalty: grad += 2 lambda (theta - avg), avg held constant."""
        lam = np.float32(2 * self.cfg["hist_avg"])
        with torch.no_grad():
            for p, a in zip(model.parameters(), avg):
                p.grad.add_(float(lam) * (p - a))

    def step(self, inputs):
        cfg, g, d = self.cfg, self.g, self.d
        b = cfg["batch"]
        bce = nn.BCEWithLogitsLoss()
        self.g_steps += 1
        out = {}
        for k in range(cfg["d_steps"]):
            rows = slice(k * b, (k + 1) * b)
            real = torch.from_numpy(inputs["real"][rows]).to(self.dtype)
            if cfg["model"] != "mlp":
                s = cfg["image_size"]
                real = real.view(b, cfg["channels"], s, s)
            z = torch.from_numpy(inputs["z"][rows]).to(self.dtype)
            rl = torch.from_numpy(inputs["real_labels"][rows]) if cfg["classes"] else None
            fl = torch.from_numpy(inputs["fake_labels"][rows]) if cfg["classes"] else None
            self.d_batches += 1
            if cfg["hist_avg"] > 0:
                self.hist_update(d, self.hist_d, self.d_batches)
            self.opt_d.zero_grad(set_to_none=False)
            logits = d(self.shape_input(real, rl)).view(-1)
            loss_real = bce(logits, torch.full((b,), self.real_target, dtype=self.dtype))
            loss_real.backward()
            dx = torch.sigmoid(logits).mean()
            fake = g(self.g_input(z, fl))
            fake_img = fake
            logits = d(self.shape_input(fake_img.detach(), fl)).view(-1)
            loss_fake = bce(logits, torch.zeros(b, dtype=self.dtype))
            loss_fake.backward()
            dgz = torch.sigmoid(logits).mean()
            if cfg["hist_avg"] > 0:
                self.hist_penalty(d, self.hist_d)
            d_grads = [p.grad.detach().clone() for p in d.parameters()]
            self.opt_d.step()
        # G step: the last D step's fake batch (and real batch, for feature matching)
        if cfg["hist_avg"] > 0:
            self.hist_update(g, self.hist_g, self.g_steps)
        self.opt_g.zero_grad(set_to_none=False)
        fake_in = self.shape_input(fake_img, fl)
        if cfg["feature_matching"]:
            body, head = d[:-1], d[-1]
            saved = [(m.running_mean.clone(), m.running_var.clone()) for m in bn_layers(d)]
            with torch.no_grad():  # batch statistics, the running ones left as they were
                real_f = body(self.shape_input(real, rl)).flatten(1).mean(0)
            for m, (rm, rv) in zip(bn_layers(d), saved):
                m.running_mean.copy_(rm)
                m.running_var.copy_(rv)
            feats = body(fake_in)
            logits = head(feats).view(-1)
            dgz_after = torch.sigmoid(logits).mean()
            loss_g = ((real_f - feats.flatten(1).mean(0)) ** 2).sum()
        else:
            logits = d(fake_in).view(-1)
            loss_g = bce(logits, torch.ones(b, dtype=self.dtype))
            dgz_after = torch.sigmoid(logits).mean()
        loss_g.backward()
        if cfg["hist_avg"] > 0:
            self.hist_penalty(g, self.hist_g)
        g_grads = [p.grad.detach().clone() for p in g.parameters()]
        self.opt_g.step()
        if cfg["ema"] > 0:  # vkg_param_average: ema += (1 - decay) (theta - ema)
            a = float(np.float32(1) - np.float32(cfg["ema"]))
            with torch.no_grad():
                for p, e in zip(g.parameters(), self.ema):
                    e.add_(a * (p - e))
        out["losses"] = np.array([loss_real.item(), dx.item(), loss_fake.item(), dgz.item(),
                                  loss_g.item(), dgz_after.item()], np.float32)
        out["grads"] = {"G": g_grads, "D": d_grads}
        return out


def state(prefix, name, model, opt, grads, extra):
    """Every tensor of a model after a step, under vkgan's checkpoint names."""
    t = {}
    params = dict(model.named_parameters())
    for i, (pname, p) in enumerate(params.items()):
        base = f"{prefix}.{name}.{pname}"
        t[base] = to_vkgan_layout(model, pname, p)
        if grads is not None:
            t[base + ".grad"] = to_vkgan_layout(model, pname, grads[i])
            st = opt.state[p]
            t[base + ".exp_avg"] = to_vkgan_layout(model, pname, st["exp_avg"])
            t[base + ".exp_avg_sq"] = to_vkgan_layout(model, pname, st["exp_avg_sq"])
        for suffix, values in extra.items():
            t[base + "." + suffix] = to_vkgan_layout(model, pname, values[i])
    for bname, buf in model.named_buffers():
        if bname.endswith("running_mean") or bname.endswith("running_var"):
            t[f"{prefix}.{name}.{bname}"] = buf.detach().numpy().astype(np.float32)
    return t


def run(name, overrides, dtype):
    """The fixture's tensors and config, computed in `dtype` (inputs and initial weights are
    float32 values either way)."""
    cfg = dict(BASE, **overrides)
    torch.set_default_dtype(dtype)
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng([cfg["seed"], sum(map(ord, name))])
    g, d = build(cfg)
    init_weights(g, rng)
    init_weights(d, rng)
    tensors = {}
    tensors.update(state("init", "G", g, None, None, {}))
    tensors.update(state("init", "D", d, None, None, {}))
    trainer = Trainer(cfg, g, d, dtype)
    for k in range(1, cfg["steps"] + 1):
        inputs = draw_inputs(cfg, rng)
        res = trainer.step(inputs)
        p = f"s{k}"
        for key, v in inputs.items():
            tensors[f"{p}.{key}"] = v
        tensors[f"{p}.losses"] = res["losses"]
        g_extra = {}
        if cfg["ema"] > 0:
            g_extra["ema"] = trainer.ema
        if cfg["hist_avg"] > 0:
            g_extra["hist_avg"] = trainer.hist_g
        tensors.update(state(p, "G", g, trainer.opt_g, res["grads"]["G"], g_extra))
        d_extra = {"hist_avg": trainer.hist_d} if cfg["hist_avg"] > 0 else {}
        tensors.update(state(p, "D", d, trainer.opt_d, res["grads"]["D"], d_extra))
    torch.set_default_dtype(torch.float32)
    return cfg, tensors


def make(name, overrides, out_dir):
    cfg, tensors = run(name, overrides, torch.float64)
    meta = {key: repr(v) if isinstance(v, float) else str(v) for key, v in cfg.items()}
    meta["format"] = "vkgan-parity-1"
    meta["made_by"] = f"tools/pytorch_parity.py (torch {torch.__version__}, float64)"
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    losses = " ".join(f"{v:.4f}" for v in tensors[f"s{cfg['steps']}.losses"])
    print(f"{path}: {os.path.getsize(path)} bytes, {len(tensors)} tensors, last losses {losses}")


def compare(name, overrides):
    """How far PyTorch in float32 lands from the float64 fixture: the scale of rounding that any
    float32 implementation (vkgan's too) shows against it, per tensor, worst first."""
    _, exact = run(name, overrides, torch.float64)
    _, single = run(name, overrides, torch.float32)
    rows = []
    for key, want in exact.items():
        scale = float(np.abs(want).max()) if want.size else 0.0
        if key.endswith("losses"):
            err = float(np.max(np.abs(single[key] - want) / np.abs(want)))
        else:
            err = float(np.abs(single[key] - want).max()) / scale if scale else 0.0
        rows.append((err, key))
    rows.sort(reverse=True)
    for err, key in rows[:5]:
        print(f"{name}: float32 off by {err:.2e} (of the largest magnitude) in {key}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                 "parity"))
    p.add_argument("--only", action="append", help="fixture name (repeatable)")
    p.add_argument("--compare", action="store_true",
                   help="write nothing: show how far float32 PyTorch is from the fixtures")
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = a.only or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            sys.exit(f"{n}: no such fixture (one of {', '.join(FIXTURES)})")
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        if a.compare:
            compare(n, FIXTURES[n])
        else:
            make(n, FIXTURES[n], os.path.normpath(a.out))


if __name__ == "__main__":
    main()
