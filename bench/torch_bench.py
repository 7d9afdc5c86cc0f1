"""PyTorch twins of bench/models.ts, timed the same way (Adam, batch 128, softmax cross entropy,
random data, warm-up steps first). One run per process; prints one JSON line.

    python3 bench/torch_bench.py --model mlp --threads 1 --steps 100
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Transformer(nn.Module):
    def __init__(self, vocab=5000, seq=64, d=128, heads=2, layers=2, ff=256, classes=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(seq, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation='relu', batch_first=True,
                                           norm_first=False)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(d, classes)

    def forward(self, ids):
        h = self.emb(ids) + self.pos
        h = self.enc(h)
        return self.out(h.mean(1))


def build(name):
    if name == 'mlp':
        m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        return m, (lambda n: torch.randn(n, 784)), 10
    if name == 'letter':  # the main job's model: 16 -> 256 -> 256 -> 26, dropout 0.2 after each hidden layer
        m = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 26))
        return m, (lambda n: torch.randn(n, 16)), 26
    if name == 'cnn':
        m = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
        return m, (lambda n: torch.randn(n, 1, 28, 28)), 10
    m = Transformer()
    return m, (lambda n: torch.randint(0, 5000, (n, 64))), 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='mlp')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--max-seconds', type=float, default=30)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, make_x, k = build(a.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = [(make_x(a.batch), torch.randint(0, k, (a.batch,))) for _ in range(4)]

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first = math.nan
    for i in range(a.warmup):
        first = step(i)
    t0 = time.perf_counter()
    c0 = time.process_time()
    done, last, secs = 0, math.nan, 0.0
    while done < a.steps:
        last = step(done)
        done += 1
        secs = time.perf_counter() - t0
        if secs > a.max_seconds:
            break
    print(json.dumps({
        'engine': 'pytorch', 'version': torch.__version__, 'threads': a.threads, 'model': a.model,
        'batch': a.batch, 'steps': done, 'seconds': secs, 'exPerSec': done * a.batch / secs,
        'msPerStep': secs * 1000 / done, 'cpuMsPerStep': (time.process_time() - c0) * 1000 / done, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'params': sum(p.numel() for p in model.parameters()), 'firstLoss': first, 'lastLoss': last,
    }))


if __name__ == '__main__':
    main()
