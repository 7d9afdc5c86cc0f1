"""PyTorch 1.13 twin of `distillery predict` for a saved Distillery MLP, for bench/inference.ts:
read the CSV, standardise each numeric column with the model's stored training mean and deviation,
run the network (weights from the model's weights.bin, in model.json's order), softmax, and write
the same predictions CSV (prediction + one probability column per class, 6 significant digits).

    python3 bench/torch_predict.py --model <dir> --data rows.csv --out preds.csv --threads 1
"""
import argparse
import csv
import json
import os
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    meta = json.load(open(os.path.join(a.model, 'distillery.json')))
    topo = json.load(open(os.path.join(a.model, 'model.json')))
    pre = meta['preprocessing']
    classes = meta['classNames']
    flat = np.fromfile(os.path.join(a.model, 'weights.bin'), dtype=np.float32)
    weights, off = [], 0
    for w in topo['weightsManifest'][0]['weights']:
        n = int(np.prod(w['shape']))
        weights.append(torch.from_numpy(flat[off:off + n].reshape(w['shape']).copy()))
        off += n
    with open(a.data, newline='') as f:
        rows = csv.reader(f)
        header = next(rows)
        cols = [header.index(c['name']) for c in pre['columns']]
        x = np.array([[float(r[i]) for i in cols] for r in rows], dtype=np.float32)
    mean = np.array([c['mean'] for c in pre['columns']], dtype=np.float32)
    std = np.array([c['std'] or 1.0 for c in pre['columns']], dtype=np.float32)
    h = torch.from_numpy((x - mean) / std)
    with torch.no_grad():
        for i in range(0, len(weights), 2):
            h = h @ weights[i] + weights[i + 1]
            if i + 2 < len(weights):
                h = torch.relu(h)
        p = torch.softmax(h, -1).numpy()
    pred = p.argmax(1)
    with open(a.out + '.tmp', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['prediction'] + [f'p:{c}' for c in classes])
        for k, row in zip(pred, p):
            w.writerow([classes[k]] + [f'{v:.6g}' for v in row])
    os.replace(a.out + '.tmp', a.out)
    print(json.dumps({'engine': 'pytorch', 'version': torch.__version__, 'rows': len(x), 'seconds': time.time() - t0}))


if __name__ == '__main__':
    main()
