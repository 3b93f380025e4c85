"""Print one table from the JSON files that bench/run_all.sh collected: ours vs PyTorch per benchmark and
thread count, with the machine line.

    python bench/table.py OUTDIR
"""
from __future__ import annotations

import json
import os
import sys

ROWS = [("mlp", "MLP 784-256-128-10, Adam, batch 128"), ("lenet5", "LeNet-5, SGD+momentum, batch 64"),
        ("gpt", "char GPT (2x128, ctx 64, batch 16), AdamW"),
        ("lstm", "char LSTM (2x128, 32 steps, batch 16), Adam"), ("gru", "char GRU (2x128, 32 steps, batch 16), Adam"),
        ("wordlm", "word LM (LSTM 2x200, vocab 10000, 35x20), SGD"), ("dcgan", "DCGAN 64x64, batch 16, Adam"),
        ("resnet", "CIFAR ResNet (16-32-64), batch 64, SGD"), ("mnist", "MNIST CNN (32-64), batch 64, Adadelta")]


def main(out):
    machine = None
    lines = ["| benchmark | threads | ours | PyTorch | ours / PyTorch |", "|---|---|---|---|---|"]
    for name in ("overhead1.json", "overhead2.json", "overhead.json"):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            continue
        o = json.load(open(path))
        ratio = f"**{o['ours_us'] / o['torch_us']:.2f}**" if o.get("torch_us") else "-"
        torch_us = f"{o['torch_us']:.2f} us/op" if o.get("torch_us") else "-"
        lines.append(f"| overhead: 100-op chain on 4 elements | {o.get('threads', 1)} | {o['ours_us']:.2f} us/op | "
                     f"{torch_us} | {ratio} |")
    for name, desc in ROWS:
        path = os.path.join(out, f"{name}.json")
        if not os.path.exists(path):
            continue
        for n, res in json.load(open(path)).items():
            machine = machine or res.get("machine")
            o, t = res["ours"], res.get("torch")
            first = f" (first step {o['first_ms'] / 1e3:.1f} s)" if o.get("first_ms", 0) > 1000 else ""
            if t:
                lines.append(f"| {desc} | {n} | {o['median_ms']:.2f} ms{first} | {t['median_ms']:.2f} ms | "
                             f"**{o['median_ms'] / t['median_ms']:.2f}** |")
            else:
                lines.append(f"| {desc} | {n} | {o['median_ms']:.2f} ms{first} | - | - |")
    print(machine or "(machine unknown)")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench-out")
