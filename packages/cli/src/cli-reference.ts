/**
 * The CLI reference (`docs/cli.md`), generated from the commands' own commander definitions, so the
 * documented commands, flags, defaults and choices are the ones that exist. `test/docs` checks the
 * file is current; `WEFT_UPDATE_DOCS=1 npx vitest run test/docs` rewrites it.
 */
import type { Command, Option } from 'commander';

function optionLine(option: Option): string {
  const extras: string[] = [];
  if (option.argChoices) extras.push(`one of: ${option.argChoices.map((c) => `\`${c}\``).join(', ')}`);
  if (option.defaultValue !== undefined && option.defaultValue !== false) extras.push(`default: \`${JSON.stringify(option.defaultValue)}\``);
  if (option.mandatory) extras.push('required');
  const description = option.description.replace(/\|/g, '\\|');
  return `| \`${option.flags.replace(/\|/g, '\\|')}\` | ${description}${extras.length > 0 ? ` (${extras.join('; ')})` : ''} |`;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function renderCommand(command: Command, lines: string[]): void {
  const visible = command.options.filter((o) => !o.hidden);
  lines.push(`## \`${commandPath(command)}\``, '');
  if (command.description()) lines.push(command.description(), '');
  lines.push('```text', `${commandPath(command)} ${command.usage()}`.trimEnd(), '```', '');
  if (command.aliases().length > 0) lines.push(`Aliases: ${command.aliases().map((a) => `\`${a}\``).join(', ')}`, '');
  const args = command.registeredArguments;
  if (args.length > 0) {
    lines.push('| Argument | Description |', '| --- | --- |');
    for (const a of args) lines.push(`| \`${a.name()}\`${a.required ? '' : ' (optional)'} | ${a.description || ''} |`);
    lines.push('');
  }
  if (visible.length > 0) {
    lines.push('| Flag | Description |', '| --- | --- |');
    for (const o of visible) lines.push(optionLine(o));
    lines.push('');
  }
  for (const sub of command.commands) renderCommand(sub, lines);
}

/** The markdown of the CLI reference for a program. */
export function renderCliReference(program: Command): string {
  const lines = [
    '# `weft` command reference',
    '',
    '<!-- Generated from the commander definitions in packages/cli/src by packages/cli/src/cli-reference.ts. Do not edit by hand:',
    '     run `WEFT_UPDATE_DOCS=1 npx vitest run test/docs` after changing a command. -->',
    '',
    `${program.description()}`,
    '',
    'Commands: ' + program.commands.map((c) => `[\`${c.name()}\`](#${commandPath(c).replace(/ /g, '-')})`).join(', '),
    '',
  ];
  for (const sub of program.commands) renderCommand(sub, lines);
  return `${lines.join('\n').trimEnd()}\n`;
}
