// Septa traffic graph: renders /api/graph with cytoscape.js and follows /api/graph/events (server-sent events).
(function () {
  'use strict';

  const COLORS = { ALLOW: '#2e7d32', DENY: '#c62828' };
  const state = { data: null, namespaces: null, selected: null, version: -1 };
  // Extension points for the page's other modules (graph-view.js: grouping and the name filter; graph-findings.js):
  // edgeFilters/nodeFilters narrow what is drawn, views regroup it, decorators add classes to elements.
  const hooks = { edgeFilters: [], nodeFilters: [], views: [], decorators: [] };

  const cy = cytoscape({
    container: document.getElementById('cy'),
    wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: { 'label': 'data(label)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4,
          'background-color': '#4a6fa5', 'width': 26, 'height': 26 } },
      { selector: 'node[?external]', style: { 'shape': 'diamond', 'background-color': '#8a94a0' } },
      // Quarantined (septa quarantine): a thick red ring and the reason under the name.
      { selector: 'node[?quarantine]', style: { 'border-color': '#c62828', 'border-width': 5, 'border-style': 'double',
          'background-color': '#5a1f1f', 'text-wrap': 'wrap', 'color': '#c62828', 'font-weight': 600 } },
      { selector: 'node[kind = "namespace"]', style: { 'shape': 'round-rectangle', 'background-color': '#f1f4f8',
          'border-color': '#9aa8b8', 'border-width': 1, 'text-valign': 'top', 'text-halign': 'center', 'font-weight': 600,
          'font-size': 13, 'padding': 18 } },
      { selector: 'node[kind = "segment"]', style: { 'shape': 'round-rectangle', 'background-color': '#e3ecf7',
          'border-color': '#7d9bc1', 'border-width': 1, 'border-style': 'dashed', 'text-valign': 'top', 'font-size': 11,
          'padding': 12 } },
      { selector: 'edge', style: { 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 1.2,
          'width': 'mapData(rate, 0, 20, 2, 9)', 'label': 'data(label)', 'font-size': 10, 'text-rotation': 'autorotate',
          'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': 2 } },
      { selector: 'edge.allow', style: { 'line-color': COLORS.ALLOW, 'target-arrow-color': COLORS.ALLOW, 'color': COLORS.ALLOW } },
      { selector: 'edge.deny', style: { 'line-color': COLORS.DENY, 'target-arrow-color': COLORS.DENY, 'color': COLORS.DENY } },
      { selector: 'edge.would-deny', style: { 'line-style': 'dashed', 'line-dash-pattern': [8, 5] } },
      { selector: 'node[kind = "group"]', style: { 'shape': 'round-rectangle', 'background-color': '#7d9bc1',
          'width': 'mapData(size, 1, 40, 30, 70)', 'height': 'mapData(size, 1, 40, 30, 70)', 'font-weight': 600 } },
      { selector: 'node.finding', style: { 'border-color': '#e65100', 'border-width': 5 } },
      { selector: 'edge.finding', style: { 'underlay-color': '#ff9800', 'underlay-opacity': 0.45, 'underlay-padding': 6 } },
      { selector: '.focus', style: { 'overlay-color': '#e65100', 'overlay-opacity': 0.25, 'overlay-padding': 8 } },
      { selector: 'edge:selected', style: { 'overlay-color': '#1f2933', 'overlay-opacity': 0.15, 'overlay-padding': 4 } },
    ],
  });

  // Exposed for the browser test and for anyone poking at the page from the console.
  const septa = { cy: cy, state: state, hooks: hooks, render: () => render() };
  window.septa = septa;

  const $ = (id) => document.getElementById(id);

  function fmtRate(r) {
    return r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2);
  }

  function edgeVisible(e, nsShown, nsOf) {
    const v = e.verdict === 'ALLOW' ? $('f-allow').checked : $('f-deny').checked;
    if (!v) return false;
    if ($('f-would').checked && !e.wouldDenyBy) return false;
    if (!hooks.edgeFilters.every((f) => f(e))) return false;
    return nsShown(nsOf(e.source)) || nsShown(nsOf(e.target));
  }

  /** The cytoscape elements for the current data and filters: namespaces > segments > workloads, then edges. */
  function elementsFor(data) {
    const nsShown = (ns) => state.namespaces === null || state.namespaces.has(ns);
    const byId = new Map(data.nodes.map((n) => [n.id, n]));
    const nsOf = (id) => (byId.get(id) || { namespace: '' }).namespace;
    let edges = data.edges.filter((e) => edgeVisible(e, nsShown, nsOf));
    const ends = new Set();
    edges.forEach((e) => { ends.add(e.source); ends.add(e.target); });
    let nodes = data.nodes.filter((n) => (nsShown(n.namespace) && hooks.nodeFilters.every((f) => f(n))) || ends.has(n.id));
    hooks.views.forEach((view) => { ({ nodes, edges } = view(nodes, edges, data)); });
    const classesOf = (group, d) => hooks.decorators.map((f) => f(group, d)).filter((c) => c).join(' ');
    const out = [];
    const parents = new Set();
    nodes.forEach((n) => {
      const nsId = 'ns:' + n.namespace;
      if (!parents.has(nsId)) {
        parents.add(nsId);
        out.push({ group: 'nodes', data: { id: nsId, label: n.namespace, kind: 'namespace' } });
      }
      if (n.segment) {
        const segId = 'seg:' + n.namespace + '/' + n.segment;
        if (!parents.has(segId)) {
          parents.add(segId);
          out.push({ group: 'nodes', data: { id: segId, parent: nsId, label: n.segment, kind: 'segment' } });
        }
      }
    });
    nodes.forEach((n) => {
      const d = { id: n.id, parent: n.segment ? 'seg:' + n.namespace + '/' + n.segment : 'ns:' + n.namespace,
        label: n.quarantine ? (n.label || n.name) + '\n\u26d4 quarantine: ' + n.quarantine : (n.label || n.name), kind: n.kind || 'workload', external: n.external, namespace: n.namespace,
        size: n.size || 1, members: n.members || [], quarantine: n.quarantine || '' };
      out.push({ group: 'nodes', classes: classesOf('nodes', d), data: d });
    });
    edges.forEach((e) => {
      const d = { id: e.aggregate ? e.id : 'e:' + e.id, source: e.source, target: e.target, verdict: e.verdict, port: e.port,
        decidedBy: e.decidedBy || '', wouldDenyBy: e.wouldDenyBy || '', requests: e.requests, rate: e.ratePerSecond,
        lastSeen: e.lastSeen, edges: e.aggregate || 1, members: e.members || [],
        label: e.label || ':' + e.port + '  ' + fmtRate(e.ratePerSecond) + '/s' };
      const classes = e.verdict.toLowerCase() + (e.wouldDenyBy ? ' would-deny' : '') + (e.aggregate ? ' aggregate' : '');
      out.push({ group: 'edges', classes: (classes + ' ' + classesOf('edges', d)).trim(), data: d });
    });
    return out;
  }

  /** Applies new data in place: existing elements keep their positions; layout runs only when nodes appear. */
  function render() {
    if (!state.data) return;
    const next = elementsFor(state.data);
    const ids = new Set(next.map((el) => el.data.id));
    let added = 0;
    cy.batch(() => {
      cy.elements().filter((el) => !ids.has(el.id())).remove();
      next.forEach((el) => {
        const cur = cy.getElementById(el.data.id);
        if (cur.empty()) {
          cy.add(el);
          if (el.group === 'nodes') added++;
        } else {
          if (el.group === 'nodes' && (cur.data('parent') || null) !== (el.data.parent || null)) {
            cur.move({ parent: el.data.parent || null });
          }
          cur.data(el.data);
          if (el.classes !== undefined) cur.classes(el.classes);
        }
      });
    });
    const workloadIds = cy.nodes('[kind = "workload"], [kind = "group"]').map((n) => n.id()).sort().join('\n');
    if (added > 0 || workloadIds !== state.laidOutFor) {
      state.laidOutFor = workloadIds;
      cy.layout({ name: 'preset', positions: flowPositions(), fit: true, padding: 30, animate: false }).run();
    }
    renderSide();
  }

  /**
   * A deterministic layout that reads as a flow: namespaces are bands from top to bottom; inside a band each
   * segment is a column placed by its depth in the call graph (callers left of callees), workloads stacked in it.
   * Deterministic, so a live update moves nothing the reader has already found.
   */
  function flowPositions() {
    const COL_W = 230, ROW_H = 80, GROUP_GAP = 70, BAND_GAP = 90, STAGGER = 60;
    // A collapsed group is a column of its own, as its segment would be.
    const groupOf = (n) => n.data('kind') === 'group' ? n.id() : n.data('parent');
    const workloads = cy.nodes('[kind = "workload"], [kind = "group"]');
    const groups = Array.from(new Set(workloads.map(groupOf))).sort();
    const rank = new Map(groups.map((g) => [g, 0]));
    const links = cy.edges().map((e) => [groupOf(e.source()), groupOf(e.target())]).filter(([a, b]) => a !== b);
    let converged = false;
    for (let i = 0; i < groups.length && !converged; i++) {
      let changed = false;
      links.forEach(([a, b]) => {
        const r = Math.min(groups.length, rank.get(a) + 1);
        if (rank.get(b) < r) { rank.set(b, r); changed = true; }
      });
      converged = !changed;
    }
    // Ranks that ran up to the cap mean a cycle: calls in a cycle have no left-to-right order.
    const ordered = converged && Array.from(rank.values()).every((r) => r < groups.length);
    const nsOf = (g) => cy.getElementById(g).data('kind') === 'namespace' ? g : cy.getElementById(g).data('parent');

    const bands = Array.from(new Set(groups.map(nsOf))).sort((a, b) =>
      (a === 'ns:(outside)') - (b === 'ns:(outside)') || a.localeCompare(b));
    const pos = {};
    let top = 0;
    bands.forEach((band) => {
      const columns = new Map();
      const inBand = groups.filter((g) => nsOf(g) === band);
      // Without an order (a cycle), lay the band out as a grid instead.
      const perRow = Math.ceil(Math.sqrt(inBand.length * 2));
      inBand.forEach((g, i) => {
        const r = ordered ? rank.get(g) : i % perRow;
        if (!columns.has(r)) columns.set(r, []);
        columns.get(r).push(g);
      });
      let bandHeight = 0;
      columns.forEach((gs, r) => {
        // Odd columns sit half a row lower, so an edge that skips a column does not run through its nodes.
        let y = top + (r % 2) * STAGGER;
        gs.forEach((g) => {
          const members = workloads.filter((n) => groupOf(n) === g).map((n) => n.id()).sort();
          members.forEach((id, i) => { pos[id] = { x: r * COL_W, y: y + i * ROW_H }; });
          y += members.length * ROW_H + GROUP_GAP;
        });
        bandHeight = Math.max(bandHeight, y - top);
      });
      top += bandHeight + BAND_GAP;
    });
    return (node) => pos[node.id()] || node.position();
  }

  function renderSide() {
    const d = state.data;
    const denied = d.edges.filter((e) => e.verdict === 'DENY').length;
    $('summary').textContent = d.nodes.length + ' workloads, ' + d.edges.length + ' edges (' + denied + ' denied)';
    $('window').textContent = 'last ' + Math.round(d.windowSeconds / 60) + ' min, updated ' + new Date(d.generatedAt).toLocaleTimeString();
    const w = [];
    if (d.counters.shed > 0) w.push(d.counters.shed + ' access-log entries shed by the flood guard: counts are lower bounds.');
    if (d.counters.droppedEdgeCap > 0) w.push(d.counters.droppedEdgeCap + ' calls dropped at the edge cap.');
    if (d.counters.refusedMessages + d.counters.malformedEntries > 0) {
      w.push((d.counters.refusedMessages + d.counters.malformedEntries) + ' malformed access-log messages or entries refused.');
    }
    $('warnings').replaceChildren(...w.map((t) => { const p = document.createElement('div'); p.className = 'warn'; p.textContent = t; return p; }));
    renderNamespaceFilter(d.namespaces);
    if (state.selected) {
      const e = cy.getElementById(state.selected);
      showDetails(e.nonempty() ? e : null);
    }
  }

  function renderNamespaceFilter(namespaces) {
    const box = $('f-ns');
    const have = Array.from(box.querySelectorAll('input')).map((i) => i.value);
    if (have.join('\n') === namespaces.join('\n')) return;
    box.replaceChildren(...namespaces.map((ns) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = ns;
      input.checked = state.namespaces === null || state.namespaces.has(ns);
      input.addEventListener('change', () => {
        const checked = Array.from(box.querySelectorAll('input')).filter((i) => i.checked).map((i) => i.value);
        state.namespaces = checked.length === namespaces.length ? null : new Set(checked);
        render();
      });
      label.append(input, ' ' + ns);
      return label;
    }));
  }

  function describe(e) {
    const d = e.data();
    const by = d.decidedBy ? (d.verdict === 'ALLOW' ? 'allowed by ' : 'denied by ') + d.decidedBy : d.verdict.toLowerCase();
    return by + (d.wouldDenyBy ? '; DryRun would deny: ' + d.wouldDenyBy : '');
  }

  function showDetails(e) {
    const box = $('details');
    if (!e) {
      state.selected = null;
      box.className = 'muted';
      box.textContent = 'Click an edge to see the intent that decided it.';
      return;
    }
    const d = e.data();
    state.selected = d.id;
    box.className = '';
    const rows = d.edges > 1 ? [
      ['from', d.source], ['to', d.target], ['verdict', d.verdict], ['decided by', d.decidedBy || '(not reported)'],
      ['edges', d.edges + ' (click a group to expand it)'], ['requests', String(d.requests)], ['rate', fmtRate(d.rate) + '/s'],
    ] : [
      ['from', d.source], ['to', d.target + ':' + d.port],
      ['verdict', d.verdict], ['decided by', d.decidedBy || '(not reported)'],
      ['would deny', d.wouldDenyBy || '—'], ['requests', String(d.requests)], ['rate', fmtRate(d.rate) + '/s'],
      ['last seen', new Date(d.lastSeen).toLocaleTimeString()],
    ];
    const dl = document.createElement('dl');
    rows.forEach(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      if (k === 'verdict') dd.className = 'verdict-' + v;
      if (k === 'decided by') dd.id = 'details-intent';
      dl.append(dt, dd);
    });
    box.replaceChildren(dl);
  }

  cy.on('tap', 'edge', (ev) => showDetails(ev.target));
  cy.on('tap', (ev) => { if (ev.target === cy) showDetails(null); });
  const tip = $('tip');
  cy.on('mouseover', 'edge', (ev) => {
    tip.textContent = describe(ev.target);
    tip.hidden = false;
  });
  cy.on('mousemove', (ev) => {
    if (!tip.hidden) {
      tip.style.left = (ev.renderedPosition.x + $('cy').offsetLeft + 12) + 'px';
      tip.style.top = (ev.renderedPosition.y + 12) + 'px';
    }
  });
  cy.on('mouseout', 'edge', () => { tip.hidden = true; });
  ['f-allow', 'f-deny', 'f-would'].forEach((id) => $(id).addEventListener('change', render));

  function accept(data) {
    if (data.version < state.version && state.data) return; // an older answer overtaken by an event
    state.version = data.version;
    state.data = data;
    render();
  }

  fetch('/api/graph').then((r) => r.json()).then(accept).catch(() => {});
  const events = new EventSource('/api/graph/events');
  septa.events = events;
  events.addEventListener('graph', (ev) => accept(JSON.parse(ev.data)));
  events.onopen = () => { $('live').textContent = 'live'; $('live').className = 'live on'; };
  events.onerror = () => { $('live').textContent = 'reconnecting…'; $('live').className = 'live off'; };
})();
