import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { loadModel } from '../../models/io.js';
import { isOnnxPath } from '../../models/onnx.js';
import { exportOnnx, ONNX_OPSET, ONNX_PRODUCER } from '../../models/onnxExport.js';
import { averagedModel, isEnsembleDir, loadEnsemble } from '../../models/ensemble.js';
import { TREE_JSON } from '../../models/classifier.js';
import type { TrainedModel } from '../../models/types.js';
import { InputError } from '../../util/errors.js';
import { fileSignature, writeFileAtomic, type OutputTarget } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

interface ExportFlags extends OutputFlags {
  model: string;
  format: 'onnx';
  out: string;
  member?: number;
}

/** An ONNX file as an output: Distillery's when its producer (the second field) is Distillery. */
function onnxOutput(file: string): OutputTarget {
  return { path: file, type: 'file', what: 'model file (ONNX)', flag: '--out', isOurs: fileSignature(new RegExp(`^\\x08[\\s\\S]\\x12${String.fromCharCode(ONNX_PRODUCER.length).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}${ONNX_PRODUCER}`)) };
}

const exists = (p: string) => fs.stat(p).then(() => true, () => false);

/** What to export: a model directory, an ensemble directory averaged as one network, or one of its members. */
async function loadExported(flags: ExportFlags): Promise<{ trained: TrainedModel; dispose(): void; what: string }> {
  const dir = flags.model;
  if (isOnnxPath(dir)) throw new InputError('--model', `${dir} is already an ONNX model`);
  if (await isEnsembleDir(dir)) {
    const { members } = await loadEnsemble(dir);
    const disposeAll = () => members.forEach((m) => m.model.dispose());
    if (flags.member !== undefined) {
      if (flags.member > members.length) {
        disposeAll();
        throw new InputError('--member', `${flags.member} is outside [1, ${members.length}]: ${dir} has ${members.length} members`);
      }
      return { trained: members[flags.member - 1], dispose: disposeAll, what: `member ${flags.member} of the ensemble ${dir}` };
    }
    const first = members[0].meta;
    const model = averagedModel(members);
    const trained = { model, meta: { ...first, id: undefined, recipe: { ...first.recipe, method: 'ensemble', params: { members: members.length } } } };
    return { trained, dispose: disposeAll, what: `the ensemble ${dir} as one graph (the mean of its ${members.length} members' logits)` };
  }
  if (flags.member !== undefined) throw new InputError('--member', `${dir} is not an ensemble directory`);
  if (await exists(path.join(dir, TREE_JSON))) throw new InputError('--model', `${dir} is a decision tree: ONNX export covers networks`);
  const trained = await loadModel(dir);
  return { trained, dispose: () => trained.model.dispose(), what: dir };
}

export function exportCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('export')
    .description('write a trained network (mlp, cnn, layers, or an ensemble directory) as an ONNX file for onnxruntime and other runtimes')
    .addOption(pathOption('--model <dir>', 'model directory from train or update, or an ensemble directory (exported as one graph averaging its members)', PATH_KINDS.model, { required: true }))
    .addOption(new Option('--format <format>', 'output format').choices(['onnx']).default('onnx'))
    .option('--member <n>', 'export member n (1-based) of an ensemble directory instead of the whole ensemble', parseInteger('member', 1))
    .addOption(pathOption('--out <file>', 'file to write, e.g. v2.onnx (written atomically; an existing file is replaced only if Distillery exported it)', PATH_KINDS.outputFile, { required: true, output: onnxOutput }));
  addOutputOptions(cmd, { resumable: false });
  cmd.addHelpText(
    'after',
    "\nThe ONNX file takes float32 features [batch, …] (after the model's preprocessing, which it carries in its metadata; see docs/onnx.md) and returns logits. Images are NHWC, or NCHW for a model updated from an NCHW ONNX file (the same input and output names and layout as that file).\n\nExample:\n  distillery export --model models/v2 --format onnx --out v2.onnx\n",
  );
  return cmd.action(async (flags: ExportFlags) => {
    const ctx = await createContext(globals());
    await checkOutputs([onnxOutput(flags.out)], flags);
    const { trained, dispose, what } = await loadExported(flags);
    try {
      await writeFileAtomic(flags.out, exportOnnx(trained, { source: '--model' }));
    } finally {
      dispose();
    }
    const layout = trained.meta.onnxInterface?.layout === 'nchw' && trained.meta.inputShape.length === 3 ? ', NCHW input' : '';
    ctx.out(`wrote ${flags.out}: ${what} (${trained.meta.architecture.kind}, ${trained.meta.classNames.length} classes${layout}, ONNX opset ${ONNX_OPSET})`);
  });
}
