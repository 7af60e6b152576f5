/** A tool that scripts/setup-go-tools.sh builds. */
export type GoToolName = 'timestamp-server' | 'posix' | 'fulcio' | 'registry' | 'oras' | 'actionlint';
/** The absolute path of a tool built by scripts/setup-go-tools.sh; throws naming the script when it is missing. */
export function goTool(name: GoToolName): string;
