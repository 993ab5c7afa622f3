"""Training-step time of the recogniser network, fp32 against bfloat16 autocast (train_rec.py --bf16), side by side
in one process: forward + CTC + backward + Adam on random crops, one torch thread, as train_rec.py runs.

    nice python3 bench/rec-train-step.py [--oc 256 --hidden 256] [--batch 8] [--widths 128,256] [--reps 5]

Autocast keeps the weights, the CTC loss and validation in fp32; only the network's forward (convolutions, LSTM,
linear) runs in bfloat16, which pays on CPUs with AVX512-BF16 / AMX and may be slower on others.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'train'))
import train_rec as T  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--oc', type=int, default=256)
ap.add_argument('--hidden', type=int, default=256)
ap.add_argument('--batch', type=int, default=8)
ap.add_argument('--widths', default='128,256')
ap.add_argument('--reps', type=int, default=5)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)
model = T.build_model(T.make_opt(a))
model.train()
ctc = nn.CTCLoss(blank=0, zero_infinity=True)
optim = torch.optim.Adam(model.parameters(), 1e-5)


def step(x, bf16):
    optim.zero_grad()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        out = model(x)
    lp = out.float().log_softmax(2).permute(1, 0, 2)
    n = x.shape[0]
    targets = torch.randint(1, len(T.CHARSET) + 1, (n, 8))
    loss = ctc(lp, targets, torch.full((n,), lp.shape[0], dtype=torch.long), torch.full((n,), 8, dtype=torch.long))
    loss.backward()
    optim.step()


print(f'{a.oc}/{a.hidden}, batch {a.batch}, seconds per step (interleaved, best of 2 rounds of {a.reps})')
for w in (int(v) for v in a.widths.split(',')):
    x = torch.randn(a.batch, 1, 32, w)
    best = {False: 1e9, True: 1e9}
    for bf16 in (False, True, False, True):
        step(x, bf16)
        t = time.perf_counter()
        for _ in range(a.reps):
            step(x, bf16)
        best[bf16] = min(best[bf16], (time.perf_counter() - t) / a.reps)
    print(f'width {w}: fp32 {best[False]:.3f}  bf16 {best[True]:.3f}  ratio {best[False] / best[True]:.2f}x')
