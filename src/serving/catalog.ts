/**
 * The service catalogue: every feature service resolved once, at start-up, with online/vector.ts's
 * planService (views to read, features in response order with types, join keys with types), plus
 * what only the HTTP API shows (descriptions and tags from the views' YAML), so a request does
 * lookups, never resolution. Built from the project and the layouts `fsql sync` recorded in the
 * online store: the server needs no warehouse.
 */
import { OnlineStoreError, ProjectError, RequestError } from '../errors.js';
import { onDemandSpecs } from '../online/on-demand-plan.js';
import type { ViewLayout } from '../online/store.js';
import { planService, type ServicePlan } from '../online/vector.js';
import type { Project, ServiceDef } from '../project/types.js';
import type { DataType } from '../values.js';
import { describeFeature, featureSummary } from '../plans/aggregate.js';

export interface CatalogFeature {
  view: string;
  feature: string;
  /** `<view>.<feature>` */
  name: string;
  type: DataType;
  description?: string;
  /** the view's tags and the column's tags, as Tecton's `tags` map (each tag maps to "") */
  tags?: Record<string, string>;
  /** an aggregate view's feature: its function, window and input column (SPEC section 9) */
  aggregation?: ReturnType<typeof describeFeature>;
}

export interface CatalogView {
  layout: ViewLayout;
  /** the view's timestamp column (the /push column) and created_timestamp column */
  timestampColumn: string;
  createdColumn?: string;
}

export interface CatalogService {
  name: string;
  description: string;
  online: boolean;
  /** undefined when the service cannot be served (see `unavailable`) */
  plan?: ServicePlan;
  /** plan.features with docs, same order: alphabetical by `<view>.<feature>` */
  features: CatalogFeature[];
  joinKeys: { name: string; type: DataType }[];
  /** why the service cannot be served (a view never synced, a feature missing) */
  unavailable?: string;
}

/** 503/14 for a service whose views were not synced when the catalogue was built (the server reloads it, at most every 5 s). */
export class UnavailableService extends RequestError {
  constructor(message: string) {
    super(503, 14, message);
  }
}

export class Catalog {
  constructor(
    readonly projectName: string,
    readonly targetName: string,
    readonly services: Map<string, CatalogService>,
    readonly views: Map<string, CatalogView>,
    readonly project: Project,
  ) {}

  /** Workspace names a request may carry: the project's and the serving target's. */
  isWorkspace(name: string): boolean {
    return name === this.projectName || name === this.targetName;
  }

  /** Features as the HTTP API shows them, with the docs of the project. */
  describe(plan: ServicePlan): CatalogFeature[] {
    return plan.features.map((f) => {
      const def = this.project.views.get(f.view) ?? this.project.onDemandViews.get(f.view);
      const doc = def && 'columns' in def ? def.columns.find((c) => c.name.toLowerCase() === f.feature.toLowerCase()) : undefined;
      const tagList = [...(def && 'config' in def ? def.config.tags : (def?.tags ?? [])), ...(doc?.tags ?? [])];
      const agg = def && 'config' in def ? def.config.aggregate?.features.find((x) => x.name === f.feature) : undefined;
      const aggregation = agg ? describeFeature(agg) : undefined;
      return {
        view: f.view,
        feature: f.feature,
        name: f.name,
        type: f.type,
        description: doc?.description || (def && 'items' in def ? def.description : undefined) || (aggregation ? featureSummary(aggregation) : undefined),
        tags: tagList.length ? Object.fromEntries(tagList.map((t) => [t, ''])) : undefined,
        ...(aggregation ? { aggregation } : {}),
      };
    });
  }
}

export function buildCatalog(project: Project, layouts: ViewLayout[]): Catalog {
  const byView = new Map(layouts.map((l) => [l.view, l]));
  const views = new Map<string, CatalogView>();
  for (const layout of layouts) {
    const def = project.views.get(layout.view);
    if (def) views.set(layout.view, { layout, timestampColumn: def.config.timestamp, createdColumn: def.config.createdTimestamp });
  }
  const catalog = new Catalog(project.name, project.target.name, new Map(), views, project);
  for (const svc of project.services.values()) catalog.services.set(svc.name, resolve(catalog, svc, byView));
  return catalog;
}

function resolve(catalog: Catalog, svc: ServiceDef, layouts: Map<string, ViewLayout>): CatalogService {
  const base = { name: svc.name, description: svc.description, online: svc.online };
  try {
    const plan = planService(svc, layouts, onDemandSpecs(catalog.project, svc.features, layouts));
    return { ...base, plan, features: catalog.describe(plan), joinKeys: plan.joinKeys };
  } catch (e) {
    // a view never synced, or an on-demand view whose inputs' synced types do not fit its expressions
    if (!(e instanceof OnlineStoreError) && !(e instanceof ProjectError)) throw e;
    return { ...base, features: [], joinKeys: [], unavailable: e.message };
  }
}
