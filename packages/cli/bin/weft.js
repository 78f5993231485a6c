#!/usr/bin/env node
// Entry point of the `weft` command; the implementation is compiled TypeScript in ../dist.
// The first module loaded holds the young generation at its initial size while the CLI and the
// sidecar load (see src/startup-heap.ts); the commands release it once they are up.
import('../dist/startup-heap.js')
  .then((heap) => {
    heap.holdYoungGeneration();
    return import('../dist/main.js');
  })
  .then(
    (cli) => cli.main(process.argv),
    (err) => {
      console.error(`weft: cannot load the CLI (${err.message}). Run "npm run build" at the repository root.`);
      process.exit(1);
    },
  );
