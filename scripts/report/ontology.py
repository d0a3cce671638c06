"""Label relevance from the AudioSet ontology, as in Wu, Fuentes & Bello (2021), section 4.1.

Two labels are as relevant to each other as their ontology nodes are close: rel = 1 - d / d_max,
where d is the shortest-path length between the two nodes in the ontology graph (edges are
parent-child links, followed in both directions) after the root-level classes (Music, Human sounds,
Sounds of things, ...) are removed, and d_max is the largest such distance between two of our
labels. Without the roots, "Singing" (under Human voice) reaches the instruments only through
"Choir", which AudioSet files under both Singing and Musical instrument; a pair that were not
connected at all would get d = d_max (relevance 0).

LABEL_NODES is the reviewed label -> node mapping (see reports/latest/report.md for the reasons).
"""

import json
from collections import deque

import numpy as np

# label -> (AudioSet id, AudioSet name). The name is checked against the ontology file, so a
# renamed or missing node fails loudly instead of silently changing the relevance matrix.
LABEL_NODES = {
    "accordion": ("/m/0mkg", "Accordion"),
    "banjo": ("/m/018j2", "Banjo"),
    "cello": ("/m/01xqw", "Cello"),
    "clarinet": ("/m/01wy6", "Clarinet"),
    "cymbals": ("/m/01qbl", "Cymbal"),
    "drums": ("/m/02hnl", "Drum kit"),
    "flute": ("/m/0l14j_", "Flute"),
    "guitar": ("/m/0342h", "Guitar"),
    "mandolin": ("/m/04rzd", "Mandolin"),
    "organ": ("/m/013y1f", "Organ"),
    "piano": ("/m/05r5c", "Piano"),
    "saxophone": ("/m/06ncr", "Saxophone"),
    "synthesizer": ("/m/0l14qv", "Synthesizer"),
    "trombone": ("/m/07c6l", "Trombone"),
    "trumpet": ("/m/07gql", "Trumpet"),
    "ukulele": ("/m/07xzm", "Ukulele"),
    "violin": ("/m/07y_7", "Violin, fiddle"),
    "voice": ("/m/015lz1", "Singing"),
}


def load_ontology(path):
    """The ontology as a list of node dicts (id, name, child_ids, ...)."""
    with open(path) as f:
        return json.load(f)


def root_ids(nodes):
    """Ids of the root-level classes: nodes that are nobody's child."""
    children = {c for n in nodes for c in n["child_ids"]}
    return {n["id"] for n in nodes if n["id"] not in children}


def graph_without_roots(nodes):
    """Undirected adjacency {id: set(ids)} of parent-child links, root-level classes removed."""
    roots = root_ids(nodes)
    adj = {n["id"]: set() for n in nodes if n["id"] not in roots}
    for n in nodes:
        if n["id"] in roots:
            continue
        for c in n["child_ids"]:
            if c in roots or c not in adj:
                continue
            adj[n["id"]].add(c)
            adj[c].add(n["id"])
    return adj


def shortest_paths(adj, source):
    """Breadth-first hop counts from `source` to every node it reaches."""
    dist = {source: 0}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in adj.get(u, ()):
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def label_distances(nodes, labels, mapping=None):
    """Hop distances [n, n] between the labels' nodes (np.inf where no path exists)."""
    mapping = mapping or LABEL_NODES
    by_id = {n["id"]: n for n in nodes}
    for label in labels:
        node_id, name = mapping[label]
        if node_id not in by_id:
            raise ValueError(f"Ontology has no node {node_id} ({name}) for label {label}")
        if by_id[node_id]["name"] != name:
            raise ValueError(f"Ontology node {node_id} is {by_id[node_id]['name']!r}, expected {name!r} for {label}")
    adj = graph_without_roots(nodes)
    d = np.full((len(labels), len(labels)), np.inf)
    for i, a in enumerate(labels):
        reach = shortest_paths(adj, mapping[a][0])
        for j, b in enumerate(labels):
            if mapping[b][0] in reach:
                d[i, j] = reach[mapping[b][0]]
    return d


def relevance_matrix(distances):
    """rel = 1 - d / d_max with d_max the largest finite distance; unconnected pairs get 0."""
    finite = distances[np.isfinite(distances)]
    d_max = float(finite.max()) if finite.size else 1.0
    if d_max == 0:
        d_max = 1.0
    d = np.where(np.isfinite(distances), distances, d_max)
    return 1.0 - d / d_max, d_max
