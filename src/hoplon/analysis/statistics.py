"""Statistics of a Monte Carlo results store: estimates with 95 % confidence intervals.

* Proportions (P(no leaker), an asset's survival, a place's debris landing): Wilson score
  interval (Wilson 1927), which keeps its coverage near 0 and 1 where the Wald interval
  collapses (all-success runs are common here).
* Means (leakers per raid, interceptors fired): Student t interval.
* Differences between two stores: proportions by Newcombe's hybrid score interval
  (Newcombe 1998, method 10, built from the two Wilson intervals); means by Welch's t
  interval (unequal variances).

Replications are independent (their streams are spawned from one SeedSequence), so these
are the textbook intervals for independent samples.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import stats as sps

from hoplon.analysis.store import open_results
from hoplon.core.statistics import wilson_interval

__all__ = [
    "wilson_interval", "t_interval", "newcombe_difference", "welch_difference",
    "mc_report", "mc_compare", "CONFIDENCE",
]

CONFIDENCE = 0.95


def t_interval(x, conf: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high): Student t interval for the mean of ``x`` (a single value, or
    identical values, gives a zero-width interval)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan
    half = float(sps.t.ppf(0.5 + conf / 2.0, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, conf: float = CONFIDENCE) -> tuple[float, float, float]:
    """(p1 - p2, low, high): Newcombe's hybrid score interval (method 10)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, conf)
    l2, u2 = wilson_interval(k2, n2, conf)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def welch_difference(x, y, conf: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean(x) - mean(y), low, high): Welch's t interval (unequal variances)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        return (float(x.mean() - y.mean()) if x.size and y.size else math.nan), math.nan, math.nan
    d = float(x.mean() - y.mean())
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0.0:
        return d, d, d
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(sps.t.ppf(0.5 + conf / 2.0, dof)) * se
    return d, d - half, d + half


