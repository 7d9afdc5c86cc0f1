import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addMethodOptions, methodFromFlags } from '../../src/cli/methodOptions.js';

/** The method spec `update` would build from these arguments (commander parsing, no process). */
function specFrom(args: string[]) {
  const cmd = addMethodOptions(new Command('update').exitOverride().configureOutput({ writeErr: () => {} }), 'distill');
  cmd.parse(args, { from: 'user' });
  return methodFromFlags(cmd.opts() as Record<string, unknown> & { method: string });
}

test('ELODI, LDI and focal-distillation flags: defaults, switches, choices', () => {
  assert.deepEqual(specFrom(['--method', 'elodi']), { method: 'elodi', alpha: 0.8, xi: 1, power: 2, topK: 0, oneSided: true, relativeMargin: false });
  assert.deepEqual(specFrom(['--method', 'ldi']), { method: 'ldi', alpha: 0.5, xi: 0.5, power: 2, topK: 0, oneSided: false, relativeMargin: false });
  assert.deepEqual(specFrom(['--method', 'ldi', '--one-sided', '--top-k', '5', '--xi', '1']), { method: 'ldi', alpha: 0.5, xi: 1, power: 2, topK: 5, oneSided: true, relativeMargin: false });
  assert.equal((specFrom(['--method', 'elodi', '--no-one-sided']) as { oneSided: boolean }).oneSided, false);
  assert.deepEqual(specFrom(['--method', 'focal-distill']), { method: 'focal-distill', lambda: 0.1, alpha: 1, beta: 5, temperature: 100, divergence: 'lm', filter: 'old-correct' });
  assert.deepEqual(specFrom(['--method', 'focal-distill', '--divergence', 'kl', '--focus', 'negative-flip', '--alpha', '2']), {
    method: 'focal-distill', lambda: 0.1, alpha: 2, beta: 5, temperature: 100, divergence: 'kl', filter: 'negative-flip',
  });
});

test('out-of-range ELODI parameters name their flag', () => {
  assert.throws(() => specFrom(['--method', 'elodi', '--xi', '-0.5']), /--xi/);
  assert.throws(() => specFrom(['--method', 'ldi', '--power', '0']), /--power/);
  assert.throws(() => specFrom(['--method', 'ldi', '--alpha', '1.5']), /--alpha/);
  assert.throws(() => specFrom(['--method', 'ldi', '--top-k', '2.5']), /--top-k/);
  assert.throws(() => specFrom(['--method', 'focal-distill', '--beta', '-1']), /--beta/);
  assert.throws(() => specFrom(['--method', 'focal-distill', '--focus', 'sometimes']), /sometimes/);
  assert.throws(() => specFrom(['--method', 'ldi', '--beta', '1']), /--beta: does not apply to --method ldi/);
  assert.throws(() => specFrom(['--method', 'distill', '--one-sided']), /--one-sided: does not apply to --method distill/);
});
