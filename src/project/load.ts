/** Loads and validates a whole project: fsql_project.yml, profiles.yml, models and macros. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { didYouMean } from '../closest-name.js';
import { ProjectError } from '../errors.js';
import { registerSecretEnv } from '../secrets.js';
import { expectKeys, expectMapping, expectString, expectStringList, isMapping } from './checks.js';
import { indexUnique, readModelYaml, type ViewDoc } from './model-files.js';
import { loadTarget } from './profiles.js';
import { sourceKey, type Entity, type MonitorConfig, type MacroFile, type OnDemandView, type Project, type RequestSource, type ServiceDef, type SourceTable, type ViewDef } from './types.js';
import { parseViewConfig, splitConfig } from './view-config.js';
import { readOnDemandView } from './on-demand-view.js';
import { checkOnDemandInputs } from './on-demand-inputs.js';
import { AGG_HELP, attachAggregate } from './aggregate-config.js';
import { YamlFile } from './yaml-file.js';
import { readMonitors } from './monitors.js';

export interface LoadOptions {
  projectDir?: string;
  profilesDir?: string;
  target?: string;
  /** YAML text from --vars */
  vars?: string;
  /** a folder with no feature views is an error (the CLI's commands); a library caller may load profiles alone */
  requireViews?: boolean;
}

const PROJECT_KEYS = ['name', 'version', 'config-version', 'profile', 'model-paths', 'macro-paths', 'target-path', 'vars', 'monitors'];

export function loadProject(opts: LoadOptions = {}): Project {
  registerSecretEnv();
  const dir = resolve(opts.projectDir ?? '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ProjectError(dir, 'project folder not found. Pass --project-dir pointing at a folder with models/ and profiles.yml.');
  }
  const settings = readProjectFile(dir);
  const vars = { ...settings.vars, ...parseVars(opts.vars) };

  const sources: SourceTable[] = [];
  const entities: Entity[] = [];
  const docs: ViewDoc[] = [];
  const services: ServiceDef[] = [];
  const views: ViewDef[] = [];
  const requestSources: RequestSource[] = [];
  const onDemand: OnDemandView[] = [];
  for (const modelPath of settings.modelPaths) {
    for (const abs of listFiles(join(dir, modelPath))) {
      const file = relative(dir, abs);
      if (/\.ya?ml$/.test(abs)) {
        const m = readModelYaml(YamlFile.read(file, abs), dir);
        sources.push(...m.sources);
        entities.push(...m.entities);
        docs.push(...m.viewDocs);
        services.push(...m.services);
        requestSources.push(...m.requestSources);
      } else if (abs.endsWith('.sql')) {
        const view = readView(file, abs, vars);
        if ('items' in view) onDemand.push(view);
        else views.push(view);
      }
    }
  }
  if (views.length + onDemand.length === 0 && opts.requireViews) throw noViews(dir, settings);
  const { profileName, target } = loadTarget({ projectDir: dir, profileName: settings.profile, profileSource: settings.profileSource, targetName: opts.target, profilesDir: opts.profilesDir });
  const macros: MacroFile[] = settings.macroPaths.flatMap((mp) =>
    listFiles(join(dir, mp)).filter((f) => f.endsWith('.sql')).map((abs) => ({ file: relative(dir, abs), text: readFileSync(abs, 'utf8') })),
  );

  const project: Project = {
    dir,
    name: settings.name,
    profileName,
    modelPaths: settings.modelPaths,
    macroPaths: settings.macroPaths,
    targetPath: resolve(dir, settings.targetPath),
    vars,
    target,
    sources: indexUnique(sources, (s) => sourceKey(s.source, s.name), 'source table'),
    entities: indexUnique(entities, (e) => e.name, 'entity'),
    views: indexUnique(views, (v) => v.name, 'feature view name (file base name)'),
    services: indexUnique(services, (s) => s.name, 'feature service'),
    macros,
    requestSources: indexUnique(requestSources, (r) => r.name, 'request source'),
    onDemandViews: indexUnique(onDemand, (v) => v.name, 'on-demand view'),
    monitors: settings.monitors,
  };
  indexUnique([...views, ...onDemand], (v) => v.name, 'feature view name (file base name)');
  attachDocs(project, docs);
  checkReferences(project);
  return project;
}

interface ProjectSettings {
  /** false when the folder has no fsql_project.yml (every setting is a default) */
  hasProjectFile: boolean;
  name: string;
  /** the profile named by 'profile:' or 'name:'; undefined when neither is set */
  profile?: string;
  profileSource?: string;
  modelPaths: string[];
  macroPaths: string[];
  targetPath: string;
  vars: Record<string, unknown>;
  monitors?: MonitorConfig;
}

