"""vkgan's models in PyTorch, with vkgan's parameter names, and safetensors without the package.

Shared by tools/pytorch_parity.py (step-for-step fixtures), tools/dcgan_reference.py (the
reference trainer), tools/vkgan_to_torch.py and tools/torch_to_vkgan.py (checkpoint interop).
Needs torch and numpy (Debian's python3-torch; /usr/bin/python3).

A model config is a dict (the fixtures' keys; missing optional keys mean "off"):
  model "dcgan" | "mlp", image_size 28 | 32 | 64, channels, latent, g_width, d_width, classes,
  mlp_hidden, mlp_depth, and the variations minibatch_stddev, bias, g_leaky, d_avg_pool.
Each model is an nn.Sequential whose indices are vkgan's layer indices (activations included),
so its state_dict names ("3.weight", "3.running_mean") are vkgan's checkpoint names without the
"G." / "D." prefix. One layout differs: vkgan's dense weight is [in, out], the transpose of
nn.Linear's [out, in] (see to_vkgan_layout / from_vkgan_layout); conv weights are [out, in, k, k]
and transposed-conv weights [in, out, k, k] in both.
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

# the train options (vkgan.options / config.json names) that change the models' structure
STRUCTURAL = ("image-size", "latent", "g-width", "d-width", "mlp-hidden", "mlp-depth", "bias",
              "g-leaky", "d-avg-pool", "minibatch-stddev", "conditional", "g-dropout",
              "virtual-bn")


class MinibatchStddev(nn.Module):
    """vkgan's VKG_LAYER_MBSTD (shaders/mbstd.comp): the mean over features of the batch's
    standard deviation (biased variance + 1e-8), appended as one more channel."""

    def forward(self, x):
        s = torch.sqrt(x.var(0, unbiased=False) + 1e-8).mean()
        return torch.cat([x, s.expand(x.shape[0], 1, x.shape[2], x.shape[3])], 1)


def _steps(size):
    if size not in (28, 32, 64):
        raise ValueError(f"image size {size}: DCGAN models are 28, 32 or 64 pixels")
    return {28: 2, 32: 3, 64: 4}[size], 7 if size == 28 else 4


def dcgan_generator(cfg):
    """vkg_dcgan_generator: z (with the one-hot classes) projected by a transposed conv from 1x1,
    then stride-2 transposed convs; batch norm and ReLU (LeakyReLU(0.2) with g_leaky) between,
    tanh at the end; a bias only in the output layer, with cfg["bias"]."""
    steps, first = _steps(cfg["image_size"])
    bias = bool(cfg.get("bias", 0))
    w = cfg["g_width"] << (steps - 1)
    layers = [nn.ConvTranspose2d(cfg["latent"] + cfg.get("classes", 0), w, first, 1, 0,
                                 bias=False)]
    for i in range(steps):
        last = i == steps - 1
        act = nn.LeakyReLU(0.2) if cfg.get("g_leaky", 0) else nn.ReLU()
        layers += [nn.BatchNorm2d(w), act,
                   nn.ConvTranspose2d(w, cfg["channels"] if last else w // 2, 4, 2, 1,
                                      bias=bias and last)]
        w //= 2
    return nn.Sequential(*layers, nn.Tanh())


def dcgan_discriminator(cfg):
    """vkg_dcgan_discriminator (+ run_build_layers' minibatch stddev before the last layer):
    stride-2 convs (3x3 conv + 2x2 average pool with d_avg_pool), batch norm except after the
    first, LeakyReLU(0.2), a full-window conv to one logit; with cfg["bias"], biases in the first
    and the last conv."""
    steps, first = _steps(cfg["image_size"])
    bias = bool(cfg.get("bias", 0))
    layers, c = [], cfg["channels"] + cfg.get("classes", 0)
    for i in range(steps):
        out = cfg["d_width"] << i
        if cfg.get("d_avg_pool", 0):
            layers += [nn.Conv2d(c, out, 3, 1, 1, bias=bias and i == 0), nn.AvgPool2d(2, 2)]
        else:
            layers.append(nn.Conv2d(c, out, 4, 2, 1, bias=bias and i == 0))
        if i > 0:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.LeakyReLU(0.2))
        c = out
    if cfg.get("minibatch_stddev", 0):
        layers.append(MinibatchStddev())
        c += 1
    layers.append(nn.Conv2d(c, 1, first, 1, 0, bias=bias))
    return nn.Sequential(*layers)


def mlp(cfg, inputs, out, act):
    """vkg_mlp_generator / vkg_mlp_discriminator: dense layers with biases."""
    layers, c = [], inputs
    for _ in range(cfg["mlp_depth"]):
        layers += [nn.Linear(c, cfg["mlp_hidden"]), act()]
        c = cfg["mlp_hidden"]
    layers.append(nn.Linear(c, out))
    return nn.Sequential(*layers)


def build(cfg):
    """(G, D) for a config."""
    if cfg.get("model", "dcgan") == "mlp":
        g = mlp(cfg, cfg["latent"], 2, nn.ReLU)
        d = mlp(cfg, 2, 1, lambda: nn.LeakyReLU(0.2))
    else:
        g, d = dcgan_generator(cfg), dcgan_discriminator(cfg)
    return g, d


def init_weights(model, rng):
    """vkg_model_init's distributions: weights N(0, 0.02), batch-norm gamma N(1, 0.02), biases
    and beta 0, running statistics (0, 1). Drawn with a numpy Generator."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.copy_(torch.from_numpy(rng.normal(0, 0.02, m.weight.shape)))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.from_numpy(rng.normal(1, 0.02, m.weight.shape)))
                m.bias.zero_()
                m.running_mean.zero_()
                m.running_var.fill_(1)


def _is_dense_weight(model, name):
    return isinstance(model[int(name.split(".")[0])], nn.Linear) and name.endswith("weight")


def to_vkgan_layout(model, name, t):
    """A parameter (or its gradient, Adam moment...) as vkgan holds it: float32 numpy, dense
    weights transposed to [in, out]."""
    t = t.detach().cpu().numpy().astype(np.float32)
    return np.ascontiguousarray(t.T) if _is_dense_weight(model, name) else t


def from_vkgan_layout(model, name, a):
    """The inverse of to_vkgan_layout: a float32 tensor in PyTorch's layout."""
    a = np.asarray(a, np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.T if _is_dense_weight(model, name) else a))


