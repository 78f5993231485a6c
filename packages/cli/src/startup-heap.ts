/**
 * The young generation during start-up. Loading the sidecar allocates mostly objects that live for
 * the whole process (modules, tables, compiled code), so each scavenge finds most of the young
 * generation alive, and V8 answers by doubling it, up to 16 MB semi-spaces: about 24 MB resident
 * that an idle sidecar never gives back. `bin/weft.js` turns that growth off before anything loads
 * ({@link holdYoungGeneration}); once the sidecar is ready, {@link releaseYoungGeneration} restores
 * V8's default, so a sidecar under load sizes its young generation as it would have.
 */
import v8 from 'node:v8';

/** V8's default `--semi-space-growth-factor` (Node 20, V8 11.3). */
const DEFAULT_GROWTH_FACTOR = 2;

let held = false;

/** Keeps the young generation at its initial size until {@link releaseYoungGeneration}. */
export function holdYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Lets the young generation grow again; idempotent, and a no-op when it was never held. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  held = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
}
