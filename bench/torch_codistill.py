"""PyTorch 1.13 twin of `distillery codistill` (src/codistill/: launcher, worker, checkpoints in a
directory store), for bench/codistillPair.ts. Reads the rows Distillery itself prepared (the
bench writes them with prepareRunData and shardRows: each worker's disjoint shard and the
validation hold-out) and runs the same protocol (Anil et al. 2018, methods.md §2):

  launcher: starts one worker process per shard (this script with --worker i), waits for them,
  then reads every worker's final checkpoint, measures each worker and the ensemble of all
  (mean probabilities) on validation, the workers' disagreement, saves each worker's model and
  the deliverable (the worker best on validation), and prints one JSON line.

  worker i: the MLP (Glorot uniform weights, zero biases, ReLU, dropout after each hidden layer),
  Adam, a fresh permutation of its shard per epoch with the last partial batch kept, `steps`
  optimizer steps. Task loss CE(onehot(y), z_i) alone for the first B = round(burn_in * steps)
  steps (or while no peer has published); after it CE(onehot(y), z_i) + w * CE(mean_j softmax(z~_j), z_i),
  z~_j from peer j's newest PUBLISHED checkpoint, in inference mode, reloaded at step B and every R
  steps after (src/codistill/worker.ts, not lockstep: the newest there is). Every R steps (and at
  the end) it measures validation accuracy and publishes a checkpoint (weights, optimizer state,
  RNG state, progress) to <store>/worker-i/: the file written, fsynced and renamed into place,
  then its manifest the same way; the two newest kept (as src/codistill/directoryStore.ts).

    python3 bench/torch_codistill.py --data /tmp/dir --out /tmp/run --steps 2000 --sync-every 50 \
        --weight 1 --burn-in 0.4 --batch-size 32 --lr 0.001 --threads 1
"""
import argparse
import io
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time

import torch
import torch.nn.functional as F

from torch_mainjob import load, logits_of, mlp, soft_ce  # the main job's twin: same model, loss, rows

KEEP_VERSIONS = 2
# The run's settings (the flags of `distillery codistill` of the same names), which the launcher passes on to its workers.
SETTINGS = {'steps': (int, 2000), 'sync-every': (int, 50), 'weight': (float, 1.0), 'burn-in': (float, 0.4),
            'batch-size': (int, 32), 'lr': (float, 1e-3), 'threads': (int, 1), 'seed': (int, 1)}


def write_durably(path, data):
    tmp = f'{path}.tmp-{os.getpid()}-{time.time_ns()}'
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def sync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """A directory of checkpoints: <root>/worker-<i>/ckpt-<step>.pt and manifest.json (newest first)."""

    def __init__(self, root):
        self.root = root

    def _dir(self, worker):
        return os.path.join(self.root, f'worker-{worker}')

    def publish(self, worker, step, final, content):
        d = self._dir(worker)
        os.makedirs(d, exist_ok=True)
        buf = io.BytesIO()
        torch.save(content, buf)
        name = f'ckpt-{step}.pt'
        write_durably(os.path.join(d, name), buf.getvalue())
        manifest = self.manifest(worker)
        versions = [{'version': step, 'step': step, 'final': final, 'file': name}] + [v for v in manifest if v['version'] != step]
        write_durably(os.path.join(d, 'manifest.json'), json.dumps({'worker': worker, 'versions': versions[:KEEP_VERSIONS]}).encode())
        sync_dir(d)
        for old in versions[KEEP_VERSIONS:]:
            try:
                os.remove(os.path.join(d, old['file']))
            except FileNotFoundError:
                pass

    def manifest(self, worker):
        try:
            with open(os.path.join(self._dir(worker), 'manifest.json')) as f:
                return json.load(f)['versions']
        except (FileNotFoundError, json.JSONDecodeError):
            return []

    def newest(self, worker):
        m = self.manifest(worker)
        return m[0] if m else None

    def read(self, worker, entry):
        try:
            return torch.load(os.path.join(self._dir(worker), entry['file']))
        except FileNotFoundError:  # replaced by a newer one since the manifest was read
            return None


def worker_main(a, manifest):
    torch.set_num_threads(a.threads)
    i, n = a.worker, manifest['workers']
    d, k, arch = manifest['features'], manifest['classes'], manifest['model']
    x, y = load(a.data, f'shard-{i}', d)
    vx, vy = load(a.data, 'validation', d)
    store = Store(a.store)
    torch.manual_seed(a.seed * 1000 + i)  # independent copies (Distillery: workerSeed(seed, i))
    model = mlp(d, arch['hidden'], k, arch.get('dropout', 0))
    peers = {}  # j -> (version, model)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)  # tfjs's Adam epsilon (torch's default is 1e-8)
    rows, bs = x.shape[0], min(a.batch_size, x.shape[0])
    onehot = F.one_hot(y, k).float()
    steps, R, w = a.steps, a.sync_every, a.weight
    B = math.floor(a.burn_in * steps + 0.5)  # Math.round, as burnInSteps
    curve = []
    t0 = time.perf_counter()

    def reload_peers():
        for j in range(n):
            if j == i:
                continue
            have = peers[j][0] if j in peers else 0
            entry = store.newest(j)
            if entry is None or entry['version'] <= have:
                continue
            content = store.read(j, entry)
            if content is None:
                continue
            pm = peers[j][1] if j in peers else mlp(d, arch['hidden'], k, arch.get('dropout', 0))
            pm.load_state_dict(content['model'])
            pm.eval()
            peers[j] = (entry['version'], pm)

    def checkpoint(step, final, loss):
        acc = (logits_of(model, vx).argmax(-1) == vy).float().mean().item()
        model.train()
        curve.append({'step': step, 'seconds': time.perf_counter() - t0, 'valAccuracy': acc})
        content = {'worker': i, 'step': step, 'final': final, 'model': model.state_dict(),
                   'progress': {'curve': curve, 'seconds': time.perf_counter() - t0}}
        if not final:  # what a restarted worker resumes from
            content['optimizer'] = opt.state_dict()
            content['rng'] = torch.get_rng_state()
        store.publish(i, step, final, content)
        print(json.dumps({'event': 'progress', 'worker': i, 'step': step, 'steps': steps, 'valAccuracy': acc, 'loss': loss,
                          'peers': sorted(peers)}), flush=True)

    step, loss_value, reloaded = 0, float('nan'), False
    model.train()
    while step < steps:
        order = torch.randperm(rows)
        for s in range(0, rows, bs):
            if step >= steps:
                break
            if step >= B and (step == B or step % R == 0 or not reloaded):
                reloaded = True
                reload_peers()
            idx = order[s:s + bs]
            z = model(x[idx])
            loss = soft_ce(onehot[idx], z)
            if step >= B and peers:
                xb = x[idx]
                with torch.no_grad():
                    target = torch.stack([F.softmax(pm(xb), -1) for _, pm in peers.values()]).mean(0)
                loss = loss + w * soft_ce(target, z)
            loss = loss.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_value = loss.item()
            step += 1
            if step % R == 0 and step < steps:
                checkpoint(step, False, loss_value)
    checkpoint(step, True, loss_value)


