"""Off-the-shelf baselines: the encoders' own classifiers mapped to our labels, no training.

YAMNet scores 521 AudioSet classes (`yamnet_class_map.csv`), MobileNetV2 1001 ImageNet classes
(`imagenet_labels.txt`, background first). A label is *covered* when at least one class below
names it; its score is the maximum over its classes, and the prediction is the covered label with
the highest score (so the baseline never predicts an uncovered label, which flatters it a little).
Only test items of covered labels are scored.
"""

import csv

import numpy as np

# Class display names exactly as in the label files.
AUDIOSET = {
    "accordion": ["Accordion"],
    "banjo": ["Banjo"],
    "cello": ["Cello"],
    "clarinet": ["Clarinet"],
    "cymbals": ["Cymbal", "Hi-hat"],
    "drums": ["Drum kit", "Drum", "Snare drum", "Bass drum", "Drum roll"],
    "flute": ["Flute"],
    "guitar": ["Guitar", "Electric guitar", "Acoustic guitar", "Steel guitar, slide guitar"],
    "mandolin": ["Mandolin"],
    "organ": ["Organ", "Electronic organ", "Hammond organ"],
    "piano": ["Piano", "Electric piano"],
    "saxophone": ["Saxophone"],
    "synthesizer": ["Synthesizer"],
    "trombone": ["Trombone"],
    "trumpet": ["Trumpet"],
    "ukulele": ["Ukulele"],
    "violin": ["Violin, fiddle"],
    "voice": ["Singing", "Choir", "Child singing"],  # YAMNet has no Male/Female singing classes
}

# ImageNet has no cymbal, clarinet, mandolin, ukulele, synthesizer or singer class.
IMAGENET = {
    "accordion": ["accordion, piano accordion, squeeze box"],
    "banjo": ["banjo"],
    "cello": ["cello, violoncello"],
    "drums": ["drum, membranophone, tympan"],
    "flute": ["flute, transverse flute"],
    "guitar": ["acoustic guitar", "electric guitar"],
    "organ": ["organ, pipe organ"],
    "piano": ["grand piano, grand", "upright, upright piano"],
    "saxophone": ["sax, saxophone"],
    "trombone": ["trombone"],
    "trumpet": ["cornet, horn, trumpet, trump"],
    "violin": ["violin, fiddle"],
}


def read_class_names(path):
    """Class names in score order from a YAMNet class-map CSV or an ImageNet labels file."""
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            return [row["display_name"] for row in csv.DictReader(f)]
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def class_columns(class_names, mapping, labels):
    """{label index: [score columns]} for the covered labels; raises on a name not in the file."""
    col = {n: i for i, n in enumerate(class_names)}
    out = {}
    for li, label in enumerate(labels):
        names = mapping.get(label, [])
        missing = [n for n in names if n not in col]
        if missing:
            raise ValueError(f"Class names {missing} (for {label}) are not in the label file")
        if names:
            out[li] = [col[n] for n in names]
    return out


def predict(scores, columns):
    """Predicted label index per row: the covered label whose best class scores highest."""
    covered = sorted(columns)
    per_label = np.stack([scores[:, columns[l]].max(axis=1) for l in covered], axis=1)
    return np.array(covered)[np.argmax(per_label, axis=1)]
