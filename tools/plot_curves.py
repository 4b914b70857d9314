#!/usr/bin/python3
"""D(x), D(G(z)) and the losses over steps: vkgan runs against tools/dcgan_reference.py runs.

    tools/plot_curves.py --vkgan runs/vk-s1 runs/vk-s2 --reference ref-s1.jsonl ref-s2.jsonl \\
        --out docs/images/curves-400.png

--vkgan takes run directories (their metrics.jsonl), --reference the files of
dcgan_reference.py --metrics; both hold means over each --log-every interval. Needs matplotlib
(apt-get install python3-matplotlib). Runs that stopped early are drawn as far as they got.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = (("d_x", "D(x)"), ("d_g_z", "D(G(z)) (D step)"), ("loss_d", "loss D"),
          ("loss_g", "loss G"))


def read(path):
    if os.path.isdir(path):
        path = os.path.join(path, "metrics.jsonl")
    rows = [json.loads(line) for line in open(path) if line.strip()]
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--vkgan", nargs="*", default=[])
    p.add_argument("--reference", nargs="*", default=[])
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="")
    a = p.parse_args()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for paths, colour, label in ((a.vkgan, "tab:blue", "vkgan"),
                                 (a.reference, "tab:orange", "PyTorch reference")):
        for i, path in enumerate(paths):
            rows = read(path)
            steps = [r["step"] for r in rows]
            for ax, (key, name) in zip(axes.flat, PANELS):
                ax.plot(steps, [r[key] for r in rows], color=colour, alpha=0.8,
                        linestyle=("-", "--", ":")[i % 3],
                        label=f"{label} seed {i + 1} ({steps[-1] if steps else 0} steps)")
                ax.set_title(name)
                ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("step")
    axes[0][0].legend(fontsize=7)
    if a.title:
        fig.suptitle(a.title, fontsize=10)
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
