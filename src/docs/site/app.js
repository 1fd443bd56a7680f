/* The fsql catalog page: reads window.FSQL_CATALOG (assets/catalog.js), renders the page for the
 * node in the URL's hash on demand (nothing is rendered for a node until it is shown), draws each
 * node's lineage neighbourhood with cytoscape, and searches features, views, sources and services. */
(function () {
  'use strict';
  const C = window.FSQL_CATALOG;
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const search = document.getElementById('search');
  const results = document.getElementById('results');
  const GRAPH_LIMIT = 160; // nodes drawn around the selected one
  const OVERVIEW_LIMIT = 250; // the whole graph on the home page up to this many nodes
  const COLORS = { source: '#0ca678', view: '#3b5bdb', on_demand: '#ae3ec9', service: '#f08c00', request: '#868e96' };

  /** el('div', {class: 'x'}, 'text', child, ...): DOM built from text nodes, never from HTML strings. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const link = (id, text) => el('a', { href: '#' + id }, text || nodes.get(id)?.name || id);

  // ---- the graph of nodes: id = kind:name ----
  const nodes = new Map();
  const up = new Map();
  const down = new Map();
  function addNode(id, kind, name, data) {
    nodes.set(id, { id, kind, name, data });
    up.set(id, []);
    down.set(id, []);
  }
  function addEdge(from, to) {
    if (!nodes.has(from) || !nodes.has(to)) return;
    if (!down.get(from).includes(to)) down.get(from).push(to);
    if (!up.get(to).includes(from)) up.get(to).push(from);
  }
  for (const s of C.sources) addNode('source:' + s.key, 'source', s.key, s);
  for (const r of C.request_sources) addNode('request:' + r.name, 'request', r.name, r);
  for (const v of C.views) addNode('view:' + v.name, v.kind === 'on_demand' ? 'on_demand' : 'view', v.name, v);
  for (const s of C.services) addNode('service:' + s.name, 'service', s.name, s);
  for (const e of C.entities) nodes.set('entity:' + e.name, { id: 'entity:' + e.name, kind: 'entity', name: e.name, data: e });
  for (const v of C.views) for (const i of v.inputs) addEdge(i, 'view:' + v.name);
  for (const s of C.services) for (const f of s.features) addEdge('view:' + f.view, 'service:' + s.name);
  const servicesOf = (view) => C.services.filter((s) => s.features.some((f) => f.view === view));

  // ---- formatting ----
  function duration(sec) {
    if (sec === null || sec === undefined) return 'none';
    for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'm']]) if (sec >= n && sec % n === 0) return sec / n + u;
    if (sec >= 86400) return (sec / 86400).toFixed(1) + 'd';
    if (sec >= 3600) return (sec / 3600).toFixed(1) + 'h';
    if (sec >= 60) return (sec / 60).toFixed(1) + 'm';
    return Math.round(sec) + 's';
  }
  function num(v) {
    if (v === null || v === undefined) return '–';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v)) return v.toLocaleString('en');
    const a = Math.abs(v);
    return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(2) : v.toLocaleString('en', { maximumFractionDigits: 3 });
  }
  const badge = (text, cls) => el('span', { class: 'badge ' + (cls || '') }, text);
  function metaGrid(pairs) {
    return el('dl', { class: 'meta' }, pairs.filter((p) => p[1] !== undefined && p[1] !== '' && p[1] !== null).map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  }
  function table(head, rows, rowAttrs) {
    return el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, rows.map((r, i) => el('tr', rowAttrs ? rowAttrs(i) : {}, r.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : el('td', {}, c)))))));
  }

  /** SQL as text nodes with keywords, strings and comments in spans. */
  const SQL_TOKEN = /(--[^\n]*|'(?:[^']|'')*'|\b(?:select|from|where|group|by|order|having|qualify|over|partition|range|rows|between|preceding|following|current|row|and|or|not|as|on|join|left|inner|asof|lateral|union|all|with|case|when|then|else|end|distinct|interval|cast|limit|is|null|in|window|filter)\b)/gi;
  function sqlBlock(sql) {
    const code = el('code');
    let last = 0;
    for (const m of sql.matchAll(SQL_TOKEN)) {
      code.append(sql.slice(last, m.index));
      const t = m[0];
      code.append(el('span', { class: t.startsWith('--') ? 'cmt' : t.startsWith("'") ? 'str' : 'kw' }, t));
      last = m.index + t.length;
    }
    code.append(sql.slice(last));
    return el('pre', {}, code);
  }

  /** A box plot of p05–p95 (whiskers) and p25–p75 (box) with the median, on the min–max scale. */
  function boxPlot(s) {
    const keys = ['min', 'p05', 'p25', 'p50', 'p75', 'p95', 'max'];
    if (keys.some((k) => typeof s[k] !== 'number')) return '';
    const lo = s.min, hi = s.max, w = 120, x = (v) => (hi === lo ? w / 2 : 4 + ((v - lo) / (hi - lo)) * (w - 8));
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'box'); svg.setAttribute('width', w); svg.setAttribute('height', 16);
    const add = (tag, a) => { const e = document.createElementNS(ns, tag); for (const k in a) e.setAttribute(k, a[k]); svg.append(e); };
    add('line', { x1: x(s.p05), x2: x(s.p95), y1: 8, y2: 8, stroke: '#98a2b3' });
    add('rect', { x: x(s.p25), y: 3, width: Math.max(1, x(s.p75) - x(s.p25)), height: 10, fill: '#c5d0fa', stroke: '#3b5bdb' });
    add('line', { x1: x(s.p50), x2: x(s.p50), y1: 2, y2: 14, stroke: '#1d2430', 'stroke-width': 2 });
    const t = document.createElementNS(ns, 'title');
    t.textContent = `p05 ${num(s.p05)} · p25 ${num(s.p25)} · p50 ${num(s.p50)} · p75 ${num(s.p75)} · p95 ${num(s.p95)}`;
    svg.append(t);
    return svg;
  }

  // ---- lineage graph ----
  let cy;
  function neighbourhood(center) {
    const keep = new Set([center]);
    for (const dir of [up, down]) {
      let frontier = [center];
      while (frontier.length > 0 && keep.size < GRAPH_LIMIT) {
        const next = [];
        for (const id of frontier) for (const n of dir.get(id) || []) if (!keep.has(n) && keep.size < GRAPH_LIMIT) { keep.add(n); next.push(n); }
        frontier = next;
      }
    }
    return keep;
  }
  /**
   * A layered layout, left to right: a node's column is its longest path from a root of the drawn
   * subgraph (so a view sits right of every input, a service right of its views); within a column,
   * nodes sit by the mean row of their inputs (fewer crossings), then by name.
   */
  function layered(ids) {
    const depth = new Map();
    const depthOf = (id) => {
      if (!depth.has(id)) {
        depth.set(id, 0);
        depth.set(id, Math.max(0, ...(up.get(id) || []).filter((u) => ids.has(u)).map((u) => depthOf(u) + 1)));
      }
      return depth.get(id);
    };
    const columns = [];
    for (const id of ids) (columns[depthOf(id)] ||= []).push(id);
    const row = new Map();
    const positions = {};
    columns.forEach((col, x) => {
      const mean = (id) => { const r = (up.get(id) || []).filter((u) => row.has(u)).map((u) => row.get(u)); return r.length ? r.reduce((a, b) => a + b, 0) / r.length : 0; };
      col.sort((a, b) => mean(a) - mean(b) || nodes.get(a).name.localeCompare(nodes.get(b).name));
      col.forEach((id, y) => { row.set(id, y - (col.length - 1) / 2); positions[id] = { x: x * 240, y: row.get(id) * 64 }; });
    });
    return positions;
  }
  function drawGraph(container, ids, center) {
    if (cy) cy.destroy();
    const elements = [];
    for (const id of ids) {
      const n = nodes.get(id);
      elements.push({ data: { id, label: n.name, color: COLORS[n.kind] }, classes: id === center ? 'center' : '' });
    }
    for (const id of ids) for (const t of down.get(id) || []) if (ids.has(t)) elements.push({ data: { id: id + '->' + t, source: id, target: t } });
    cy = window.cytoscape({
      container,
      elements,
      minZoom: 0.15,
      maxZoom: 1.3,
      style: [
        { selector: 'node', style: { 'background-color': 'data(color)', label: 'data(label)', 'font-size': 11, color: '#1d2430', 'text-valign': 'bottom', 'text-margin-y': 4, width: 16, height: 16 } },
        { selector: 'node.center', style: { width: 26, height: 26, 'border-width': 3, 'border-color': '#101828', 'font-weight': 'bold' } },
        { selector: 'edge', style: { width: 1.5, 'line-color': '#c0c6d0', 'target-arrow-color': '#c0c6d0', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
      ],
    });
    cy.layout({ name: 'preset', positions: layered(ids), fit: true, padding: 24, animate: false }).run();
    cy.on('tap', 'node', (e) => { location.hash = e.target.id(); });
    container.dataset.nodes = [...ids].map((id) => nodes.get(id).name).join(' ');
  }
  function graphSection(center, all) {
    const ids = all || neighbourhood(center);
    const box = el('div', { id: 'graph' });
    const total = all ? nodes.size : null;
    const section = el('section', {},
      el('h2', {}, all ? 'Lineage' : 'Lineage: sources → views → services'),
      el('div', { class: 'legend' }, Object.entries({ source: 'source', view: 'feature view', on_demand: 'on-demand view', service: 'service', request: 'request source' }).map(([k, t]) => el('span', {}, el('i', { style: 'background:' + COLORS[k] }), t))),
      box,
      ids.size >= GRAPH_LIMIT && !total ? el('p', { class: 'muted' }, `Showing the nearest ${ids.size} nodes; click one to move there.`) : '');
    requestAnimationFrame(() => drawGraph(box, ids, center));
    return section;
  }

  // ---- pages ----
  const VIEWS_SHOWN = 50; // rows of the overview's table of views before "show all"
  function viewsTable(limit) {
    const shown = C.views.slice(0, limit);
    const t = table(['view', 'entities', 'features', 'TTL', 'materialized', 'owner', 'last run', 'freshness'], shown.map((v) => [
      link('view:' + v.name), v.entities.join(', '), String(v.features.length), v.kind === 'on_demand' ? '–' : duration(v.ttl_seconds), v.materialized, v.owner,
      v.run ? badge(v.run.status, v.run.status) : '–', v.freshness ? badge(v.freshness.level, v.freshness.level) : '–',
    ]));
    if (shown.length === C.views.length) return t;
    const wrap = el('div', {}, t);
    wrap.append(el('p', {}, el('button', { type: 'button', class: 'more', onclick: () => wrap.replaceWith(viewsTable(Infinity)) }, `Show all ${C.views.length} views`)));
    return wrap;
  }

  function overview() {
    const views = C.views.filter((v) => v.kind === 'feature_view');
    const features = C.views.reduce((n, v) => n + v.features.length, 0);
    const runs = views.filter((v) => v.run);
    const failed = runs.filter((v) => v.run.status !== 'success');
    const graphable = [...nodes.values()].filter((n) => n.kind !== 'entity').map((n) => n.id);
    return [
      el('div', { class: 'kind' }, 'project'),
      el('h1', {}, C.project),
      el('p', { class: 'muted' }, `target ${C.target.name} (${C.target.type}) · generated ${C.generated_at} · fsql ${C.fsql_version}`),
      C.notes.length ? el('div', { class: 'notes' }, C.notes.map((n) => el('p', {}, n))) : '',
      el('div', { class: 'cards' },
        [['feature views', views.length], ['on-demand views', C.views.length - views.length], ['features', features], ['services', C.services.length], ['sources', C.sources.length], ['entities', C.entities.length]].map(([k, v]) => el('div', { class: 'card' }, el('b', {}, num(v)), k))),
      runs.length ? el('p', {}, `Last run: ${runs.length - failed.length} of ${runs.length} views built`, failed.length ? [' · failed: ', ...failed.map((v, i) => [i ? ', ' : '', link('view:' + v.name)])] : '') : '',
      el('h2', {}, 'Feature services'),
      table(['service', 'features', 'online', 'description'], C.services.map((s) => [link('service:' + s.name), String(s.features.reduce((n, f) => n + (f.features.length || nodes.get('view:' + f.view)?.data.features.length || 0), 0)), s.online ? 'yes' : 'no', s.description])),
      el('h2', {}, `Feature views (${C.views.length})`),
      viewsTable(VIEWS_SHOWN),
      el('h2', {}, 'Targets'),
      table(['target', 'type', 'compiled SQL'], C.targets.map((t) => [t.name, t.type || '?', t.error ? el('span', { class: 'badge error' }, 'not compiled: ' + t.error) : 'yes'])),
      graphable.length <= OVERVIEW_LIMIT ? graphSection(null, new Set(graphable)) : el('p', { class: 'muted' }, `${graphable.length} nodes: open a view, source or service to see its lineage.`),
    ];
  }

  const STAT_HEADS = ['null', 'mean', 'min … max', 'p05 · p25 · p50 · p75 · p95', 'distinct'];
  function featureRow(f, withStats) {
    const s = f.stats;
    const cells = [
      el('td', { id: 'feature-' + f.name }, el('code', {}, f.name)),
      f.type || '–',
      [f.description, f.aggregation ? el('div', { class: 'muted' }, f.aggregation) : '', f.tags.length ? el('div', {}, f.tags.map((t) => badge(t))) : '', f.tests.length ? el('div', { class: 'muted' }, 'tests: ' + f.tests.join(', ')) : ''],
    ];
    if (!withStats) return cells;
    return [
      ...cells,
      el('td', { class: 'num' }, s ? num(s.null_fraction === null || s.null_fraction === undefined ? null : s.null_fraction * 100) + '%' : '–'),
      el('td', { class: 'num' }, s ? num(s.mean) : '–'),
      el('td', { class: 'num' }, s ? `${num(s.min)} … ${num(s.max)}` : '–'),
      s ? boxPlot(s) : '',
      el('td', { class: 'num' }, s ? num(s.approx_distinct) : '–'),
    ];
  }

  function viewPage(v, feature) {
    const online = v.kind === 'on_demand';
    const withStats = v.features.some((f) => f.stats);
    const targets = Object.keys(v.sql);
    const sqlBox = el('div');
    const tabs = el('div', { class: 'tabs' });
    const showSql = (t) => {
      for (const b of tabs.children) b.classList.toggle('on', b.textContent === t);
      sqlBox.replaceChildren(sqlBlock(v.sql[t]));
    };
    for (const t of targets) tabs.append(el('button', { type: 'button', onclick: () => showSql(t) }, t));
    if (targets.length) showSql(targets.includes(C.target.name) ? C.target.name : targets[0]);
    const stats = v.features.find((f) => f.stats)?.stats;
    const services = servicesOf(v.name);
    return [
      el('div', { class: 'kind' }, online ? 'on-demand view' : 'feature view'),
      el('h1', {}, v.name),
      el('div', {}, v.tags.map((t) => badge(t)), v.run ? badge('last run: ' + v.run.status, v.run.status) : '', v.freshness ? badge('freshness: ' + v.freshness.level, v.freshness.level) : ''),
      v.description ? el('p', { class: 'desc' }, v.description) : el('p', { class: 'muted' }, 'No description.'),
      metaGrid([
        ['entities', v.entities.length ? v.entities.map((e, i) => [i ? ', ' : '', link('entity:' + e, e)]) : undefined],
        ['join keys', v.join_keys.join(', ') || undefined],
        ['timestamp', v.timestamp],
        ['TTL', online ? undefined : duration(v.ttl_seconds)],
        ['materialized', v.materialized],
        ['online', v.online ? 'yes' : 'no'],
        ['owner', v.owner || undefined],
        ['file', el('code', {}, v.file)],
        ['table', v.relation ? el('code', {}, v.relation) : undefined],
        ['last run', v.run ? `${v.run.status}${v.run.kind ? ' (' + v.run.kind + ')' : ''} in ${v.run.execution_time.toFixed(2)}s at ${v.run.generated_at}` : undefined],
        ['newest offline row', v.freshness?.newest_offline ?? undefined],
        ['sync watermark', v.freshness ? v.freshness.watermark ?? 'never synced' : undefined],
        ['age', v.freshness && v.freshness.age_seconds !== null ? duration(Math.round(v.freshness.age_seconds)) : undefined],
        ['statistics', stats ? `${num(stats.row_count)} rows, recorded ${stats.recorded_at}` : undefined],
      ]),
      v.run && v.run.status !== 'success' && v.run.message ? el('div', { class: 'notes' }, el('p', {}, v.run.message)) : '',
      el('h2', {}, `Features (${v.features.length})`),
      table(['feature', 'type', 'description', ...(withStats ? STAT_HEADS : [])], v.features.map((f) => featureRow(f, withStats)), (i) => (v.features[i].name === feature ? { class: 'highlight' } : {})),
      withStats || v.kind === 'on_demand' ? '' : el('p', { class: 'muted' }, 'No feature statistics recorded for this view yet.'),
      services.length ? [el('h2', {}, 'Used by services'), el('p', {}, services.map((s, i) => [i ? ', ' : '', link('service:' + s.name)]))] : '',
      graphSection('view:' + v.name),
      targets.length ? [el('h2', {}, 'Compiled SQL'), tabs, sqlBox] : '',
    ];
  }

  function sourcePage(s) {
    const readers = down.get('source:' + s.key).map((id) => nodes.get(id));
    return [
      el('div', { class: 'kind' }, 'source'),
      el('h1', {}, s.key),
      s.freshness ? badge('freshness: ' + s.freshness.level, s.freshness.level) : '',
      s.description ? el('p', { class: 'desc' }, s.description) : '',
      metaGrid([['relation', el('code', {}, s.relation)], ['timestamp', s.timestamp || undefined], ['newest row', s.freshness?.newest ?? undefined], ['age', s.freshness && s.freshness.age_seconds !== null ? duration(Math.round(s.freshness.age_seconds)) : undefined]]),
      el('h2', {}, `Read by ${readers.length} views`),
      el('p', {}, readers.map((n, i) => [i ? ', ' : '', link(n.id)])),
      graphSection('source:' + s.key),
    ];
  }

  function servicePage(s) {
    return [
      el('div', { class: 'kind' }, 'feature service'),
      el('h1', {}, s.name),
      badge(s.online ? 'online' : 'offline only'),
      s.description ? el('p', { class: 'desc' }, s.description) : '',
      el('h2', {}, 'Features'),
      table(['view', 'features'], s.features.map((f) => [link('view:' + f.view), f.features.length ? f.features.map((n, i) => [i ? ', ' : '', link(`view:${f.view}/${n}`, n)]) : 'every feature'])),
      graphSection('service:' + s.name),
    ];
  }

  function entityPage(e) {
    const views = C.views.filter((v) => v.entities.includes(e.name));
    return [
      el('div', { class: 'kind' }, 'entity'),
      el('h1', {}, e.name),
      e.description ? el('p', { class: 'desc' }, e.description) : '',
      metaGrid([['join keys', e.join_keys.join(', ')]]),
      el('h2', {}, `Views keyed on ${e.name} (${views.length})`),
      el('p', {}, views.map((v, i) => [i ? ', ' : '', link('view:' + v.name)])),
    ];
  }

  function requestPage(r) {
    return [
      el('div', { class: 'kind' }, 'request source'),
      el('h1', {}, r.name),
      r.description ? el('p', { class: 'desc' }, r.description) : '',
      table(['field', 'type'], r.fields.map((f) => [el('code', {}, f.name), f.type])),
      graphSection('request:' + r.name),
    ];
  }

  // ---- navigation ----
  const navLinks = new Map();
  function buildNav() {
    const groups = [
      ['Feature services', C.services.map((s) => 'service:' + s.name)],
      ['Feature views', C.views.filter((v) => v.kind === 'feature_view').map((v) => 'view:' + v.name)],
      ['On-demand views', C.views.filter((v) => v.kind === 'on_demand').map((v) => 'view:' + v.name)],
      ['Sources', C.sources.map((s) => 'source:' + s.key)],
      ['Request sources', C.request_sources.map((r) => 'request:' + r.name)],
      ['Entities', C.entities.map((e) => 'entity:' + e.name)],
    ];
    nav.append(el('a', { href: '#', style: 'margin: 0 12px 8px; font-weight: 600' }, 'Overview'));
    for (const [title, ids] of groups) {
      if (!ids.length) continue;
      const ul = el('ul');
      for (const id of ids) {
        const a = el('a', { href: '#' + id, title: nodes.get(id).name }, nodes.get(id).name);
        navLinks.set(id, a);
        ul.append(el('li', {}, a));
      }
      nav.append(el('details', { open: true }, el('summary', {}, `${title} (${ids.length})`), ul));
    }
  }

  let current;
  function route() {
    const hash = decodeURIComponent(location.hash.slice(1));
    const colon = hash.indexOf(':');
    const kind = hash.slice(0, colon);
    const [name, feature] = hash.slice(colon + 1).split('/');
    const id = colon > 0 ? kind + ':' + name : '';
    const node = nodes.get(id);
    if (cy) { cy.destroy(); cy = undefined; }
    let page;
    if (!node) page = overview();
    else if (node.kind === 'view' || node.kind === 'on_demand') page = viewPage(node.data, feature);
    else if (node.kind === 'source') page = sourcePage(node.data);
    else if (node.kind === 'service') page = servicePage(node.data);
    else if (node.kind === 'entity') page = entityPage(node.data);
    else page = requestPage(node.data);
    main.replaceChildren(...page.flat(Infinity));
    navLinks.get(current)?.classList.remove('current');
    current = node ? id : undefined;
    const a = navLinks.get(current);
    if (a) { a.classList.add('current'); a.scrollIntoView({ block: 'nearest' }); }
    document.title = (node ? node.name + ' · ' : '') + C.project + ' · fsql docs';
    if (feature) document.getElementById('feature-' + feature)?.scrollIntoView({ block: 'center' });
    else window.scrollTo(0, 0);
  }

  // ---- search ----
  const entries = [];
  for (const v of C.views) {
    for (const f of v.features) entries.push({ hash: `view:${v.name}/${f.name}`, name: f.name, sub: `feature of ${v.name}${f.type ? ' · ' + f.type : ''}${f.description ? ' · ' + f.description : ''}`, text: [f.name, v.name, f.description, ...f.tags].join(' ').toLowerCase(), rank: 0 });
    entries.push({ hash: 'view:' + v.name, name: v.name, sub: (v.kind === 'on_demand' ? 'on-demand view' : 'feature view') + (v.description ? ' · ' + v.description : ''), text: [v.name, v.description, v.owner, ...v.tags, ...v.entities].join(' ').toLowerCase(), rank: 1 });
  }
  for (const s of C.services) entries.push({ hash: 'service:' + s.name, name: s.name, sub: 'feature service' + (s.description ? ' · ' + s.description : ''), text: (s.name + ' ' + s.description).toLowerCase(), rank: 1 });
  for (const s of C.sources) entries.push({ hash: 'source:' + s.key, name: s.key, sub: 'source' + (s.description ? ' · ' + s.description : ''), text: (s.key + ' ' + s.description).toLowerCase(), rank: 2 });
  for (const e of C.entities) entries.push({ hash: 'entity:' + e.name, name: e.name, sub: 'entity · ' + e.join_keys.join(', '), text: (e.name + ' ' + e.join_keys.join(' ')).toLowerCase(), rank: 2 });

  let hits = [];
  let active = 0;
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    if (!q) { results.hidden = true; return; }
    const terms = q.split(/\s+/);
    const score = (e) => { const n = e.name.toLowerCase(); return (n === q ? 0 : n.startsWith(q) ? 1 : n.includes(q) ? 2 : 3) * 10 + e.rank; };
    hits = entries.filter((e) => terms.every((t) => e.text.includes(t))).sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name)).slice(0, 40);
    active = 0;
    results.replaceChildren(...(hits.length ? hits.map((h, i) => el('li', { class: i === 0 ? 'active' : '', onmousedown: (ev) => { ev.preventDefault(); go(i); } }, h.name, el('span', { class: 'sub' }, h.sub))) : [el('li', { class: 'muted' }, 'No match')]));
    results.hidden = false;
  }
  function go(i) {
    if (!hits[i]) return;
    location.hash = hits[i].hash;
    results.hidden = true;
    search.blur();
  }
  search.addEventListener('input', runSearch);
  search.addEventListener('focus', runSearch);
  search.addEventListener('blur', () => { results.hidden = true; });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') go(active);
    else if (e.key === 'Escape') { results.hidden = true; search.blur(); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = Math.max(0, Math.min(hits.length - 1, active + (e.key === 'ArrowDown' ? 1 : -1)));
      [...results.children].forEach((li, i) => li.classList.toggle('active', i === active));
      results.children[active]?.scrollIntoView({ block: 'nearest' });
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== search) { e.preventDefault(); search.focus(); }
  });

  document.getElementById('project').textContent = `${C.project} · ${C.target.name} (${C.target.type})`;
  buildNav();
  window.addEventListener('hashchange', route);
  route();
  document.body.dataset.ready = 'true';
})();
