/** Parses sizes as the Dapr CLI and daprd accept them: "4Mi", "4MB", "4096Ki", "4096" (bytes). */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  ki: 1024,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Bytes in a size string; throws with the accepted forms on bad input. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = match ? UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new Error(`invalid size "${text}" (expected e.g. 4Mi, 4MB or a number of bytes)`);
  return Math.floor(Number(match[1]) * factor);
}
