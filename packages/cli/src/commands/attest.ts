import fs from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { loadCore, loadCoreInternals, loadCoreNeutralInternals } from '../load-core.js';
import { UsageError, createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, walkOptionsFrom, type HashOptions, type ModelOptions } from './common.js';
import { addSignerOptions, createSigner, type SignCommandMethod, type SignerCliOptions } from './signers.js';

/** The largest predicate or model card file read: far above any real one, and bounded. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

interface PredicateCliOptions {
  modelCard?: string;
  eval?: string;
  provenance?: string;
  dataset: string[];
  predicateType?: string;
  predicate?: string;
}

type AttestOptions = ModelOptions & HashOptions & SignerCliOptions & PredicateCliOptions & { signature: string };

/** Reads an input file, bounded. */
async function readInput(file: string): Promise<string> {
  const { ModelSigningError } = await loadCore();
  const handle = await fs.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0)).catch((cause: Error) => {
    throw new ModelSigningError({ code: 'NOT_FOUND', path: file, cause, message: `'${file}' cannot be read: ${cause.message}` });
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ModelSigningError({ code: 'SPECIAL_FILE', path: file, message: `'${file}' is not a regular file` });
    if (stats.size > MAX_INPUT_BYTES) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        path: file,
        message: `'${file}' is ${stats.size} bytes, over the ${MAX_INPUT_BYTES}-byte limit`,
      });
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Reads a JSON predicate file. */
async function readJson(file: string): Promise<unknown> {
  const text = await readInput(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const { ModelSigningError } = await loadCore();
    throw new ModelSigningError({
      code: 'PREDICATE_INVALID',
      path: file,
      cause,
      message: `'${file}' is not JSON: ${(cause as Error).message}`,
    });
  }
}

