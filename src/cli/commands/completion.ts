import { Argument, type Command } from 'commander';
import { examples, run } from '../command.js';
import type { Output } from '../output.js';

interface Node {
  path: string;
  subcommands: string[];
  options: string[];
}

export function registerCompletionCommand(program: Command): void {
  const completion = program
    .command('completion')
    .description('Print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action(
      run(async (output: Output, shell: 'bash' | 'zsh') => {
        output.out(shell === 'bash' ? bashScript(program) : zshScript(program));
      }),
    );
  examples(completion, [
    'elevate completion bash > ~/.local/share/bash-completion/completions/elevate',
    'elevate completion zsh > "${fpath[1]}/_elevate"   # then start a new zsh',
    '# or, for this shell only: source <(elevate completion bash)',
  ]);
}

/**
 * Bash completion of commands, subcommands and options, generated from the commands themselves
 * so that it never falls behind them. Names of groups and users are not completed: that would
 * need a signed-in call to the server on every key press.
 */
export function bashScript(program: Command): string {
  const nodes = walk(program, '');
  const valueOptions = [...new Set(nodes.flatMap((node) => node.valueOptions))].sort();
  const cases = (pick: (node: Node) => string[]) =>
    nodes.map((node) => `    "${node.path}") echo "${pick(node).join(' ')}" ;;`).join('\n');

  return `# bash completion for elevate; load it with: source <(elevate completion bash)
_elevate_subcommands() {
  case "$1" in
${cases((node) => node.subcommands)}
  esac
}

_elevate_options() {
  case "$1" in
${cases((node) => node.options)}
  esac
}

_elevate() {
  local cur prev node word i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${valueOptions.join('|') || '--'}) COMPREPLY=(); return 0 ;;
  esac

  node=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case " $(_elevate_subcommands "$node") " in
      *" $word "*) node="\${node:+$node }$word" ;;
    esac
  done

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_elevate_options "$node")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_elevate_subcommands "$node")" -- "$cur"))
  fi
}
complete -F _elevate elevate`;
}

/** Zsh completion through zsh's own support for bash completion functions. */
export function zshScript(program: Command): string {
  return `#compdef elevate
# zsh completion for elevate; save it as _elevate in a folder of $fpath, or source it.
autoload -U +X bashcompinit && bashcompinit
${bashScript(program).split('\n').slice(1).join('\n')}`;
}

function walk(command: Command, path: string): (Node & { valueOptions: string[] })[] {
  const visible = command.commands.filter((sub) => sub.name() !== 'help');
  const node = {
    path,
    subcommands: visible.map((sub) => sub.name()),
    options: [...command.options.flatMap((option) => (option.long ? [option.long] : [])), '--help'],
    valueOptions: command.options
      .filter((option) => option.required || option.optional)
      .flatMap((option) => (option.long ? [option.long] : [])),
  };
  return [
    node,
    ...visible.flatMap((sub) => walk(sub, path ? `${path} ${sub.name()}` : sub.name())),
  ];
}
