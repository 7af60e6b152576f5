import { Command } from 'commander';
import { loadCore } from '../load-core.js';
import { createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, walkOptionsFrom, type HashOptions, type ModelOptions } from './common.js';

/** `model-signing digest MODEL`: the root digest a signature's subject would carry. */
export function digestCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('digest')
    .description("Print the model's digest (sha256:<root>), the subject digest a signature would carry")
    .argument('<model>', 'model directory or single model file');
  addModelOptions(cmd);
  addHashOptions(cmd);
  cmd.addHelpText('after', '\nExample:\n  $ model-signing digest ./my-model\n  sha256:5a6c…');
  return cmd.action(async (model: string, opts: ModelOptions & HashOptions) => {
    const reporter = createReporter(opts.json);
    const progress = hashProgressBar('Hashing', opts.progress && !opts.json);
    try {
      const { hashModel, rootDigest } = await loadCore();
      const manifest = await hashModel({
        ...(await walkOptionsFrom(model, opts)),
        method: opts.method,
        hashAlgorithm: opts.hash,
        shardSize: opts.shardSize,
        ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
      });
      progress.stop();
      const digest = `sha256:${rootDigest(manifest.resources)}`;
      reporter.success(digest, { digest, model: manifest.modelName, resources: manifest.resources, serialization: manifest.serialization });
      setExitCode(0);
    } catch (err) {
      progress.stop();
      setExitCode(reportFailure(err, 'Digest', opts.json));
    }
  });
}