def launcher_main(a, manifest):
    t0, c0 = time.perf_counter(), time.process_time()
    torch.set_num_threads(a.threads)
    n = manifest['workers']
    store = os.path.join(a.out, 'store')
    os.makedirs(store, exist_ok=True)
    args = ['--data', a.data, '--store', store]
    for name in SETTINGS:
        args += [f'--{name}', str(getattr(a, name.replace('-', '_')))]
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), '--worker', str(i), *args], stdout=subprocess.PIPE, text=True)
             for i in range(n)]
    progress = {}  # worker -> its last progress event, read as the workers print them

    def follow(i, p):
        for line in p.stdout:
            progress[i] = json.loads(line)
    readers = [threading.Thread(target=follow, args=(i, p)) for i, p in enumerate(procs)]
    for r in readers:
        r.start()
    for i, p in enumerate(procs):
        if p.wait() != 0:
            raise SystemExit(f'torch_codistill: worker {i} failed ({p.returncode})')
    for r in readers:
        r.join()
    d, k = manifest['features'], manifest['classes']
    arch = manifest['model']
    vx, vy = load(a.data, 'validation', d)
    s = Store(store)
    workers, preds, prob_sum = [], [], torch.zeros(vx.shape[0], k)
    for i in range(n):
        entry = s.newest(i)
        content = s.read(i, entry)
        if not (content and content['final']):
            raise SystemExit(f'torch_codistill: worker {i} has no final checkpoint')
        model = mlp(d, arch['hidden'], k, arch.get('dropout', 0))
        model.load_state_dict(content['model'])
        logits = logits_of(model, vx)
        pred = logits.argmax(-1)
        preds.append(pred)
        prob_sum += F.softmax(logits, -1)
        os.makedirs(os.path.join(a.out, f'worker-{i}'), exist_ok=True)
        torch.save(model.state_dict(), os.path.join(a.out, f'worker-{i}', 'model.pt'))
        workers.append({'worker': i, 'steps': content['step'], 'shardRows': manifest['shards'][i],
                        'valAccuracy': (pred == vy).float().mean().item(),
                        'trainingSeconds': content['progress']['seconds'], 'curve': content['progress']['curve'],
                        'peers': progress[i]['peers']})  # the peers in its codistillation term at the end
    best = max(workers, key=lambda r: r['valAccuracy'])
    os.makedirs(os.path.join(a.out, 'deliverable'), exist_ok=True)
    torch.save(torch.load(os.path.join(a.out, f"worker-{best['worker']}", 'model.pt')), os.path.join(a.out, 'deliverable', 'model.pt'))
    pairs = [(x, y) for x in range(n) for y in range(x + 1, n)]
    result = {
        'engine': 'pytorch', 'version': torch.__version__, 'threads': a.threads,
        'workers': workers,
        'deliverable': {'worker': best['worker'], 'valAccuracy': best['valAccuracy']},
        'ensemble': {'members': n, 'valAccuracy': (prob_sum.argmax(-1) == vy).float().mean().item()},
        'meanPairwiseDisagreement': sum((preds[x] != preds[y]).float().mean().item() for x, y in pairs) / len(pairs),
        'seconds': time.perf_counter() - t0,
        'launcherCpuSeconds': time.process_time() - c0,
        'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    with open(os.path.join(a.out, 'codistill.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True, help='directory written by bench/codistillPair.ts (manifest.json, shard-<i>.*, validation.*)')
    p.add_argument('--out', help='run directory (launcher): store/, worker-<i>/, deliverable/, codistill.json')
    p.add_argument('--worker', type=int, help='run worker i (started by the launcher)')
    p.add_argument('--store', help='checkpoint directory (worker)')
    for name, (kind, default) in SETTINGS.items():
        p.add_argument(f'--{name}', type=kind, default=default)
    a = p.parse_args()
    with open(os.path.join(a.data, 'manifest.json')) as f:
        manifest = json.load(f)
    if a.worker is None:
        if not a.out:
            raise SystemExit('torch_codistill: --out <dir> is required')
        launcher_main(a, manifest)
    else:
        worker_main(a, manifest)


if __name__ == '__main__':
    main()