function readProjectFile(dir: string): ProjectSettings {
  const abs = join(dir, 'fsql_project.yml');
  const fallbackName = basename(dir).toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^(\d)/, '_$1');
  if (!existsSync(abs)) return { hasProjectFile: false, name: fallbackName, modelPaths: ['models'], macroPaths: ['macros'], targetPath: 'target', vars: {} };
  const y = YamlFile.read('fsql_project.yml', abs);
  const m = y.value === null ? {} : expectMapping(y, [], y.value, 'fsql_project.yml');
  expectKeys(y, [], m, PROJECT_KEYS, 'fsql_project.yml');
  const name = expectString(y, ['name'], m.name, 'name') ?? fallbackName;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw y.error(['name'], `name '${name}' must match [a-z_][a-z0-9_]*.`);
  const vars = m.vars === undefined || m.vars === null ? {} : expectMapping(y, ['vars'], m.vars, 'vars');
  const paths = (key: string, fallback: string) => (m[key] === undefined ? [fallback] : expectStringList(y, [key], m[key], key));
  const profile = expectString(y, ['profile'], m.profile, 'profile');
  const named = profile !== undefined ? 'profile' : m.name !== undefined ? 'name' : undefined;
  return {
    hasProjectFile: true,
    name,
    profile: named && (profile ?? name),
    profileSource: named && `'${named}:' in fsql_project.yml${named === 'name' ? ", used as the profile when 'profile:' is not set" : ''}`,
    modelPaths: paths('model-paths', 'models'),
    macroPaths: paths('macro-paths', 'macros'),
    targetPath: expectString(y, ['target-path'], m['target-path'], 'target-path') ?? 'target',
    vars,
    monitors: m.monitors === undefined ? undefined : readMonitors(y, ['monitors'], m.monitors),
  };
}

/** A folder with no feature views: the wrong folder (a cron job's cwd), or models not where the settings say. */
function noViews(dir: string, settings: ProjectSettings): ProjectError {
  const where = settings.modelPaths.map((p) => `${p}/`).join(', ');
  if (!settings.hasProjectFile) {
    return new ProjectError(dir, `not an fsql project: no fsql_project.yml and no feature views (*.sql) under ${where}. Run fsql in the project folder, pass --project-dir DIR, or create a project with fsql init DIR.`);
  }
  return new ProjectError(join(dir, 'fsql_project.yml'), `the project has no feature views: no *.sql file under ${where}. Add a view there, or set model-paths to where the views are.`);
}

function parseVars(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new ProjectError('--vars', `not valid YAML: ${(e as Error).message.split('\n')[0]}. Pass a mapping such as --vars '{x: 1}'.`);
  }
  if (!isMapping(v)) throw new ProjectError('--vars', "must be a YAML mapping such as --vars '{x: 1}'.");
  return v;
}

function readView(file: string, abs: string, vars: Record<string, unknown>): ViewDef | OnDemandView {
  const text = readFileSync(abs, 'utf8');
  const name = basename(abs, '.sql');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ProjectError(file, `feature view name '${name}' (the file's base name) must be letters, digits and underscores. Rename the file.`);
  }
  const { call, line, body } = splitConfig(file, text);
  const onDemand = readOnDemandView(file, abs, name, { text: call, line, body }, vars);
  if (onDemand) return onDemand;
  const config = parseViewConfig(file, call, line, vars);
  return { name, file, absPath: abs, sql: body, config, joinKeys: [], columns: [] };
}

function attachDocs(project: Project, docs: ViewDoc[]): void {
  for (const doc of indexUnique(docs, (d) => d.name, 'feature_views entry').values()) {
    const view = project.views.get(doc.name);
    if (!view) {
      throw new ProjectError(doc.file, `feature_views entry '${doc.name}' has no models/**/${doc.name}.sql. Create the view or fix the name.${didYouMean(doc.name, project.views.keys())} Views: ${[...project.views.keys()].join(', ')}.`, doc.line);
    }
    view.columns = doc.columns;
    view.docFile = doc.file;
    view.monitors = doc.monitors;
    if (doc.push) view.push = true;
    if (doc.description && !view.config.description) view.config.description = doc.description;
    if (doc.aggregate) attachAggregate(view, doc.aggregate, doc);
  }
  for (const view of project.views.values()) {
    if (view.config.materialized === 'aggregate' && !view.config.aggregate) {
      throw new ProjectError(view.file, `aggregate view '${view.name}' has no aggregations: add aggregations=[${AGG_HELP}] to its config(), or aggregations: under its feature_views entry.`, 1);
    }
  }
}

function checkReferences(project: Project): void {
  const entityNames = [...project.entities.keys()].join(', ') || 'none defined';
  for (const view of project.views.values()) {
    view.joinKeys = view.config.entities.flatMap((e) => {
      const entity = project.entities.get(e);
      if (!entity) throw new ProjectError(view.file, `config entities names unknown entity '${e}'.${didYouMean(e, project.entities.keys())} Define it under 'entities:' in a YAML file, or use one of: ${entityNames}.`, 1);
      return entity.joinKeys;
    });
  }
  for (const service of project.services.values()) {
    for (const ref of service.features) {
      if (!project.views.has(ref.view) && !project.onDemandViews.has(ref.view)) {
        throw new ProjectError(service.file, `feature service '${service.name}' names unknown feature view '${ref.view}'.${didYouMean(ref.view, project.views.keys())} Views: ${[...project.views.keys(), ...project.onDemandViews.keys()].join(', ')}.`, ref.line);
      }
    }
  }
  for (const view of project.onDemandViews.values()) checkOnDemandInputs(project, view);
}

/** Every file under a folder, sorted, so loading order (and so output) is stable. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}