def _r(x: float, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _prop(k: int, n: int) -> dict:
    lo, hi = wilson_interval(k, n)
    return {"count": int(k), "n": int(n), "estimate": _r(k / n if n else math.nan), "low": _r(lo), "high": _r(hi)}


def _mean(x) -> dict:
    """Mean of a count with its t interval, the lower bound clipped at 0 (a count cannot be
    negative; small samples of rare events otherwise give negative bounds)."""
    m, lo, hi = t_interval(x)
    lo = max(lo, 0.0) if math.isfinite(lo) else lo
    return {"mean": _r(m), "low": _r(lo), "high": _r(hi), "min": _r(float(np.min(x))) if len(x) else None,
            "max": _r(float(np.max(x))) if len(x) else None}


def _convergence_ns(n: int) -> list[int]:
    out, k = [], 10
    while k < n:
        out.extend(m for m in (k, 2 * k, 5 * k) if m < n)
        k *= 10
    return sorted(set(out)) + [n]


def _load(path: Path) -> tuple[dict, dict]:
    con, meta = open_results(path)
    try:
        q = {
            "rep": con.execute("SELECT rep, leaked, no_leaker, interceptors_fired, fragments_hazardous "
                               "FROM replications ORDER BY rep").fetchnumpy(),
            "batteries": con.execute("SELECT battery_id, interceptor_type, list(fired ORDER BY rep) FROM battery_fired "
                                     "GROUP BY battery_id, interceptor_type ORDER BY battery_id").fetchall(),
            "assets": con.execute("SELECT asset, any_value(value), count(*), sum(survived::INT), sum(hits) "
                                  "FROM asset_outcomes GROUP BY asset ORDER BY asset").fetchall(),
            "places": con.execute(
                "SELECT place, any_value(admin1), any_value(country), any_value(population), count(DISTINCT rep), "
                "count(*), sum(hazardous) FROM debris_landings WHERE place IS NOT NULL AND source = 'kill' "
                "GROUP BY place ORDER BY count(DISTINCT rep) DESC, place").fetchall(),
            "threats": con.execute(
                "SELECT object_id, any_value(type), count(*), sum((fate = 'killed')::INT), sum((fate = 'leaked')::INT) "
                "FROM threat_outcomes GROUP BY object_id ORDER BY object_id").fetchall(),
            "chunks": con.execute("SELECT count(*) FROM chunks").fetchone()[0],
        }
    finally:
        con.close()
    return meta, q


def mc_report(path: Path) -> dict:
    """The statistics of a results store, JSON-ready (deterministic for given contents)."""
    meta, q = _load(Path(path))
    r = q["rep"]
    n = int(r["rep"].size)
    no_leak = np.asarray(r["no_leaker"], dtype=bool)
    leaked = np.asarray(r["leaked"], dtype=float)
    convergence = []
    for m in (_convergence_ns(n) if n else []):
        p = _prop(int(no_leak[:m].sum()), m)
        convergence.append({"n": m, "p_no_leaker": p["estimate"], "low": p["low"], "high": p["high"],
                            "half_width": _r((p["high"] - p["low"]) / 2)})
    return {
        "results": str(path),
        "scenario": meta.get("scenario"),
        "seed": int(meta["seed"]),
        "replications_requested": int(meta["n"]),
        "replications": n,
        "complete": n == int(meta["n"]),
        "confidence": CONFIDENCE,
        "p_no_leaker": _prop(int(no_leak.sum()), n),
        "leakers_per_raid": _mean(leaked) if n else None,
        "interceptors_fired": _mean(np.asarray(r["interceptors_fired"], float)) if n else None,
        "interceptors_per_battery": [
            {"battery_id": b, "interceptor_type": t, **_mean(np.asarray(fired, dtype=float))} for b, t, fired in q["batteries"]
        ],
        "asset_survival": [
            {"asset": a, "value": _r(v), **_prop(int(s), int(c)), "mean_hits": _r(h / c if c else math.nan)}
            for a, v, c, s, h in q["assets"]
        ],
        "threats": [
            {"object_id": o, "type": t, "p_killed": _prop(int(k), int(c))["estimate"],
             "p_leaked": _prop(int(lk), int(c))} for o, t, c, k, lk in q["threats"]
        ],
        "debris_places": [
            {"place": p, "admin1": a, "country": cc, "population": pop, "replications_with_landing": _prop(int(reps), n),
             "clouds": int(clouds), "mean_hazardous_fragments_per_replication": _r(float(h) / n if n else math.nan, 2)}
            for p, a, cc, pop, reps, clouds, h in q["places"]
        ],
        "convergence": convergence,
    }


def mc_compare(path_a: Path, path_b: Path) -> dict:
    """Differences A - B of the main measures, with 95 % intervals."""
    out = {"a": str(path_a), "b": str(path_b), "confidence": CONFIDENCE}
    ma, qa = _load(Path(path_a))
    mb, qb = _load(Path(path_b))
    out["scenario_a"], out["scenario_b"] = ma.get("scenario"), mb.get("scenario")
    ra, rb = qa["rep"], qb["rep"]
    na, nb = int(ra["rep"].size), int(rb["rep"].size)
    out["replications_a"], out["replications_b"] = na, nb
    ka, kb = int(np.sum(ra["no_leaker"])), int(np.sum(rb["no_leaker"]))
    d, lo, hi = newcombe_difference(ka, na, kb, nb)
    rows = [{"measure": "P(no leaker)", "a": _r(ka / na if na else math.nan), "b": _r(kb / nb if nb else math.nan),
             "difference": _r(d), "low": _r(lo), "high": _r(hi), "method": "Newcombe hybrid score"}]
    for label, col in (("leakers per raid", "leaked"), ("interceptors fired", "interceptors_fired"),
                       ("fragments above 15 J", "fragments_hazardous")):
        x, y = np.asarray(ra[col], float), np.asarray(rb[col], float)
        d, lo, hi = welch_difference(x, y)
        rows.append({"measure": label, "a": _r(float(x.mean()) if x.size else math.nan),
                     "b": _r(float(y.mean()) if y.size else math.nan), "difference": _r(d), "low": _r(lo),
                     "high": _r(hi), "method": "Welch t"})
    assets_b = {a: (int(c), int(s)) for a, _, c, s, _ in qb["assets"]}
    for a, _, c, s, _ in qa["assets"]:
        if a in assets_b:
            cb, sb = assets_b[a]
            d, lo, hi = newcombe_difference(int(s), int(c), sb, cb)
            rows.append({"measure": f"P({a} survives)", "a": _r(s / c if c else math.nan), "b": _r(sb / cb if cb else math.nan),
                         "difference": _r(d), "low": _r(lo), "high": _r(hi), "method": "Newcombe hybrid score"})
    for row in rows:
        lo, hi = row["low"], row["high"]
        row["significant"] = bool(lo is not None and hi is not None and (lo > 0 or hi < 0))
    out["measures"] = rows
    return out
