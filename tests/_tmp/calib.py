import json, sys
import numpy as np
sys.path.insert(0, "scripts/presence")
import train as T
mod = sys.argv[1]
classes = T.class_groups()
rows = [json.loads(l) for l in open(".cache/presence/evidence.jsonl") if l.strip()]
rows = [r for r in rows if r["modality"] == mod]
for r in rows:
    r["positive"] = int(r["label"] != "none"); r["features"] = T.features(r, classes); r["rule"] = T.rule(r)
y = np.array([r["positive"] for r in rows])
src = lambda r: ("source:" + r["source"]) if r["positive"] else r["group"]
names = T.AUDIO_FEATURES if mod == "audio" else T.IMAGE_FEATURES
for label, seed, grp in (("1234", 1234, lambda r: r["group"]), ("99", 99, lambda r: r["group"]), ("7", 7, lambda r: r["group"]), ("src", 1234, src)):
    _, p, ts, cs = T.evaluate(rows, names, seed=seed, group=grp, calibrated=True)
    print(mod, label, f"{(~p[y==1]).mean()*100:.1f}/{(~p[y==0]).mean()*100:.1f}", [round(t, 3) for t in ts], flush=True)
