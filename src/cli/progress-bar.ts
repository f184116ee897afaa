/** A terminal progress bar for `swarm` and `submit`; cli-progress is loaded only when one is drawn. */
export function progressBar(options: import('cli-progress').Options): import('cli-progress').SingleBar {
  const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
  return new SingleBar(options, Presets.shades_classic);
}
