#!/usr/bin/env node
// Entry point of the `weft` command; the implementation is compiled TypeScript in ../dist.
import('../dist/main.js').then(
  (cli) => cli.main(process.argv),
  (err) => {
    console.error(`weft: cannot load the CLI (${err.message}). Run "npm run build" at the repository root.`);
    process.exit(1);
  },
);
