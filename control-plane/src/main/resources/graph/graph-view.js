// Septa traffic graph, large meshes: workloads grouped by segment (and namespace) with aggregated edges, a group
// expanded on click, and the workload-name filter. Plugs into graph.js through window.septa.hooks.
(function () {
  'use strict';

  const septa = window.septa;
  // Above this many workloads on screen, groups start collapsed: 200 workloads and 1,000 edges drawn one by one
  // are a hairball; 40 segments with their aggregated edges are not.
  const COLLAPSE_ABOVE = 40;
  // Above this many segments, namespaces start collapsed too (one node each): a click opens a namespace into its
  // segments, a click on a segment into its workloads.
  const COLLAPSE_NAMESPACES_ABOVE = 16;
  const view = { expanded: new Set(), collapsed: new Set(), expandedNs: new Set(), collapsedNs: new Set(), name: '' };
  septa.view = view;

  const $ = (id) => document.getElementById(id);
  const groupKey = (n) => n.namespace + '/' + (n.segment || '(no segment)');
  const groupId = (key) => 'grp:' + key;

  function nameMatches(id) {
    return view.name !== '' && id.toLowerCase().includes(view.name);
  }

  // The name filter: the edges touching a workload whose id contains the text, and those workloads.
  septa.hooks.edgeFilters.push((e) => view.name === '' || nameMatches(e.source) || nameMatches(e.target));
  septa.hooks.nodeFilters.push((n) => view.name === '' || nameMatches(n.id));

  /** Whether the group of workload n is drawn as one node. */
  function isCollapsed(n, many, forced) {
    if (n.external) return false;
    const key = groupKey(n);
    if (forced.has(key) || view.expanded.has(key)) return false;
    return many || view.collapsed.has(key);
  }

  /** Whether the namespace of workload n is drawn as one node. */
  function isNsCollapsed(n, manyGroups, forced) {
    if (n.external || forced.has(n.namespace) || view.expandedNs.has(n.namespace)) return false;
    return manyGroups || view.collapsedNs.has(n.namespace);
  }

  /** Replaces the workloads of collapsed groups by one node each, and merges the edges between the same ends. */
  septa.hooks.views.push((nodes, edges, data) => {
    const many = nodes.filter((n) => !n.external).length > COLLAPSE_ABOVE;
    // Groups holding a workload the name filter matches, or one a finding points at, stay open so it can be seen.
    const forced = new Set();
    nodes.forEach((n) => {
      if (nameMatches(n.id) || (septa.forceOpen && septa.forceOpen(n))) {
        forced.add(groupKey(n));
        forced.add(n.namespace);
      }
    });
    const manyGroups = new Set(nodes.filter((n) => !n.external).map(groupKey)).size > COLLAPSE_NAMESPACES_ABOVE;
    const groups = new Map();
    const endOf = new Map();
    const outNodes = [];
    nodes.forEach((n) => {
      const nsCollapsed = isNsCollapsed(n, manyGroups, forced);
      if (!nsCollapsed && !isCollapsed(n, many, forced)) {
        outNodes.push(n);
        endOf.set(n.id, n.id);
        return;
      }
      const key = nsCollapsed ? n.namespace : groupKey(n);
      let g = groups.get(key);
      if (!g) {
        g = { id: nsCollapsed ? 'nsg:' + key : groupId(key), namespace: n.namespace, segment: null, name: key, kind: 'group',
          external: false, members: [], key: key, whole: nsCollapsed };
        groups.set(key, g);
        outNodes.push(g);
      }
      g.members.push(n.id);
      endOf.set(n.id, g.id);
    });
    groups.forEach((g) => {
      g.size = g.members.length;
      g.label = (g.whole ? g.namespace + ': all' : g.key.endsWith('/(no segment)') ? g.namespace : g.key) + ' (' + g.size + ')';
    });
    if (groups.size === 0) return { nodes: outNodes, edges: edges };
    const merged = new Map();
    const outEdges = [];
    edges.forEach((e) => {
      const s = endOf.get(e.source) || e.source;
      const t = endOf.get(e.target) || e.target;
      if (s === e.source && t === e.target) {
        outEdges.push(e);
        return;
      }
      const key = s + '>' + t + '|' + e.verdict + (e.wouldDenyBy ? '~' : '');
      let a = merged.get(key);
      if (!a) {
        a = { id: 'agg:' + key, source: s, target: t, verdict: e.verdict, wouldDenyBy: e.wouldDenyBy ? 'DryRun' : null,
          aggregate: 0, requests: 0, ratePerSecond: 0, ports: new Set(), intents: new Set(), members: [], lastSeen: e.lastSeen };
        merged.set(key, a);
        outEdges.push(a);
      }
      a.aggregate++;
      a.requests += e.requests;
      a.ratePerSecond += e.ratePerSecond;
      a.ports.add(e.port);
      if (e.decidedBy) a.intents.add(e.decidedBy);
      a.members.push(e.source + '>' + e.target + ':' + e.port);
      if (e.lastSeen > a.lastSeen) a.lastSeen = e.lastSeen;
    });
    merged.forEach((a) => {
      a.port = a.ports.size === 1 ? Array.from(a.ports)[0] : null;
      a.decidedBy = a.intents.size === 1 ? Array.from(a.intents)[0] : a.intents.size + ' intents';
      const rate = a.ratePerSecond >= 10 ? a.ratePerSecond.toFixed(0) : a.ratePerSecond.toFixed(1);
      a.label = a.aggregate + (a.aggregate === 1 ? ' edge ' : ' edges ') + rate + '/s';
      delete a.ports;
      delete a.intents;
    });
    return { nodes: outNodes, edges: outEdges };
  });

  // Click a group to expand it (a namespace into its segments, a segment into its workloads); double-click the box of
  // an open segment or namespace to collapse it again (a single click there only clears the selection).
  septa.cy.on('tap', (ev) => {
    const t = ev.target;
    if (t === septa.cy || !t.isNode() || t.data('kind') !== 'group') return;
    if (t.id().startsWith('nsg:')) {
      const ns = t.id().substring(4);
      view.expandedNs.add(ns);
      view.collapsedNs.delete(ns);
    } else {
      const key = t.id().substring(4);
      view.expanded.add(key);
      view.collapsed.delete(key);
    }
    septa.render();
  });
  septa.cy.on('dbltap', (ev) => {
    const t = ev.target;
    if (t === septa.cy || !t.isNode()) return;
    if (t.data('kind') === 'namespace') {
      const ns = t.id().substring(3);
      view.expandedNs.delete(ns);
      view.collapsedNs.add(ns);
    } else if (t.data('kind') === 'segment') {
      const key = t.id().substring(4);
      view.expanded.delete(key);
      view.collapsed.add(key);
    } else {
      return;
    }
    septa.render();
  });

  $('f-name').addEventListener('input', () => {
    view.name = $('f-name').value.trim().toLowerCase();
    septa.render();
  });
  $('collapse-all').addEventListener('click', () => {
    view.expanded.clear();
    view.expandedNs.clear();
    (septa.state.data ? septa.state.data.nodes : []).forEach((n) => {
      if (!n.external) {
        view.collapsed.add(groupKey(n));
        view.collapsedNs.add(n.namespace);
      }
    });
    septa.render();
  });
})();
