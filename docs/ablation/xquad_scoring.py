"""Ablation of scoring methods for XQuAD-R X-Y on cached embeddings.

Reads the sentence and question vectors that `xling eval xquad-r` left in
~/.cache/xling/eval (run it first) and scores them with numpy, so methods the
engine does not ship can be measured without building them into it:
  plain      cosine
  centred    the default's dense correction, approximated: query loses half its
             language's mean, passages centred by their language's mean and
             renormalised, scores divided by their spread per language
  +context   (1-b)*sentence score + b*paragraph score, the paragraph vector being
             the mean of its sentences' (one extra vector per paragraph)
  +hubness   CSLS-style: minus a * mean similarity to the 10 nearest passages
  rank merge each language's passages ranked alone, then interleaved by rank
  top-50 z   scores standardised by each language's 50 best for the query
Columns: X-Y mAP (worst language), X-X mAP (each language's own pool), and
"EN-only": X-Y with only the English answer left in the pool.
Usage: python3 xquad_scoring.py [DATA_DIR] [CACHE_FILE]  (needs numpy)
"""
import glob, hashlib, json, os, sys
import numpy as np

LANGS = "ar de el en es hi ru th tr vi zh".split()
data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/xquad-r"
cache = sys.argv[2] if len(sys.argv) > 2 else sorted(glob.glob(os.path.expanduser("~/.cache/xling/eval/xling-*.f32")))[0]
tag = b"xling:" + os.path.basename(cache)[len("xling-"):-len(".f32")].encode()
raw = np.fromfile(cache, dtype=np.uint8)
rec = 32 + 384 * 4
raw = raw[: len(raw) // rec * rec].reshape(-1, rec)
index = {bytes(raw[i, :32]): i for i in range(len(raw))}
vecs = raw[:, 32:].copy().view("<f4").reshape(-1, 384)


def vector(text, prefix):
    for t in (text, text.strip()):
        i = index.get(hashlib.sha256(tag + bytes([prefix]) + t.encode()).digest())
        if i is not None:
            return vecs[i]
    return None


P, plang, ppar, pid, Q, qlang, qans = [], [], [], {}, [], [], []
for li, lang in enumerate(LANGS):
    doc = json.load(open(os.path.join(data, f"{lang}.json")))
    paragraphs = [p for a in doc["data"] for p in a["paragraphs"]]
    for pi, par in enumerate(paragraphs):
        for si, s in enumerate(par["sentences"]):
            v = vector(s, 2)
            if v is None:
                continue
            pid[(lang, pi, si)] = len(P)
            P.append(v); plang.append(li); ppar.append(pi)
        for qa in par["qas"]:
            a = qa["answers"][0]["answer_start"]
            si = next((j for j, (s, e) in enumerate(par["sentence_breaks"]) if s <= a <= e), None)
            v = vector(qa["question"], 1)
            if si is None or v is None:
                continue
            Q.append(v); qlang.append(li); qans.append((pi, si))
if len(P) < 1000 or len(Q) < 1000:
    sys.exit("too few cached vectors: run `xling eval xquad-r` first")
unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-9)
P, Q = unit(np.array(P)), unit(np.array(Q))
plang, ppar, qlang = np.array(plang), np.array(ppar), np.array(qlang)
masks = [plang == li for li in range(len(LANGS))]
rel_all = [np.array([pid[(l, pi, si)] for l in LANGS if (l, pi, si) in pid]) for pi, si in qans]
mu = np.array([P[m].mean(0) for m in masks])
Pc = unit(P - mu[plang])
groups, of_group = np.unique(plang * 100000 + ppar, return_inverse=True)
C = np.zeros((len(groups), 384), np.float32); np.add.at(C, of_group, Pc); C = unit(C)
hub = np.zeros(len(P), np.float32)
for c in range(0, len(P), 2000):
    S = Pc[c:c + 2000] @ Pc.T
    S[np.arange(S.shape[0]), np.arange(c, c + S.shape[0])] = -9
    hub[c:c + 2000] = -np.sort(-S, axis=1)[:, :10].mean(1)


def per_language(S, f):
    S = S.copy()
    for m in masks:
        S[:, m] = f(S[:, m])
    return S


def centred(sl):
    S = unit(Q[sl] - 0.5 * mu[qlang[sl]]) @ Pc.T
    return per_language(S, lambda x: x / x.std(1, keepdims=True))


def top_z(x, k=50):
    t = -np.sort(-x, axis=1)[:, :k]
    return (x - t.mean(1, keepdims=True)) / t.std(1, keepdims=True)


rank = lambda x: -np.argsort(np.argsort(-x, axis=1), axis=1) + 1e-3 * x
METHODS = {
    "plain cosine": lambda sl: Q[sl] @ P.T,
    "centred (≈ default dense)": centred,
    "centred + context b=0.2": lambda sl: 0.8 * centred(sl) + 0.2 * per_language(
        (unit(Q[sl] - 0.5 * mu[qlang[sl]]) @ C.T)[:, of_group], lambda x: x / x.std(1, keepdims=True)),
    "centred + hubness a=0.5": lambda sl: centred(sl) - 0.5 * hub[None, :] / (Pc @ Pc[:1].T).std(),
    "centred, top-50 z merge": lambda sl: per_language(unit(Q[sl] - 0.5 * mu[qlang[sl]]) @ Pc.T, top_z),
    "centred, rank merge": lambda sl: per_language(unit(Q[sl] - 0.5 * mu[qlang[sl]]) @ Pc.T, rank),
}


def ap(s, rel):
    ranks = np.sort((s[None, :] > s[rel][:, None]).sum(1)) + 1
    return np.mean(np.arange(1, len(ranks) + 1) / ranks)


def evaluate(fn):
    xy, xx, en_only = [], [], []
    en = LANGS.index("en")
    for c in range(0, len(Q), 1000):
        sl = slice(c, min(c + 1000, len(Q)))
        S = fn(sl)
        for i, q in enumerate(range(sl.start, sl.stop)):
            rel, s = rel_all[q], S[i]
            xy.append(ap(s, rel))
            own = [x for x in rel if plang[x] == qlang[q]]
            m = masks[qlang[q]]
            xx.append(ap(np.where(m, s, -1e9), own) if own else 0.0)
            eng = [x for x in rel if plang[x] == en]
            drop = [x for x in rel if plang[x] != en]
            t = s.copy(); t[drop] = -1e9
            en_only.append(ap(t, eng) if eng else 0.0)
    out = []
    for v in (xy, xx, en_only):
        v = np.array(v)
        per = [v[qlang == li].mean() for li in range(len(LANGS))]
        w = int(np.argmin(per))
        out.append(f"{v.mean():.4f} ({LANGS[w]} {per[w]:.4f})")
    return out


print(f"{len(P)} sentences, {len(Q)} questions")
print(f"{'method':28s} {'X-Y (worst)':18s} {'X-X (worst)':18s} {'EN-only (worst)':18s}")
for name, fn in METHODS.items():
    print(f"{name:28s} " + " ".join(f"{c:18s}" for c in evaluate(fn)), flush=True)
