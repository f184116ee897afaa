#!/usr/bin/env node
/** The femtovm command line: one file per command beside this one. */
import { Command } from 'commander';

import { FemtovmError } from '../shared/errors';
import { registerBench } from './bench';
import { runDemo } from './demo';
import { registerInfo } from './info';
import { registerRun } from './run';
import { registerSwarm } from './swarm';

// A reader that stops early (`femtovm info | head -1`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const program = new Command('femtovm').description('a minimal virtual machine monitor: tiny bare-metal guests on KVM').showHelpAfterError();
registerRun(program);
registerSwarm(program);
registerInfo(program);
registerBench(program);
program
  .command('demo')
  .description('the hello guest on every backend this host has, one line per run (npm start)')
  .action(() => {
    process.exitCode = runDemo();
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`femtovm: ${error instanceof FemtovmError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
