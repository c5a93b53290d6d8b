import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerClientCommands } from '../../src/cli/index.js';

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

describe('elevate --help', () => {
  it('shows examples for every client command', () => {
    const program = new Command('elevate');
    registerClientCommands(program);

    const commands = everyCommand(program).filter((command) => command !== program);
    assert.ok(commands.length > 25);
    for (const command of commands) {
      assert.match(helpOf(command), /Examples:\n {2}\$ elevate /, `elevate ${command.name()}`);
    }
  });

  it('documents every exit code', () => {
    const program = new Command('elevate');
    registerClientCommands(program);

    const help = helpOf(program);

    for (const code of ['0', '1', '2', '3', '4', '5']) {
      assert.match(help, new RegExp(`\\n {2}${code} {2}\\S`), `exit code ${code}`);
    }
  });
});
