import { Command, Option } from 'commander';
import { loadModel } from '../../models/io.js';
import { exportOnnx, ONNX_PRODUCER } from '../../models/onnxExport.js';
import { fileSignature, writeFileAtomic, type OutputTarget } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';

interface ExportFlags extends OutputFlags {
  model: string;
  format: 'onnx';
  out: string;
}

/** An ONNX file as an output: Distillery's when its producer (the second field) is Distillery. */
function onnxOutput(file: string): OutputTarget {
  return { path: file, type: 'file', what: 'model file (ONNX)', flag: '--out', isOurs: fileSignature(new RegExp(`^\\x08[\\s\\S]\\x12${String.fromCharCode(ONNX_PRODUCER.length).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}${ONNX_PRODUCER}`)) };
}

export function exportCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('export')
    .description('write a trained network (mlp or cnn family) as an ONNX file for onnxruntime and other runtimes')
    .requiredOption('--model <dir>', 'model directory from train or update')
    .addOption(new Option('--format <format>', 'output format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'file to write, e.g. v2.onnx (written atomically; an existing file is replaced only if Distillery exported it)');
  addOutputOptions(cmd, { resumable: false });
  cmd.addHelpText('after', '\nThe ONNX file takes float32 features [batch, …] (after the model\'s preprocessing, which it carries in its metadata; see docs/onnx.md) and returns logits.\n\nExample:\n  distillery export --model models/v2 --format onnx --out v2.onnx\n');
  return cmd.action(async (flags: ExportFlags) => {
    const ctx = await createContext(globals());
    await checkOutputs([onnxOutput(flags.out)], flags);
    const trained = await loadModel(flags.model);
    try {
      await writeFileAtomic(flags.out, exportOnnx(trained));
    } finally {
      trained.model.dispose();
    }
    ctx.out(`wrote ${flags.out} (${trained.meta.architecture.kind}, ${trained.meta.classNames.length} classes, ONNX opset 13)`);
  });
}
