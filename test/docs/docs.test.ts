/**
 * The docs stay true to the code: the CLI reference is the one the commands generate, every component
 * type the registry knows is documented, and every `weft` command line in a shell code block names
 * only commands and flags that exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../packages/runtime/src/index.js';
import { program } from '../../packages/cli/src/main.js';
import { renderCliReference } from '../../packages/cli/src/cli-reference.js';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

function docFiles(dir = DOCS): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? docFiles(full) : e.name.endsWith('.md') ? [full] : [];
  });
}

/** Shell code blocks (```sh, ```bash, ```shell, ```console) of a markdown text. */
function shellBlocks(text: string): string[] {
  return [...text.matchAll(/```(?:sh|bash|shell|console)\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** Splits a command line into words, honouring simple quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/'[^']*'|"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}

/** Checks one `weft …` command line against the program; returns what does not exist. */
function unknownParts(root: Command, argv: string[]): string[] {
  const problems: string[] = [];
  let command = root;
  const flagsOf = (c: Command): Set<string> => {
    const all = new Set<string>(['-h', '--help', '-V', '--version']);
    for (let p: Command | null = c; p; p = p.parent) for (const o of p.options) {
      if (o.short) all.add(o.short);
      if (o.long) all.add(o.long);
      if (o.negate && o.long) all.add(o.long);
    }
    return all;
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') break;
    if (word.startsWith('-')) {
      const flag = word.split('=')[0] ?? word;
      if (!flagsOf(command).has(flag)) problems.push(`${command.name()}: unknown flag ${flag}`);
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) command = sub;
  }
  return problems;
}

describe('docs', () => {
  const files = docFiles();
  const all = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');

  it('has the CLI reference the commands generate', () => {
    const generated = renderCliReference(program());
    const file = path.join(DOCS, 'cli.md');
    if (process.env['WEFT_UPDATE_DOCS'] === '1') fs.writeFileSync(file, generated);
    expect(fs.readFileSync(file, 'utf8')).toBe(generated);
  });

  it('documents every component type the registry knows', () => {
    const types = builtinRegistry().supportedTypes();
    expect(types.length).toBeGreaterThan(10);
    expect(types.filter((t) => !all.includes(`\`${t}\``))).toEqual([]);
  });

  it('names only weft commands and flags that exist in shell code blocks', () => {
    const root = program();
    const problems: string[] = [];
    let lines = 0;
    for (const file of files) {
      for (const block of shellBlocks(fs.readFileSync(file, 'utf8'))) {
        // Join continued lines, drop prompts and comments.
        for (const raw of block.replace(/\\\n\s*/g, ' ').split('\n')) {
          const line = raw.replace(/^\$\s+/, '').replace(/\s+#.*$/, '').trim();
          const argv = words(line);
          const start = argv[0] === 'weft' ? 1 : argv[0] === 'npx' && argv[1] === 'weft' ? 2 : -1;
          if (start < 0) continue;
          lines++;
          for (const p of unknownParts(root, argv.slice(start))) problems.push(`${path.relative(DOCS, file)}: "${line}": ${p}`);
        }
      }
    }
    expect(lines).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
