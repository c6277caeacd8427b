/**
 * The IISNODE_<setting> adapter (spec/iisnode.md 1.1, step 3): an environment variable of the
 * host named `IISNODE_` plus a setting name replaces the web.config value of that setting.
 */
import { NodehostError } from '../errors.js';
import { parseSettingValue, SETTINGS_BY_LOWER_NAME } from './schema.js';
import type { IisnodeSettingName, IisnodeSettings } from './types.js';

/** EnvOverrides is what the host environment overrides: typed values and the variable behind each. */
export interface EnvOverrides {
  readonly values: Readonly<Partial<IisnodeSettings>>;
  /** The variable name, as spelled in the environment, that set each value. */
  readonly variables: Readonly<Partial<Record<IisnodeSettingName, string>>>;
  /** One NH_ERR_CONFIG_ENV per variable whose value does not parse; that setting keeps its web.config value. */
  readonly errors: readonly NodehostError[];
}

const PREFIX = 'iisnode_';

/**
 * readEnvOverrides collects the IISNODE_* variables of env. Names match case-insensitively,
 * as Windows environment names do; when Linux holds several spellings of one name, the one
 * spelled exactly `IISNODE_<settingName>` wins, otherwise the first in env order.
 * Booleans take true/false/1/0, numbers non-negative decimal integers, strings anything.
 * Variables that name no setting (IISNODE_VERSION, IISNODE_CONTROL_PIPE, ...) are ignored.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const values: Record<string, boolean | number | string> = {};
  const variables: Record<string, string> = {};
  const errors: NodehostError[] = [];
  const chosen = new Map<IisnodeSettingName, string>();
  for (const variable of Object.keys(env)) {
    if (variable.length <= PREFIX.length || variable.slice(0, PREFIX.length).toLowerCase() !== PREFIX) continue;
    const spec = SETTINGS_BY_LOWER_NAME.get(variable.slice(PREFIX.length).toLowerCase());
    if (!spec || env[variable] === undefined) continue;
    const previous = chosen.get(spec.name);
    if (previous === undefined || (previous !== `IISNODE_${spec.name}` && variable === `IISNODE_${spec.name}`)) chosen.set(spec.name, variable);
  }
  for (const [name, variable] of chosen) {
    const spec = SETTINGS_BY_LOWER_NAME.get(name.toLowerCase());
    if (!spec) continue;
    const raw = env[variable] ?? '';
    const parsed = parseSettingValue(spec, raw, 'env');
    if (!parsed.ok) {
      errors.push(new NodehostError('NH_ERR_CONFIG_ENV', `Environment variable ${variable}: ${parsed.message}`));
      continue;
    }
    values[name] = parsed.value;
    variables[name] = variable;
  }
  return { values: values as Partial<IisnodeSettings>, variables: variables as Partial<Record<IisnodeSettingName, string>>, errors };
}