/** The predicate the options name, read, converted and checked; nothing is signed yet. */
async function predicateFrom(model: string, opts: AttestOptions): Promise<{ predicateType: string; predicate: unknown; what: string }> {
  const core = await loadCore();
  const internals = await loadCoreNeutralInternals();
  const chosen = [opts.modelCard, opts.eval, opts.provenance, opts.predicate].filter((o) => o !== undefined).length;
  if (chosen !== 1)
    throw new UsageError('name exactly one claim: --model-card, --eval, --provenance, or --predicate-type with --predicate');
  if ((opts.predicateType === undefined) !== (opts.predicate === undefined))
    throw new UsageError('--predicate-type and --predicate go together');
  if (opts.dataset.length > 0 && opts.provenance === undefined) throw new UsageError('--dataset adds inputs to --provenance');
  if (opts.modelCard !== undefined) {
    // A .json file is a CycloneDX model card; anything else a Hugging Face README.md.
    const predicate = opts.modelCard.endsWith('.json')
      ? await readJson(opts.modelCard)
      : await core.modelCardFromReadme(await readInput(opts.modelCard), { name: path.basename(path.resolve(model)) });
    await internals.validateModelCard(predicate);
    return { predicateType: core.CYCLONEDX_PREDICATE_TYPE, predicate, what: 'model card' };
  }
  if (opts.eval !== undefined)
    return { predicateType: core.TEST_RESULT_PREDICATE_TYPE, predicate: await readJson(opts.eval), what: 'test result' };
  if (opts.provenance !== undefined) {
    let predicate = await readJson(opts.provenance);
    if (opts.dataset.length > 0) {
      if (typeof predicate !== 'object' || predicate === null || Array.isArray(predicate)) {
        throw new core.ModelSigningError({ code: 'PREDICATE_INVALID', message: 'The SLSA provenance must be a JSON object' });
      }
      const { subjectDigest } = await loadCoreInternals();
      const datasets = [];
      for (const dataset of opts.dataset) {
        // A dataset is a directory of files, digested exactly as a model is signed.
        const manifest = await core.hashModel({ modelPath: dataset, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
        datasets.push(internals.datasetDependency({ name: manifest.modelName, rootDigest: subjectDigest(manifest) }));
      }
      predicate = internals.withResolvedDependencies(predicate as Record<string, unknown>, datasets);
    }
    return { predicateType: core.SLSA_PROVENANCE_PREDICATE_TYPE, predicate, what: 'SLSA provenance' };
  }
  return { predicateType: opts.predicateType!, predicate: await readJson(opts.predicate!), what: 'claim' };
}

async function runAttest(method: SignCommandMethod, model: string, opts: AttestOptions): Promise<number> {
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Hashing', opts.progress && !opts.json);
  try {
    const core = await loadCore();
    const { predicateType, predicate, what } = await predicateFrom(model, opts);
    // Checked before the signer is made: a Sigstore sign-in or a PIN is not asked for a claim that would be refused.
    await (await loadCoreNeutralInternals()).predicateTypeFor(predicateType).validate(predicate);
    const signer = await createSigner(method, opts);
    const result = await core.attest({
      ...(await walkOptionsFrom(model, opts)),
      method: opts.method,
      hashAlgorithm: opts.hash,
      shardSize: opts.shardSize,
      claimsPath: opts.signature,
      signer,
      predicateType,
      predicate,
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    progress.stop();
    const digest = `sha256:${result.rootDigest}`;
    reporter.success(
      `Attested: ${result.created ? 'created' : 'appended to'} ${opts.signature} with a ${what} <${predicateType}> about ${result.modelName} (${digest})`,
      {
        claims: opts.signature,
        created: result.created,
        predicateType,
        method: signer.method,
        model: result.modelName,
        digest,
      },
    );
    return 0;
  } catch (err) {
    progress.stop();
    return reportFailure(err, 'Attesting', opts.json);
  }
}

const METHODS: Record<SignCommandMethod, string> = {
  sigstore: 'Sign the claim keyless with Sigstore (an OIDC identity)',
  key: 'Sign the claim with an elliptic-curve private key (a PEM file or an AWS KMS key)',
  certificate: 'Sign the claim with a private key and its X.509 certificate',
  'pkcs11-key': 'Sign the claim with a key on a PKCS#11 token',
  'pkcs11-certificate': 'Sign the claim with a key on a PKCS#11 token and its X.509 certificate',
};

const EXAMPLES = `
Examples:
  $ model-signing attest key ./my-model --private-key owner.pem --model-card ./my-model/README.md
  $ model-signing attest key ./my-model --private-key evaluator.pem --eval results.json
  $ model-signing attest sigstore ./my-model --use-ambient-credentials --provenance slsa.json --dataset ./my-dataset
  $ model-signing attest key ./my-model --private-key k.pem \\
      --predicate-type https://example.com/safety-review/v1 --predicate review.json

Claims are appended to claims.jsonl (--signature), one signed line each, about the
model's root digest as signing computes it: pass the hashing options the model was
signed with (--method, --hash, --shard-size). --model-card takes a Hugging Face
README.md (its front matter becomes a CycloneDX 1.6 model card) or a CycloneDX .json;
--eval an in-toto test-result v0.1; --provenance a SLSA provenance v1, to which each
--dataset directory is added as an input named by its own root digest. Every
predicate is checked against its schema before anything is signed.`;

/** `model-signing attest <method> MODEL`. */
export function attestCommands(setExitCode: (code: number) => void): Command {
  const attest = new Command('attest')
    .description('Sign a claim about a model (model card, evaluation, provenance, any predicate) and append it to claims.jsonl')
    .addHelpText('after', EXAMPLES);
  for (const method of ['sigstore', 'key', 'certificate', 'pkcs11-key', 'pkcs11-certificate'] as const) {
    const cmd = new Command(method).description(METHODS[method]).argument('<model>', 'model directory or single model file');
    cmd
      .option('--signature <path>', 'the claims file to append to (JSON Lines, .jsonl)', 'claims.jsonl')
      .option('--model-card <file>', 'a Hugging Face README.md, or a CycloneDX 1.6 model card (.json)')
      .option('--eval <file>', 'evaluation results: an in-toto test-result v0.1 predicate (JSON)')
      .option('--provenance <file>', 'training provenance: a SLSA provenance v1 predicate (JSON)')
      .option(
        '--dataset <dir>',
        'with --provenance: a dataset directory, added as an input by its root digest; repeatable',
        (v: string, p: string[]) => [...p, v],
        [],
      )
      .option('--predicate-type <uri>', 'any other claim: its predicate type URI (with --predicate)')
      .option('--predicate <file>', 'any other claim: its predicate (JSON object)');
    addModelOptions(cmd);
    addHashOptions(cmd);
    addSignerOptions(cmd, method);
    cmd.addHelpText('after', EXAMPLES);
    cmd.action(async (model: string, opts: AttestOptions) => setExitCode(await runAttest(method, model, opts)));
    attest.addCommand(cmd);
  }
  return attest;
}
