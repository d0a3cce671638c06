/**
 * scripts/report/off_the_shelf.py: the AudioSet / ImageNet class mapping exists in the pinned label
 * files, and prediction picks the covered label with the best class score.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LABELS } from "../../../lib/labels.ts";
import { loadConfig } from "../../../lib/config.ts";
import { py, pythonHas } from "./_python.ts";

const { weightsDir } = loadConfig();
const files = { audio: join(weightsDir, "yamnet_class_map.csv"), image: join(weightsDir, "imagenet_labels.txt") };
const hasLabels = await Deno.stat(files.audio).then(() => true, () => false);
// Without numpy the skip is reported once by `deno task setup`; a missing label file is said here.
if (!hasLabels) console.warn(`off-the-shelf tests skipped: no ${files.audio}`);
const ready = hasLabels && await pythonHas("numpy");

Deno.test({
  name: "class_columns() finds every mapped class in the label files",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import off_the_shelf as T
labels = ${JSON.stringify(LABELS)}
a = T.class_columns(T.read_class_names(${JSON.stringify(files.audio)}), T.AUDIOSET, labels)
i = T.class_columns(T.read_class_names(${JSON.stringify(files.image)}), T.IMAGENET, labels)
names = T.read_class_names(${JSON.stringify(files.image)})
print(json.dumps({"audio": len(a), "image": sorted(labels[l] for l in i), "first": names[0], "n": len(names),
  "violin": names[i[labels.index("violin")][0]]}))`) as {
      audio: number;
      image: string[];
      first: string;
      n: number;
      violin: string;
    };
    assert.equal(got.audio, 18, "AudioSet covers all 18 labels");
    assert.deepEqual(got.image, [
      "accordion",
      "banjo",
      "cello",
      "drums",
      "flute",
      "guitar",
      "organ",
      "piano",
      "saxophone",
      "trombone",
      "trumpet",
      "violin",
    ]);
    assert.equal(got.first, "background", "ImageNet scores have the background class first");
    assert.equal(got.n, 1001);
    assert.equal(got.violin, "violin, fiddle");
  },
});

Deno.test({
  name: "predict() takes each label's best class and the best covered label",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import numpy as np, off_the_shelf as T
cols = {0: [0, 1], 2: [3]}  # label 1 uncovered; column 2 belongs to no label
scores = np.array([[0.1, 0.7, 0.9, 0.5], [0.2, 0.1, 0.0, 0.3], [0.6, 0.0, 0.0, 0.6]])
print(json.dumps(T.predict(scores, cols).tolist()))`) as number[];
    assert.deepEqual(got, [0, 2, 0]);
  },
});