def onehot_maps(labels, classes, h, w):
    """vkg_onehot_concat's channels: [N, classes, h, w], 1 in the label's channel."""
    one = F.one_hot(labels.long(), classes).to(torch.get_default_dtype())
    return one.view(-1, classes, 1, 1).expand(-1, -1, h, w)


def g_input(cfg, z, labels=None):
    """G's input for z [N, latent]: [N, latent (+ classes), 1, 1] for a DCGAN (the one-hot classes
    after z, as vkg_onehot_concat puts them), z itself for the MLP."""
    if cfg.get("model", "dcgan") == "mlp":
        return z
    z = z.view(z.shape[0], -1, 1, 1)
    if cfg.get("classes", 0):
        return torch.cat([z, onehot_maps(labels, cfg["classes"], 1, 1).to(z.dtype)], 1)
    return z


def config_from_options(options, data_shape):
    """The model config of a vkgan run: `options` as in vkgan.options / config.json (a dict with
    vkgan train's option names), `data_shape` the five numbers of vkgan.data_shape (points,
    channels, height, width, classes). Raises ValueError for models PyTorch here does not
    reproduce (G dropout and virtual batch norm)."""
    points, channels, height, width, classes = data_shape
    if options.get("g-dropout", 0):
        raise ValueError("G has dropout (--g-dropout): random at generation, not exported")
    if options.get("virtual-bn", 0):
        raise ValueError("G has virtual batch norm (--virtual-bn): not in these PyTorch models")
    cfg = {"model": "mlp" if points else "dcgan", "image_size": int(options.get("image-size", 0)),
           "channels": channels, "latent": int(options["latent"]),
           "g_width": int(options.get("g-width", 0)), "d_width": int(options.get("d-width", 0)),
           "mlp_hidden": int(options.get("mlp-hidden", 128)),
           "mlp_depth": int(options.get("mlp-depth", 2)),
           "classes": classes if options.get("conditional", 0) else 0,
           "minibatch_stddev": int(options.get("minibatch-stddev", 0)),
           "bias": int(options.get("bias", 0)), "g_leaky": int(options.get("g-leaky", 0)),
           "d_avg_pool": int(options.get("d-avg-pool", 0))}
    if not points and (height != cfg["image_size"] or width != cfg["image_size"]):
        raise ValueError(f"data shape {height}x{width} does not fit image size "
                         f"{cfg['image_size']}")
    return cfg


# ---- safetensors (F32 only), by hand: 8-byte little-endian header length, JSON, data ----

def write_safetensors(path, tensors, meta):
    """tensors: name -> array (written as little-endian F32); meta: str -> str. The metadata
    also gets the CRC-32s of the other metadata (vkgan.meta_crc32: each key and value, UTF-8,
    with a NUL, in order) and of the tensor data (vkgan.crc32), which vkgan checks on load."""
    header, offset, blobs, crc = {"__metadata__": dict(meta)}, 0, [], 0
    meta_crc = 0
    for key, value in header["__metadata__"].items():
        meta_crc = zlib.crc32(key.encode() + b"\0" + value.encode() + b"\0", meta_crc)
    header["__metadata__"]["vkgan.meta_crc32"] = f"{meta_crc:08x}"
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
        crc = zlib.crc32(blobs[-1], crc)
    header["__metadata__"]["vkgan.crc32"] = f"{crc:08x}"
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    """(tensors: name -> float32 numpy array, metadata dict). F32 tensors only."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    base, tensors = 8 + n, {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {h['dtype']}, not F32")
        a, b = h["data_offsets"]
        tensors[name] = np.frombuffer(data[base + a:base + b], "<f4").reshape(h["shape"]).copy()
    return tensors, meta


def script_parser(doc):
    """An argument parser for a tool script: its docstring's first line as the description, the
    rest as the epilog (as written)."""
    return argparse.ArgumentParser(description=doc.split("\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog="\n".join(doc.split("\n")[2:]))
