# shellcheck shell=bash
# The command-line face of the bash commands (npm start, stop, test, services.sh): --help prints
# the usage given, and anything else is refused with a message. Sourced, not executed.
#   usage_text='usage: ...'   then   cli_no_args "$@"   (a command that takes no arguments)

# cli_help_requested ARGS...: true when -h or --help is among them.
cli_help_requested() {
  local arg
  for arg in "$@"; do case "$arg" in -h | --help) return 0 ;; esac; done
  return 1
}

# cli_refuse MESSAGE: the message, where the help is, exit 2.
cli_refuse() {
  printf '%s: %s\nRun it with --help for its usage.\n' "${CLI_NAME:-$0}" "$1" >&2
  exit 2
}

# cli_no_args ARGS...: prints $usage_text on --help (exit 0); refuses any other argument.
cli_no_args() {
  if cli_help_requested "$@"; then printf '%s\n' "$usage_text"; exit 0; fi
  [ "$#" -eq 0 ] || cli_refuse "unknown argument: $1"
}
