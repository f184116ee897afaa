#!/usr/bin/env node
/** The femtovm command line: one file per command beside this one. */
import { Command, CommanderError } from 'commander';

import { FemtovmError } from '../shared/errors';
import { registerBench } from './bench';
import { runDemo } from './demo';
import { registerInfo } from './info';
import { registerRun } from './run';
import { UsageError } from './run-options';
import { registerSubmit } from './submit';
import { registerSwarm } from './swarm';
import { registerWorker } from './worker';

// A reader that stops early (`femtovm info | head -1`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const program = new Command('femtovm').description('a minimal virtual machine monitor: tiny bare-metal guests on KVM').showHelpAfterError();
// Usage errors (unknown commands and options, bad values) exit 2 from every command; help exits 0.
program.exitOverride();
registerRun(program);
registerSwarm(program);
registerWorker(program);
registerSubmit(program);
registerInfo(program);
registerBench(program);
program
  .command('demo')
  .description('the hello guest on every backend this host has, one line per run (npm start)')
  .action(() => {
    process.exitCode = runDemo();
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2; // commander has printed the message
    return;
  }
  process.stderr.write(`femtovm: ${error instanceof FemtovmError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
