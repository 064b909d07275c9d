"""The task layouts of docs/tasks.md, as a second program reads them.

Written from that page alone (the README's "Tasks" section until issue 27,
hence the file's name), never from tasks/*.c: if the two
disagree, either the documentation or the code is wrong, and `make interop`
says which rule. Two halves, each per task:

 - validate(): every rule the page states about one instance (ids, positions,
   which positions are scored and their answers, vocabulary bounds, lengths),
   plus distribution checks over many instances for the rules that say
   "uniform" or "proportional to" (a chi-square test at a 1e-6 false alarm
   rate: they catch a wrong range or a skewed draw, not a subtle bias);
 - generate(): new instances drawn with Python's `random` by the same rules,
   for scoring a saved model outside seqbench.

An instance is a dict: tokens (the model's input, T ids), scored (positions,
ascending) and answers (the correct token at each scored position).
Settings use the option names: task-vocab, n-data, n-pairs, power-a,
key-len, value-len, depth, alphabet.
"""

import math
import random

TASKS = ("copy", "selective_copy", "induction", "mqar", "needle")


# ---------------------------------------------------------------- sizes

def vocab_size(task, s):
    """Tokens the task uses (docs/tasks.md: copy --alphabet + 3, the others --task-vocab)."""
    return s["alphabet"] + 3 if task == "copy" else s["task-vocab"]


def seq_len(task, s, n):
    """T, the model's input length, for the task's length n."""
    if task == "copy":
        return 2 * n + 1
    if task == "selective_copy":
        return n + 2 * s["n-data"]
    return n


def length_of(task, s, T):
    """n from T (the inverse of seq_len), or None when no n gives T."""
    if task == "copy":
        return (T - 1) // 2 if T % 2 == 1 else None
    if task == "selective_copy":
        return T - 2 * s["n-data"]
    return T


def needle_geometry(s, n):
    K, W = s["key-len"], s["value-len"]
    h = n - K - W
    return K, W, h, h - 1 - K - W


def needle_depth_position(depth, room):
    """d = floor(depth x room + 0.5)."""
    return int(math.floor(depth * room + 0.5))


def mqar_gap_weights(n, P, a):
    G = (n - 2 * P) // 2
    return [(g + 1) ** (a - 1) for g in range(G)]


# ---------------------------------------------------------------- generation (the page's rules, Python's random)

