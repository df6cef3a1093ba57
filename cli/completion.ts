/**
 * Shell completion scripts, generated from the command tree so they never
 * drift from it: commands and subcommands, then each command's options.
 */
import type { Command } from 'commander';

export function completionScript(shell: string, program: Command): string | undefined {
  const table = completionTable(program);
  if (shell === 'bash') return bashScript(table);
  if (shell === 'zsh') return `#compdef dropscore\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(table)}`;
  return undefined;
}

/** Words that may follow each command path ('' is the top level): its subcommands, or its options. */
export function completionTable(program: Command): Map<string, string[]> {
  const globals = program.options.map((o) => o.long!).filter((flag) => flag && flag !== '--version');
  const table = new Map<string, string[]>();
  const visit = (command: Command, path: string) => {
    const subcommands = command.commands.map((c) => c.name()).filter((name) => name !== 'help');
    const options = command.options.map((o) => o.long!).filter(Boolean);
    table.set(path, [...subcommands, ...(path === '' ? [] : options), ...globals, '--help']);
    for (const sub of command.commands) visit(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  visit(program, '');
  table.set('', [...(table.get('') ?? []).filter((w) => !w.startsWith('-')), 'help', '--version', '--help']);
  return table;
}

function bashScript(table: Map<string, string[]>): string {
  const cases = [...table].map(([path, words]) => `    "${path}") printf '%s' "${words.join(' ')}" ;;`).join('\n');
  return `# dropscore completion (bash): source <(dropscore completion bash)
_dropscore_words() {
  case "$1" in
${cases}
    *) return 1 ;;
  esac
}
_dropscore_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" next word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    next="\${path:+$path }$word"
    _dropscore_words "$next" >/dev/null && path="$next"
  done
  local words; words="$(_dropscore_words "$path")"
  # Past the last subcommand, a word that is not an option is an argument: a file, a name.
  if [[ "$cur" != -* && -n "$path" && "$words" == -* ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _dropscore_complete dropscore
`;
}
