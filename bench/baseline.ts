/**
 * The C baseline (bench/baseline/exit_loop.c): compiled at bench time with the host's `cc`, or taken
 * prebuilt from build-<arch>/bench/ where the arm64 lab cross-compiles it (the lab has no compiler).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../src/host/addon';

export interface BaselineRun {
  exits: number;
  seconds: number;
  usPerExit: number;
}

export function baselineBinary(): string {
  const root = packageRoot();
  const source = join(root, 'bench', 'baseline', 'exit_loop.c');
  const cross = join(root, `build-${process.arch}`, 'bench', 'exit_loop');
  if (existsSync(cross) && statSync(cross).mtimeMs >= statSync(source).mtimeMs) return cross;
  const binary = join(root, 'build', 'bench', 'exit_loop');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(join(root, 'build', 'bench'), { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

export function runBaseline(binary: string, image: string, count: number): BaselineRun {
  return JSON.parse(execFileSync(binary, [image, String(count)], { encoding: 'utf8' })) as BaselineRun;
}
