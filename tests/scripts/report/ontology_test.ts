/**
 * scripts/report/ontology.py: label distances in the AudioSet ontology with the root classes
 * removed (the real ontology from ../shared, and a hand-made one), relevance = 1 - d/d_max.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import { LABELS } from "../../../lib/labels.ts";
import { py, pythonHas } from "./_python.ts";

const ONTOLOGY = resolve(loadConfig().sharedDir, "ontology", "ontology.json");
const hasOntology = await Deno.stat(ONTOLOGY).then(() => true, () => false);
// Without numpy the skip is reported once by `deno task setup`; a missing ontology is said here.
if (!hasOntology) console.warn(`report ontology tests skipped: no ${ONTOLOGY}`);
const ready = hasOntology && await pythonHas("numpy");

// Hops between the mapped nodes, read off the AudioSet ontology by hand.
const pairs: [string, string, number][] = [
  ["violin", "violin", 0],
  ["violin", "cello", 2], // both Bowed string instrument
  ["trumpet", "trombone", 2], // both Brass instrument
  ["guitar", "banjo", 2], // both Plucked string instrument
  ["mandolin", "ukulele", 2],
  ["drums", "cymbals", 2], // Drum kit and Cymbal, both Percussion
  ["organ", "synthesizer", 2], // both Keyboard (musical)
  ["flute", "saxophone", 2], // both Wind instrument, woodwind instrument
  ["violin", "trumpet", 4], // via Musical instrument
  ["accordion", "piano", 3], // Accordion is a direct child of Musical instrument
  ["voice", "accordion", 3], // Singing - Choir - Musical instrument - Accordion
  ["voice", "violin", 4],
];

Deno.test({
  name: "label_distances() matches hand-read ontology hops; relevance_matrix() grades them",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import ontology as O
labels = ${JSON.stringify(LABELS)}
d = O.label_distances(O.load_ontology(${JSON.stringify(ONTOLOGY)}), labels)
rel, d_max = O.relevance_matrix(d)
print(json.dumps({"d": d.tolist(), "rel": rel.tolist(), "d_max": d_max}))`) as {
      d: number[][];
      rel: number[][];
      d_max: number;
    };
    const i = (l: string) => LABELS.indexOf(l as typeof LABELS[number]);
    for (const [a, b, hops] of pairs) {
      assert.equal(got.d[i(a)]![i(b)], hops, `${a}-${b}`);
      assert.equal(got.d[i(b)]![i(a)], hops, `${b}-${a} (symmetric)`);
    }
    assert.equal(got.d_max, 4);
    assert.equal(got.rel[i("trombone")]![i("trumpet")], 0.5);
    assert.equal(got.rel[i("violin")]![i("violin")], 1);
    assert.equal(got.rel[i("violin")]![i("piano")], 0);
    assert.equal(got.rel[i("accordion")]![i("banjo")], 0.25);
  },
});

Deno.test({
  name: "graph_without_roots() cuts paths through root classes; unconnected labels get relevance 0",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import ontology as O
nodes = [
  {"id": "R", "name": "Root", "child_ids": ["A", "B"]},
  {"id": "A", "name": "A", "child_ids": ["a1", "a2"]},
  {"id": "B", "name": "B", "child_ids": ["b1"]},
  {"id": "a1", "name": "a1", "child_ids": []},
  {"id": "a2", "name": "a2", "child_ids": ["a3"]},
  {"id": "a3", "name": "a3", "child_ids": []},
  {"id": "b1", "name": "b1", "child_ids": []},
]
mapping = {"x": ("a1", "a1"), "y": ("a3", "a3"), "z": ("b1", "b1")}
d = O.label_distances(nodes, ["x", "y", "z"], mapping)
rel, d_max = O.relevance_matrix(d)
print(json.dumps({"d": [[None if v == float("inf") else v for v in r] for r in d.tolist()], "rel": rel.tolist(), "d_max": d_max}))`) as {
      d: (number | null)[][];
      rel: number[][];
      d_max: number;
    };
    assert.deepEqual(got.d, [[0, 3, null], [3, 0, null], [null, null, 0]]);
    assert.equal(got.d_max, 3);
    assert.deepEqual(got.rel, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  },
});

Deno.test({
  name: "label_distances() refuses a mapping whose node name differs from the ontology",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import ontology as O
try:
    O.label_distances(O.load_ontology(${JSON.stringify(ONTOLOGY)}), ["violin"], {"violin": ("/m/07y_7", "Violin")})
    print(json.dumps("no error"))
except ValueError as e:
    print(json.dumps(str(e)))`) as string;
    assert.match(got, /is 'Violin, fiddle', expected 'Violin'/);
  },
});
