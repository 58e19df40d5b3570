// Septa traffic graph, findings: the list from /api/findings, kept live by the stream's `finding` events; the workload
// and edge of each finding highlighted (or the group and aggregated edge holding them); the "only findings" filter;
// a click on a finding opens its groups and marks its workload and edge. Plugs into graph.js through window.septa.hooks.
(function () {
  'use strict';

  const septa = window.septa;
  const findings = new Map(); // id -> finding
  const focus = { finding: null };
  septa.findings = findings;
  const $ = (id) => document.getElementById(id);
  const MAX_LISTED = 100;

  /** Edge keys (source>destination:port) and source workloads the findings point at. */
  function index() {
    const edges = new Set();
    const sources = new Set();
    const probing = new Set();
    findings.forEach((f) => {
      sources.add(f.source);
      if (f.kind === 'PROBING') probing.add(f.source);
      edges.add(f.source + '>' + f.destination + ':' + f.port);
      (f.targets || []).forEach((t) => edges.add(f.source + '>' + t));
    });
    return { edges: edges, sources: sources, probing: probing };
  }
  let idx = index();

  const onlyFindings = () => $('f-finding').checked;
  // A finding's edge; for a probing source, every denied edge of it (the finding lists only its first 16 targets).
  const hasFinding = (e) => idx.edges.has(e.source + '>' + e.target + ':' + e.port) || (e.verdict === 'DENY' && idx.probing.has(e.source));
  septa.hooks.edgeFilters.push((e) => !onlyFindings() || hasFinding(e));
  septa.hooks.nodeFilters.push((n) => !onlyFindings() || idx.sources.has(n.id));
  septa.hooks.decorators.push((group, d) => {
    if (group === 'nodes') {
      const hit = idx.sources.has(d.id) || (d.members || []).some((m) => idx.sources.has(m));
      const focused = focus.finding && (d.id === focus.finding.source);
      return (hit ? 'finding' : '') + (focused ? ' focus' : '');
    }
    const keys = d.members && d.members.length ? d.members : [d.source + '>' + d.target + ':' + d.port];
    const hit = keys.some((k) => idx.edges.has(k) || (d.verdict === 'DENY' && idx.probing.has(k.substring(0, k.indexOf('>')))));
    const f = focus.finding;
    const focused = f && keys.includes(f.source + '>' + f.destination + ':' + f.port);
    return (hit ? 'finding' : '') + (focused ? ' focus' : '');
  });
  // A finding clicked in the list opens the groups of its workloads.
  septa.forceOpen = (n) => focus.finding !== null && (n.id === focus.finding.source || n.id === focus.finding.destination);

  function accept(f) {
    findings.set(f.id, f);
    idx = index();
    renderList();
    septa.render();
  }

  function renderList() {
    const list = Array.from(findings.values()).sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)).slice(0, MAX_LISTED);
    $('findings-count').textContent = findings.size === 0 ? 'none' : String(findings.size);
    $('findings').replaceChildren(...list.map((f) => {
      const item = document.createElement('li');
      item.className = 'finding-item kind-' + f.kind;
      item.dataset.id = f.id;
      const kind = document.createElement('b');
      kind.textContent = f.kind;
      const what = document.createElement('span');
      what.textContent = ' ' + f.source + ' \u2192 ' + f.destination + ':' + f.port + ' (' + f.count + ')';
      item.title = (f.intent ? 'intent ' + f.intent + '; ' : '') + 'first ' + f.firstSeen + ', last ' + f.lastSeen
        + (f.samples && f.samples.length ? '; ' + f.samples.join(', ') : '');
      item.append(kind, what);
      item.addEventListener('click', () => show(f.id));
      return item;
    }));
  }

  /** Opens the groups of the finding's workloads, marks them, and centres the view on its edge. */
  function show(id) {
    const f = findings.get(id);
    if (!f) return;
    focus.finding = f;
    septa.render();
    const src = septa.cy.getElementById(f.source);
    const edge = septa.cy.edges().filter((e) => e.data('source') === f.source && e.data('target') === f.destination
      && e.data('port') === f.port);
    const shown = src.union(edge);
    if (shown.nonempty()) septa.cy.animate({ fit: { eles: shown.union(edge.connectedNodes()), padding: 80 } }, { duration: 300 });
  }
  septa.showFinding = show;

  $('f-finding').addEventListener('change', () => septa.render());
  fetch('/api/findings').then((r) => r.json()).then((j) => { (j.findings || []).forEach((f) => findings.set(f.id, f)); idx = index(); renderList(); septa.render(); })
    .catch(() => {});
  if (septa.events) septa.events.addEventListener('finding', (ev) => accept(JSON.parse(ev.data)));
})();
