"""PyTorch 1.13 twin of Distillery's main job (the update experiment of configs/letter-update.yaml,
src/experiments/updateExperiment.ts), for bench/mainjob.ts. Reads the rows Distillery itself prepared
(bench/export-mainjob-data.ts) and, per seed: trains the base model on the initial sample; each method's
new model on initial + new batch; early stopping on validation loss with the best epoch's weights put
back; then test accuracy and churn against the base model. Prints one JSON line.

    python3 bench/torch_mainjob.py --data /tmp/dir --seeds 1,2 --threads 1 \
        --methods '[{"method":"plain"},{"method":"distill","lambda":0.2}]'

Methods (defaults as src/methods/recipes/*.ts): plain, distill (lambda), anchor (alpha, epsilon),
label-smoothing (epsilon), ldi, elodi, focal-distill, ensemble; elodi and ensemble read
{"reference": {"kind": "ensemble", "members": m}}, members trained once per seed and shared.
"""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# src/methods/recipes/*.ts defaults
DEFAULTS = {
    'plain': {},
    'distill': {'lambda': 0.5},
    'anchor': {'alpha': 0.5, 'epsilon': 0.5},
    'label-smoothing': {'epsilon': 0.1},
    'ldi': {'alpha': 0.5, 'xi': 0.5, 'power': 2},
    'elodi': {'alpha': 0.3, 'xi': 0.0, 'power': 2},
    'focal-distill': {'lambda': 0.1, 'alpha': 1.0, 'beta': 5.0},
    'ensemble': {},
}
USES_BASE = {'distill', 'anchor', 'ldi', 'focal-distill'}
USES_ENSEMBLE = {'elodi', 'ensemble'}
DEFAULT_MEMBERS = 8  # src/methods/ensemble.ts DEFAULT_ENSEMBLE_MEMBERS


def mlp(d, hidden, k, dropout):
    layers, width = [], d
    for h in hidden:
        lin = nn.Linear(width, h)
        nn.init.xavier_uniform_(lin.weight)  # Glorot uniform, zero biases (src/models/build.ts)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = h
    out = nn.Linear(width, k)
    nn.init.xavier_uniform_(out.weight)
    nn.init.zeros_(out.bias)
    return nn.Sequential(*layers, out)


def soft_ce(target, logits):
    return -(target * F.log_softmax(logits, -1)).sum(-1)


def centred_diff(z, ref):
    diff = z - ref
    return diff - diff.mean(-1, keepdim=True)


def ldi_term(z_inf, ref, onehot, xi, power):
    """LDI, two-sided, every class but the true one, on centred logits (src/engine/logitDifference.ts)."""
    d = F.relu(centred_diff(z_inf, ref).abs() - xi)
    mask = 1 - onehot
    return (mask * d.pow(power)).sum(-1) / mask.sum(-1)


def objective(spec, k):
    """Per-example loss(z_train, z_inference or None, ref or None, y, onehot); needs_inference flag."""
    name = spec['method']
    p = {**DEFAULTS[name], **{a: b for a, b in spec.items() if a not in ('method', 'reference')}}
    if name == 'plain':
        return (lambda z, zi, ref, y, oh: soft_ce(oh, z)), False
    if name == 'distill':
        lam = p['lambda']
        return (lambda z, zi, ref, y, oh: soft_ce(lam * F.softmax(ref, -1) + (1 - lam) * oh, z)), False
    if name == 'anchor':
        a, e = p['alpha'], p['epsilon']

        def anchor(z, zi, ref, y, oh):
            right = (ref.argmax(-1) == y).unsqueeze(1)
            return soft_ce(torch.where(right, a * F.softmax(ref, -1) + (1 - a) * oh, e * oh), z)
        return anchor, False
    if name == 'label-smoothing':
        e = p['epsilon']
        return (lambda z, zi, ref, y, oh: soft_ce((1 - e) * oh + e / k, z)), False
    if name in ('ldi', 'elodi'):
        a, xi, pw = p['alpha'], p['xi'], p['power']
        return (lambda z, zi, ref, y, oh: (1 - a) * soft_ce(oh, z) + a * ldi_term(zi, ref, oh, xi, pw)), True
    if name == 'focal-distill':
        lam, a, b = p['lambda'], p['alpha'], p['beta']

        def focal(z, zi, ref, y, oh):
            w = a + b * (ref.argmax(-1) == y).float()
            return soft_ce(oh, z) + lam * w * centred_diff(zi, ref).pow(2).mean(-1)
        return focal, True
    raise SystemExit(f'torch_mainjob: unknown method {name!r}')


def logits_of(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)


def improves(monitor, loss, accuracy, best_loss, best_accuracy):
    """src/train/earlyStopping.ts: a lower validation loss; or ('accuracy') a higher validation
    accuracy, or the same accuracy at a lower loss."""
    if monitor == 'loss':
        return loss < best_loss
    return accuracy > best_accuracy or (accuracy == best_accuracy and loss < best_loss)


