/**
 * The per-application end of the iisnode settings chain (spec/iisnode.md 1.1): the web.config
 * result of a folder, then IISNODE_* variables, `%VAR%` expansion, the iisnode.yml named by
 * configOverrides, and the defaults applied after loading.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { NodehostError, type SourcePosition } from '../errors.js';
import { readEnvOverrides } from './env-overrides.js';
import { readIisnodeYml } from './iisnode-yml.js';
import { expandEnvironment, IISNODE_SCHEMA } from './schema.js';
import type { FolderConfig, IisnodeSettingName, IisnodeSettings } from './types.js';

/** SettingOrigin says which source gave a setting its effective value. */
export type SettingOrigin =
  | { readonly kind: 'default' }
  | { readonly kind: 'web.config'; readonly source: SourcePosition }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'yml'; readonly source: SourcePosition };

/** ResolvedAppSettings is the effective iisnode configuration of one application. */
export interface ResolvedAppSettings {
  /** Every setting after all sources; frozen. Holds the web.config values when `errors` is not empty. */
  readonly settings: IisnodeSettings;
  /** NH_ERR_CONFIG_ENV and NH_ERR_CONFIG_YML errors; when any, requests to the app fail (1031/1032). */
  readonly errors: NodehostError[];
  /**
   * Absolute path of the configOverrides file, whether it exists or not (so that its creation
   * can be watched); undefined when configOverrides is empty.
   */
  readonly ymlFile: string | undefined;
  /** Where each setting's value came from. */
  readonly origins: Readonly<Record<IisnodeSettingName, SettingOrigin>>;
}

const DEFAULT_ORIGIN: SettingOrigin = Object.freeze({ kind: 'default' });

/**
 * resolveAppSettings computes the settings of the application whose entry script is
 * `scriptPath` (absolute), starting from `folder` (the FolderConfig of the script's URL):
 * 1. IISNODE_<setting> variables of `env` replace web.config values;
 * 2. `%VAR%` is expanded in the settings the schema marks `expanded`;
 * 3. the configOverrides file (relative to the script's folder) is read fresh and applied; its
 *    own expansion rules were applied by its parser;
 * 4. nodeProcessCountPerApplication and asyncCompletionThreadCount of 0 become the CPU count.
 * A bad variable keeps the web.config value of that setting; a bad yml file applies none of
 * its settings. Never throws.
 */
export function resolveAppSettings(scriptPath: string, folder: FolderConfig, env: NodeJS.ProcessEnv): ResolvedAppSettings {
  const settings = { ...folder.iisnode } as IisnodeSettings;
  const values = settings as unknown as Record<string, unknown>;
  const origins: Record<string, SettingOrigin> = {};
  for (const spec of IISNODE_SCHEMA) {
    const source = folder.iisnodeSources[spec.name];
    origins[spec.name] = source ? { kind: 'web.config', source } : DEFAULT_ORIGIN;
  }
  const errors: NodehostError[] = [];

  const overrides = readEnvOverrides(env);
  errors.push(...overrides.errors);
  for (const [name, value] of Object.entries(overrides.values)) {
    values[name] = value;
    origins[name] = { kind: 'env', variable: overrides.variables[name as IisnodeSettingName] ?? `IISNODE_${name}` };
  }

  for (const spec of IISNODE_SCHEMA) {
    const value = values[spec.name];
    if (spec.expanded && typeof value === 'string') values[spec.name] = expandEnvironment(value, env);
  }

  const ymlFile = settings.configOverrides === '' ? undefined : path.resolve(path.dirname(scriptPath), settings.configOverrides);
  if (ymlFile !== undefined) {
    try {
      const yml = readIisnodeYml(ymlFile, env);
      if (yml) {
        for (const [name, value] of Object.entries(yml.values)) {
          values[name] = value;
          origins[name] = { kind: 'yml', source: { file: ymlFile, line: yml.lines[name as IisnodeSettingName] ?? 0 } };
        }
      }
    } catch (err) {
      errors.push(err instanceof NodehostError ? err : new NodehostError('NH_ERR_CONFIG_YML', String(err), { cause: err, source: { file: ymlFile, line: 1 } }));
    }
  }

  // spec/iisnode.md 1.1 "Defaults applied after loading".
  if (settings.nodeProcessCountPerApplication === 0) settings.nodeProcessCountPerApplication = availableParallelism();
  if (settings.asyncCompletionThreadCount === 0) settings.asyncCompletionThreadCount = availableParallelism();

  return {
    settings: Object.freeze(settings),
    errors,
    ymlFile,
    origins: Object.freeze(origins as Record<IisnodeSettingName, SettingOrigin>),
  };
}
