/** The femtovm command line, one file per command beside this one (bin.ts, the executable, loads it). */
import { Command, CommanderError } from 'commander';

import { FemtovmError } from '../shared/errors';
import { registerBench } from './bench';
import { runDemo } from './demo';
import { registerInfo } from './info';
import { registerRun } from './run';
import { UsageError } from './run-options';
import { guardStdout } from './stdout';
import { registerSubmit } from './submit';
import { registerSwarm } from './swarm';
import { registerWorker } from './worker';

const program = new Command('femtovm').description('a minimal virtual machine monitor: tiny bare-metal guests on KVM').showHelpAfterError();
// Every command's stdout is guarded but run's, which guards its own (--json) when it prints.
program.hook('preAction', (_program, command) => {
  if (command.name() !== 'run') guardStdout();
});
program.configureOutput({
  writeOut: (text) => {
    guardStdout();
    process.stdout.write(text);
  },
});
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