def generate(task, s, n, rng):
    """One instance of length n drawn by the page's rules."""
    if task == "copy":
        A = s["alphabet"]
        st = [rng.randint(3, A + 2) for _ in range(n)]
        toks = [1] + st + [2] + st[:n - 1]
        return dict(tokens=toks, scored=list(range(n + 1, 2 * n + 1)), answers=st)
    if task == "selective_copy":
        V, M = s["task-vocab"], s["n-data"]
        pos = sorted(rng.sample(range(n + M), M))
        data = [rng.randint(1, V - 2) for _ in range(M)]
        toks = [0] * (n + M) + [V - 1] * M
        for p, x in zip(pos, data):
            toks[p] = x
        return dict(tokens=toks, scored=list(range(n + M, n + 2 * M)), answers=data)
    if task == "induction":
        V = s["task-vocab"]
        toks = [rng.randint(1, V - 2) for _ in range(n - 1)] + [V - 1]
        p = rng.randint(0, n - 4)
        toks[p] = V - 1
        return dict(tokens=toks, scored=[n - 1], answers=[toks[p + 1]])
    if task == "mqar":
        V, P, a = s["task-vocab"], s["n-pairs"], s["power-a"]
        keys = rng.sample(range(1, V // 2), P)
        vals = rng.sample(range(V // 2, V), P)
        toks = []
        for k, v in zip(keys, vals):
            toks += [k, v]
        toks += [rng.randint(0, V - 1) for _ in range(n - 2 * P)]
        w = mqar_gap_weights(n, P, a)
        gaps = []
        for _ in range(P):  # successive draws among the gaps not yet drawn
            g = rng.choices(range(len(w)), weights=w)[0]
            gaps.append(g)
            w[g] = 0.0
        q = {}
        for i, g in enumerate(gaps):
            toks[2 * P + 2 * g] = keys[i]
            q[2 * P + 2 * g] = vals[i]
        scored = sorted(q)
        return dict(tokens=toks, scored=scored, answers=[q[t] for t in scored])
    if task == "needle":
        V = s["task-vocab"]
        K, W, h, room = needle_geometry(s, n)
        d = rng.randint(0, room) if s["depth"] < 0 else needle_depth_position(s["depth"], room)
        key = [rng.randint(3, V - 1) for _ in range(K)]
        val = [rng.randint(3, V - 1) for _ in range(W)]
        hay = [rng.randint(3, V - 1) for _ in range(h)]
        hay[d:d + K + W + 1] = [1] + key + val
        toks = hay + [2] + key + val[:W - 1]
        return dict(tokens=toks, scored=list(range(n - W, n)), answers=val)
    raise ValueError(f"unknown task {task}")


# ---------------------------------------------------------------- validation of one instance

class Rules:
    """Collects broken rules: rule text -> (count, first example)."""

    def __init__(self):
        self.broken = {}
        self.checked = set()

    def rule(self, name, ok, example=""):
        self.checked.add(name)
        if not ok:
            c, ex = self.broken.get(name, (0, example))
            self.broken[name] = (c + 1, ex)
        return ok


def _in(xs, lo, hi):
    return all(lo <= x <= hi for x in xs)


def _first_bad(xs, lo, hi, base=0):
    for i, x in enumerate(xs):
        if not lo <= x <= hi:
            return f"position {base + i} holds {x}"
    return ""


def validate_instance(task, s, n, inst, R, j):
    """Every per-instance rule of the page for instance j of length n."""
    toks, sc, ans = inst["tokens"], inst["scored"], inst["answers"]
    T = len(toks)
    tag = f"instance {j}"
    Vt = vocab_size(task, s)
    R.rule("every token id in [0, vocabulary size - 1]", _in(toks, 0, Vt - 1), f"{tag}: {_first_bad(toks, 0, Vt - 1)}")
    if not R.rule(f"T = {'2n+1' if task == 'copy' else 'n+2M' if task == 'selective_copy' else 'n'}",
                  T == seq_len(task, s, n), f"{tag}: n {n}, T {T}"):
        return
    R.rule("one answer per scored position", len(sc) == len(ans), f"{tag}: {len(sc)} vs {len(ans)}")
    if task == "copy":
        A = s["alphabet"]
        st = toks[1:n + 1]
        R.rule("copy: position 0 is BOS (1)", toks[0] == 1, f"{tag}: {toks[0]}")
        R.rule("copy: positions 1..n are symbols in [3, alphabet+2]", _in(st, 3, A + 2), f"{tag}: {_first_bad(st, 3, A + 2, 1)}")
        R.rule("copy: position n+1 is SEP (2)", toks[n + 1] == 2, f"{tag}: {toks[n + 1]}")
        R.rule("copy: positions n+2..2n repeat s_1..s_{n-1}", toks[n + 2:] == st[:n - 1], tag)
        R.rule("copy: scored at n+1..2n", sc == list(range(n + 1, 2 * n + 1)), f"{tag}: {sc[:8]}")
        R.rule("copy: answer at n+i is s_i", ans == st, tag)
    elif task == "selective_copy":
        V, M = s["task-vocab"], s["n-data"]
        body = toks[:n + M]
        where = [t for t, x in enumerate(body) if x != 0]
        R.rule("selective_copy: exactly M data tokens (non-zero) in positions 0..n+M-1", len(where) == M,
               f"{tag}: {len(where)} non-zero, M {M}")
        R.rule("selective_copy: data tokens in [1, V-2]", _in(body, 0, V - 2), f"{tag}: {_first_bad(body, 0, V - 2)}")
        R.rule("selective_copy: positions n+M..n+2M-1 are the marker V-1", toks[n + M:] == [V - 1] * M, tag)
        R.rule("selective_copy: scored at n+M..n+2M-1", sc == list(range(n + M, n + 2 * M)), f"{tag}: {sc[:8]}")
        R.rule("selective_copy: answer at n+M+i is the i-th data token by position", ans == [body[t] for t in where], tag)
    elif task == "induction":
        V = s["task-vocab"]
        trig = [t for t in range(n - 1) if toks[t] == V - 1]
        R.rule("induction: the trigger V-1 once in positions 0..n-2", len(trig) == 1, f"{tag}: at {trig[:5]}")
        if len(trig) == 1:
            p = trig[0]
            R.rule("induction: trigger position p in [0, n-4]", 0 <= p <= n - 4, f"{tag}: p {p}, n {n}")
            R.rule("induction: answer is the token at p+1", ans == [toks[p + 1]], f"{tag}: {ans} vs {toks[p + 1]}")
        others = [x for t, x in enumerate(toks[:n - 1]) if x != V - 1]
        R.rule("induction: ordinary tokens in [1, V-2] (0 never inside an instance)", _in(others, 1, V - 2),
               f"{tag}: {_first_bad(others, 1, V - 2)}")
        R.rule("induction: position n-1 is the trigger V-1", toks[n - 1] == V - 1, f"{tag}: {toks[n - 1]}")
        R.rule("induction: scored at n-1 only", sc == [n - 1], f"{tag}: {sc}")
    elif task == "mqar":
        V, P = s["task-vocab"], s["n-pairs"]
        R.rule("mqar: n even and 4P <= n", n % 2 == 0 and 4 * P <= n, f"{tag}: n {n}, P {P}")
        keys, vals = toks[0:2 * P:2], toks[1:2 * P:2]
        R.rule("mqar: keys at 2i in [1, V/2-1]", _in(keys, 1, V // 2 - 1), f"{tag}: {_first_bad(keys, 1, V // 2 - 1)}")
        R.rule("mqar: keys distinct", len(set(keys)) == P, tag)
        R.rule("mqar: values at 2i+1 in [V/2, V-1]", _in(vals, V // 2, V - 1), f"{tag}: {_first_bad(vals, V // 2, V - 1)}")
        R.rule("mqar: values distinct", len(set(vals)) == P, tag)
        R.rule("mqar: P scored positions", len(sc) == P, f"{tag}: {len(sc)}")
        R.rule("mqar: scored positions 2P+2g, g in [0, (n-2P)/2-1], distinct, ascending",
               all(t >= 2 * P and t <= n - 2 and (t - 2 * P) % 2 == 0 for t in sc) and sc == sorted(set(sc)),
               f"{tag}: {sc[:8]}")
        if len(set(keys)) == P and all(0 <= t < T for t in sc):
            queried = [toks[t] for t in sc]
            R.rule("mqar: each key queried exactly once (the token at a scored position is a key)",
                   sorted(queried) == sorted(keys), f"{tag}: queries {queried[:6]}, keys {keys[:6]}")
            kv = dict(zip(keys, vals))
            R.rule("mqar: answer at a query of k_i is v_i", all(kv.get(q) == a for q, a in zip(queried, ans)), tag)
    elif task == "needle":
        V = s["task-vocab"]
        K, W, h, room = needle_geometry(s, n)
        R.rule("needle: n >= 2(K+W)+1", n >= 2 * (K + W) + 1, f"{tag}: n {n}, K {K}, W {W}")
        where = [t for t, x in enumerate(toks) if x == 1]
        R.rule("needle: NEEDLE (1) exactly once", len(where) == 1, f"{tag}: at {where[:5]}")
        R.rule("needle: QUERY (2) exactly once, at h = n-K-W",
               [t for t, x in enumerate(toks) if x == 2] == [h], f"{tag}: h {h}")
        R.rule("needle: no pad (0) inside an instance", 0 not in toks, tag)
        R.rule("needle: every other token a symbol in [3, V-1]", _in([x for x in toks if x > 2], 3, V - 1), tag)
        if len(where) == 1:
            d = where[0]
            R.rule("needle: needle start d in [0, room], room = h-1-K-W", 0 <= d <= room, f"{tag}: d {d}, room {room}")
            if s["depth"] >= 0:
                R.rule("needle: d = floor(depth x room + 0.5)", d == needle_depth_position(s["depth"], room),
                       f"{tag}: d {d}, depth {s['depth']}, room {room}")
            key, val = toks[d + 1:d + 1 + K], toks[d + 1 + K:d + 1 + K + W]
            R.rule("needle: after the query, the key k_1..k_K", toks[h + 1:h + 1 + K] == key, tag)
            R.rule("needle: then v_1..v_{W-1}", toks[h + 1 + K:] == val[:W - 1], tag)
            R.rule("needle: scored at n-W..n-1", sc == list(range(n - W, n)), f"{tag}: {sc}")
            R.rule("needle: answer at n-W+j-1 is v_j", ans == val, f"{tag}: {ans} vs {val}")


# ---------------------------------------------------------------- distribution checks over many instances

def chi2_z(observed, expected):
    """Chi-square statistic as a normal z (Wilson-Hilferty); bins with expected < 5 pooled."""
    obs, exp, o_acc, e_acc = [], [], 0.0, 0.0
    for o, e in zip(observed, expected):
        o_acc += o
        e_acc += e
        if e_acc >= 5:
            obs.append(o_acc)
            exp.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc > 0 and exp:
        obs[-1] += o_acc
        exp[-1] += e_acc
    k = len(exp) - 1
    if k < 1:
        return 0.0, 0
    x = sum((o - e) ** 2 / e for o, e in zip(obs, exp))
    z = ((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return z, k


Z_FAIL = 4.75  # one-sided normal tail ~1e-6


def _uniform(R, name, values, lo, hi):
    if not values:
        return
    cnt = [0] * (hi - lo + 1)
    for v in values:
        if lo <= v <= hi:
            cnt[v - lo] += 1
    e = len(values) / len(cnt)
    z, k = chi2_z(cnt, [e] * len(cnt))
    R.rule(name, z < Z_FAIL, f"chi-square z {z:.1f} over {k + 1} bins, {len(values)} draws")


def validate_distributions(task, s, n, insts, R):
    if task == "copy":
        _uniform(R, "copy: symbols uniform", [x for i in insts for x in i["tokens"][1:n + 1]], 3, s["alphabet"] + 2)
    elif task == "selective_copy":
        M = s["n-data"]
        body = [i["tokens"][:n + M] for i in insts]
        _uniform(R, "selective_copy: data tokens uniform in [1, V-2]", [x for b in body for x in b if x], 1,
                 s["task-vocab"] - 2)
        _uniform(R, "selective_copy: data positions uniform over 0..n+M-1",
                 [t for b in body for t, x in enumerate(b) if x], 0, n + M - 1)
    elif task == "induction":
        V = s["task-vocab"]
        _uniform(R, "induction: trigger position p uniform in [0, n-4]",
                 [i["tokens"][:n - 1].index(V - 1) for i in insts if V - 1 in i["tokens"][:n - 1]], 0, n - 4)
        _uniform(R, "induction: ordinary tokens uniform in [1, V-2]",
                 [x for i in insts for x in i["tokens"][:n - 1] if x != V - 1], 1, V - 2)
    elif task == "mqar":
        V, P, a = s["task-vocab"], s["n-pairs"], s["power-a"]
        g0 = []
        for i in insts:
            k0 = i["tokens"][0]
            qs = [t for t in i["scored"] if i["tokens"][t] == k0]
            if len(qs) == 1:
                g0.append((qs[0] - 2 * P) // 2)
        w = mqar_gap_weights(n, P, a)
        cnt = [0] * len(w)
        for g in g0:
            if 0 <= g < len(w):
                cnt[g] += 1
        tot = sum(w)
        z, k = chi2_z(cnt, [len(g0) * x / tot for x in w])
        R.rule("mqar: g_0 (the first key's gap) drawn with p(g) ~ (g+1)^(a-1)", z < Z_FAIL,
               f"chi-square z {z:.1f} over {k + 1} bins, {len(g0)} instances")
        # the noise: uniform over [0, V-1] where no query stands
        noise = []
        for i in insts:
            q = set(i["scored"])
            noise += [x for t, x in enumerate(i["tokens"]) if t >= 2 * P and t not in q]
        if V <= 4 * len(noise):  # enough draws per bin for the test to mean something
            _uniform(R, "mqar: noise uniform in [0, V-1]", noise, 0, V - 1)
        if V // 2 <= 4 * P * len(insts):
            _uniform(R, "mqar: keys uniform over [1, V/2-1]", [x for i in insts for x in i["tokens"][0:2 * P:2]], 1,
                     V // 2 - 1)
        # "the value never follows its query": the token after a query is noise like any other,
        # so it equals the answer about 1/V of the time, never systematically
        after = [(i["tokens"][t + 1] == a_) for i in insts for t, a_ in zip(i["scored"], i["answers"]) if t + 1 < n]
        if after:
            f = sum(after) / len(after)
            sd = math.sqrt((1 / V) * (1 - 1 / V) / len(after))
            R.rule("mqar: the value does not follow its query (the next token is noise)",
                   f <= 1 / V + 5 * sd + 1e-12, f"{sum(after)} of {len(after)} queries followed by their value "
                   f"(chance 1/V = {1 / V:.3g})")
    elif task == "needle":
        V = s["task-vocab"]
        K, W, h, room = needle_geometry(s, n)
        if s["depth"] < 0:
            _uniform(R, "needle: d uniform in [0, room] (depth -1)",
                     [i["tokens"].index(1) for i in insts if 1 in i["tokens"]], 0, room)
        _uniform(R, "needle: filler, key and value symbols uniform in [3, V-1]",
                 [x for i in insts for x in i["tokens"][:h] if x > 2], 3, V - 1)


def validate(task, s, n, insts):
    """All rules over a list of instances of length n; returns Rules."""
    R = Rules()
    for j, inst in enumerate(insts):
        validate_instance(task, s, n, inst, R, j)
    validate_distributions(task, s, n, insts, R)
    return R
