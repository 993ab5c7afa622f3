#!/usr/bin/env node
/*! craft-text | MIT */
// The craft-text CLI: a dispatcher over subcommands. Usage errors exit with 2, failures with 1.
import { printable, UsageError } from './args';
import { CONVERT_USAGE, runConvert } from './convert';
import { BENCH_USAGE, runBench } from './bench';
import { DETECT_USAGE, runDetect } from './detect';
import { EVAL_USAGE, runEval } from './eval';
import { QUANTIZE_USAGE, runQuantize } from './quantize';
import { READ_USAGE, runRead } from './read';
import { TUNE_USAGE, runTune } from './tune';
import { WORKER_USAGE, runWorker } from './worker';

type Command = { usage: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  detect: { usage: DETECT_USAGE, run: runDetect },
  read: { usage: READ_USAGE, run: runRead },
  eval: { usage: EVAL_USAGE, run: runEval },
  bench: { usage: BENCH_USAGE, run: runBench },
  convert: { usage: CONVERT_USAGE, run: runConvert },
  quantize: { usage: QUANTIZE_USAGE, run: runQuantize },
  tune: { usage: TUNE_USAGE, run: runTune },
  worker: { usage: WORKER_USAGE, run: runWorker },
};

function usage(): string {
  return ['Usage:', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`craft-text: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\nSee docs/cli.md for every flag.\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`craft-text ${name}: ${printable(err.message)}\nUsage: ${command.usage}\n`);
      return 2;
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`craft-text ${name}: ${e.code ? e.code + ': ' : ''}${printable(e.message)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `craft-text detect … | head`: a reader that goes away ends the command quietly, not with an EPIPE stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
