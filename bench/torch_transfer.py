"""PyTorch 1.13 twin of bench/transfer-chain-run.ts (Distillery's fixed transfer chain), for
bench/transferChain.ts. Reads the rows Distillery itself prepared (transfer-chain-run.ts --export)
and, per seed: trains the teacher with cross entropy; then each hop of the chain, teacher ->
intermediate(s) -> student, with knowledge distillation from the previous model,
(1-a)*CE(y, z) + a*T^2*KL(softmax(z_t/T) || softmax(z/T)) (src/objectives/targetObjectives.ts), the hop
teacher's logits on the training rows computed once (eval mode, no gradient); every model with
Adam, the manifest's batch, epochs and early stopping (src/train/*.ts, via torch_mainjob.fit);
then every model's test accuracy. Prints one JSON line.

    python3 bench/torch_transfer.py --data /tmp/dir --threads 1
"""
import argparse
import json
import os
import resource
import time

import torch
import torch.nn.functional as F

from torch_mainjob import fit, load, logits_of, soft_ce

# tfjs's Adam takes the backend's epsilon, 1e-7 in float32 (torch's default is 1e-8)
TFJS_ADAM_EPSILON = 1e-7


def kd_loss(alpha, temperature):
    def loss(z, zi, ref, y, onehot):
        kl = F.kl_div(F.log_softmax(z / temperature, -1), F.log_softmax(ref / temperature, -1), reduction='none', log_target=True).sum(-1)
        return (1 - alpha) * soft_ce(onehot, z) + alpha * temperature * temperature * kl
    return loss


def describe(arch):
    """src/methods/transfer/students.ts describeArchitecture, for MLPs."""
    return 'logreg' if not arch['hidden'] else 'mlp ' + '-'.join(str(w) for w in arch['hidden'])


def accuracy(model, x, y):
    return (logits_of(model, x).argmax(-1) == y).float().mean().item()


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def chain_model_seed(seed, depth):
    """src/methods/transfer/chain.ts chainModelSeed (the PyTorch stream differs; the seed only keeps runs apart)."""
    return seed * 1000 + 1 + depth * 10


def trial(seed, data_dir, manifest):
    d, k = manifest['features'], manifest['classes']
    dirname = os.path.join(data_dir, f'seed-{seed}')
    x, y = load(dirname, 'train', d)
    val = load(dirname, 'validation', d)
    xt, yt = load(dirname, 'test', d)
    steps_per_epoch = -(-x.shape[0] // min(manifest['training']['batchSize'], x.shape[0]))
    teacher_cfg = manifest['teacher']
    model, epochs, steps = fit(seed, x, y, val, teacher_cfg['training'], teacher_cfg['model'], k, adam_eps=TFJS_ADAM_EPSILON)
    models = [{'name': f"teacher {describe(teacher_cfg['model'])}", 'parameters': parameters(model), 'epochs': epochs, 'steps': steps,
               'validationAccuracy': accuracy(model, *val), 'testAccuracy': accuracy(model, xt, yt)}]
    hop = manifest['hop']
    loss_fn = kd_loss(hop['alpha'], hop['temperature'])
    chain = manifest['chain']
    for i, arch in enumerate(chain):
        ref = logits_of(model, x)  # the hop teacher's logits, once per hop
        depth = i + 1 if i < len(chain) - 1 else 0
        model, epochs, steps = fit(chain_model_seed(seed, depth), x, y, val, manifest['training'], arch, k, loss_fn, False, ref, adam_eps=TFJS_ADAM_EPSILON)
        assert steps == epochs * steps_per_epoch
        models.append({'name': describe(arch), 'parameters': parameters(model), 'epochs': epochs, 'steps': steps,
                       'validationAccuracy': accuracy(model, *val), 'testAccuracy': accuracy(model, xt, yt)})
    return {'seed': seed, 'models': models}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True, help='directory written by bench/transfer-chain-run.ts --export')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.data, 'manifest.json')) as f:
        manifest = json.load(f)
    t0 = time.perf_counter()
    trials = [trial(seed, a.data, manifest) for seed in manifest['seeds']]
    train_seconds = time.perf_counter() - t0
    models = [m for t in trials for m in t['models']]
    print(json.dumps({
        'engine': 'pytorch', 'version': torch.__version__, 'threads': a.threads,
        'trainSeconds': train_seconds, 'cpuSeconds': time.process_time(),
        'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'modelsTrained': len(models), 'totalEpochs': sum(m['epochs'] for m in models), 'totalSteps': sum(m['steps'] for m in models),
        'trials': trials,
    }))


if __name__ == '__main__':
    main()