def fit(seed, x, y, val, training, arch, k, loss_fn=None, needs_inference=False, ref=None, adam_eps=1e-7):
    """src/train/trainer.ts + earlyStopping.ts: a fresh permutation per epoch, the last partial batch
    kept, validation cross entropy (and accuracy) after every epoch, stop after `patience` epochs
    without an improvement of training['monitor'] (default 'loss'), the best epoch's weights restored. Adam with tfjs's epsilon, 1e-7 (torch's default is 1e-8)."""
    torch.manual_seed(seed)
    model = mlp(x.shape[1], arch['hidden'], k, arch.get('dropout', 0))
    opt = torch.optim.Adam(model.parameters(), lr=training['learningRate'], eps=adam_eps)
    n, bs = x.shape[0], min(training['batchSize'], x.shape[0])
    onehot = F.one_hot(y, k).float()
    loss_fn = loss_fn or (lambda z, zi, r, yy, oh: soft_ce(oh, z))
    vx, vy = val
    best, best_accuracy, best_epoch, best_state, epochs, steps = math.inf, -math.inf, 0, None, 0, 0
    patience, monitor = training.get('patience', 0), training.get('monitor', 'loss')
    for epoch in range(1, training['epochs'] + 1):
        model.train()
        order = torch.randperm(n)
        loss_sum = 0.0
        for s in range(0, n, bs):
            idx = order[s:s + bs]
            xb = x[idx]
            z = model(xb)
            zi = None
            if needs_inference:  # a second, dropout-free forward pass with gradient (as Distillery)
                model.eval()
                zi = model(xb)
                model.train()
            loss = loss_fn(z, zi, None if ref is None else ref[idx], y[idx], onehot[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            steps += 1
        epochs = epoch
        vz = logits_of(model, vx)  # after every epoch, as Distillery's trainer, with or without early stopping
        vl, va = F.cross_entropy(vz, vy).item(), (vz.argmax(-1) == vy).float().mean().item()
        if patience:
            if improves(monitor, vl, va, best, best_accuracy):
                best, best_accuracy, best_epoch = vl, va, epoch
                best_state = {a: b.clone() for a, b in model.state_dict().items()}
            elif epoch - best_epoch >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, epochs, steps


def load(dirname, part, d):
    x = np.fromfile(os.path.join(dirname, f'{part}.x.f32'), dtype=np.float32).reshape(-1, d)
    y = np.fromfile(os.path.join(dirname, f'{part}.y.i32'), dtype=np.int32)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


def trial(seed, data_dir, manifest, methods):
    d, k = manifest['features'], manifest['classes']
    training, arch = manifest['training'], manifest['model']
    dirname = os.path.join(data_dir, f'seed-{seed}')
    xi, yi = load(dirname, 'initial', d)
    val = load(dirname, 'validation', d)
    xn, yn = load(dirname, 'newBatch', d)
    xt, yt = load(dirname, 'test', d)
    xu, yu = torch.cat([xi, xn]), torch.cat([yi, yn])
    runs = []  # (what, epochs, steps)
    base, e, s = fit(seed, xi, yi, val, training, arch, k)
    runs.append(('base', e, s))
    base_pred = logits_of(base, xt).argmax(-1)
    base_ref = logits_of(base, xu)
    ensembles = {}
    rows = []
    for spec in methods:
        name = spec['method']
        ref = base_ref if name in USES_BASE else None
        if name in USES_ENSEMBLE:
            m = spec.get('reference', {}).get('members', DEFAULT_MEMBERS)
            if m not in ensembles:
                members = []
                for j in range(m):  # src/methods/ensemble.ts: seed·1000 + 100 + j
                    mm, e, s = fit(seed * 1000 + 100 + j, xu, yu, val, training, arch, k)
                    runs.append((f'ensemble member {j + 1}/{m}', e, s))
                    members.append(mm)
                ensembles[m] = (members, torch.stack([logits_of(mm, xu) for mm in members]).mean(0))
            members, ref = ensembles[m]
        if name == 'ensemble':
            pred = torch.stack([logits_of(mm, xt) for mm in members]).mean(0).argmax(-1)
            epochs = 0
        else:
            loss_fn, needs_inference = objective(spec, k)
            model, epochs, s = fit(seed * 1000 + 1, xu, yu, val, training, arch, k, loss_fn, needs_inference, ref)
            runs.append((name, epochs, s))
            pred = logits_of(model, xt).argmax(-1)
        rows.append({'seed': seed, 'method': spec, 'epochsRun': epochs,
                     'accuracy': (pred == yt).float().mean().item(), 'churn': (pred != base_pred).float().mean().item()})
    return rows, runs


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True, help='directory written by bench/export-mainjob-data.ts')
    p.add_argument('--seeds', help='comma-separated seeds (default: the manifest\'s)')
    p.add_argument('--methods', required=True, help='JSON list of method entries, as in the experiment config')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    with open(os.path.join(a.data, 'manifest.json')) as f:
        manifest = json.load(f)
    seeds = [int(s) for s in a.seeds.split(',')] if a.seeds else manifest['seeds']
    methods = [{'method': m} if isinstance(m, str) else m for m in json.loads(a.methods)]
    rows, runs = [], []
    for seed in seeds:
        r, ru = trial(seed, a.data, manifest, methods)
        rows += r
        runs += ru
    summary = []
    for i, spec in enumerate(methods):
        mine = rows[i::len(methods)]
        summary.append({'method': spec, 'accuracy': float(np.mean([r['accuracy'] for r in mine])),
                        'churn': float(np.mean([r['churn'] for r in mine])), 'epochs': sum(r['epochsRun'] for r in mine)})
    print(json.dumps({
        'engine': 'pytorch', 'version': torch.__version__, 'threads': a.threads, 'seeds': seeds,
        'seconds': time.perf_counter() - t0, 'cpuSeconds': time.process_time() - c0,
        'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'modelsTrained': len(runs), 'totalEpochs': sum(e for _, e, _ in runs), 'totalSteps': sum(s for _, _, s in runs),
        'summary': summary, 'trials': rows,
    }))


if __name__ == '__main__':
    main()
