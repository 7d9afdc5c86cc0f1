import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

/** Every command of the tree, with its path ("distillery update"). */
function commands(cmd: Command, path = cmd.name()): [string, Command][] {
  return [[path, cmd], ...cmd.commands.flatMap((c) => commands(c, `${path} ${c.name()}`))];
}

/** The help line of an option as `--help` prints it (description plus commander's own "(default: …)"). */
function helpOf(cmd: Command, option: Option): string {
  return cmd.createHelp().optionDescription(option);
}

test('every --help shows each default once: per method of a shared flag, and never both in the text and as commander\'s default', () => {
  const problems: string[] = [];
  for (const [path, cmd] of commands(buildProgram())) {
    for (const option of cmd.options) {
      const help = helpOf(cmd, option);
      // a flag shared by several methods names each method's default in its own "method: …" part
      for (const part of help.split(/; (?=[a-z-]+: )/)) {
        const count = (part.match(/\(default[ :]/g) ?? []).length;
        if (count > 1) problems.push(`${path} ${option.flags}: ${part}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('a flag that does not apply is an error naming it, never ignored', async () => {
  const { runCliHere } = await import('../helpers/cli.js');
  const { scratchDir } = await import('../helpers/scratch.js');
  // paths that exist, so that the up-front checks of --base and --model-config pass (src/cli/pathOptions.ts)
  const { dir: b, file } = scratchDir('distillery-help-');
  const modelConfig = file('x.yaml', 'kind: mlp\n');
  const cases: Array<[string[], RegExp]> = [
    [['update', '--base', b, '--data', 'letter', '--out', '/tmp/never', '--method', 'plain', '--lambda', '0.3'], /^distillery: --lambda: does not apply to --method plain\n$/],
    [['update', '--base', b, '--data', 'letter', '--out', '/tmp/never', '--method', 'plain', '--jobs', '2'], /^distillery: --jobs: does not apply to --method plain \(it has no teacher\)\n$/],
    [['train', '--data', 'letter', '--out', '/tmp/never', '--model-config', modelConfig, '--hidden', '8'], /^distillery: --hidden: does not apply with --model-config \(the file gives the whole architecture\)\n$/],
    [['train', '--data', 'letter', '--out', '/tmp/never', '--patience', '0', '--monitor', 'accuracy'], /^distillery: --monitor: does not apply with --patience 0 \(early stopping is off\)\n$/],
    [['train', '--data', 'letter', '--out', '/tmp/never', '--no-header'], /^distillery: --no-header: applies to CSV\/TSV files only, not the built-in dataset letter\n$/],
  ];
  for (const [args, re] of cases) {
    const r = await runCliHere(['-q', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('demo --help lists the demo\'s methods from its config through the registry', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { DEMO_CONFIG_PATH } = await import('../../src/cli/commands/experiment.js');
  const { describeMethod, METHOD_NAMES } = await import('../../src/methods/registry.js');
  const { normaliseMethod } = await import('../../src/experiments/config.js');
  const demo = buildProgram().commands.find((c) => c.name() === 'demo')!;
  let help = '';
  demo.configureOutput({ writeOut: (s) => (help += s) });
  demo.outputHelp();
  const entries = (parse(readFileSync(DEMO_CONFIG_PATH, 'utf8')) as { methods: Parameters<typeof normaliseMethod>[0][] }).methods;
  const labels = entries.map((m) => describeMethod(normaliseMethod(m)));
  assert.ok(labels.length >= 10, 'the demo runs ten methods');
  const line = help.split('\n').find((l) => l.startsWith('The update methods'));
  assert.equal(line, `The update methods (${labels.length}, from configs/letter-update.yaml): ${labels.join(', ')}.`);
  for (const name of new Set(entries.map((m) => normaliseMethod(m).method))) assert.ok(METHOD_NAMES.includes(name));
  assert.doesNotMatch(help, /\(plain, distillation at several λ, anchor, label smoothing\)/);
});
