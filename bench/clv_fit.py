"""Benchmark: accord's BG/NBD and Pareto/NBD fits against the `lifetimes` library.

Synthetic customers are drawn from a BG/NBD with the CDNOW parameters (r=0.243,
alpha=4.414, a=0.793, b=2.426), observed for 1 to 273 days (up to 39 weeks) and recorded
to the day, like the real calibration data. Both libraries fit the same customers, each in
its own subprocess with one BLAS thread, so that fit time (best of 3 for BG/NBD, single
fit for Pareto/NBD) and peak memory (ru_maxrss after the fit minus ru_maxrss after imports,
data loading and a small warm-up fit) are measured the same way.
lifetimes needs pandas<3 / numpy<2 / scipy<1.13, so it runs in a bench-only virtualenv,
bench/.venv-lifetimes, created on first use from bench/requirements-lifetimes.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GOALS = """
goals (printed as RESULT lines, <size> = number of customers):
  bgnbd_speedup_vs_lifetimes_<size>      >= 20   lifetimes fit time / ours
  paretonbd_speedup_vs_lifetimes_<size>  >= 50
  bgnbd_peak_memory_ratio_<size>         <= 0.5  our peak-memory increase / lifetimes'
  paretonbd_peak_memory_ratio_<size>     <= 0.5
  bgnbd_ll_rel_diff_<size>               <= 1e-6 |LL ours - LL lifetimes| / |LL lifetimes|
  paretonbd_ll_rel_diff_<size>           <= 1e-6 (both total, unpenalised, original time unit)
A lifetimes fit that exceeds --lifetimes-timeout is killed; its speedup is then printed as
a lower bound (RESULT ... >=) and its memory ratio as an upper bound (RESULT ... <=).
"""

BENCH_DIR = Path(__file__).resolve().parent
REPO_SRC = BENCH_DIR.parent / "src"
VENV_DIR = BENCH_DIR / ".venv-lifetimes"
REQUIREMENTS = BENCH_DIR / "requirements-lifetimes.txt"
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
WARMUP_CUSTOMERS = 2000
MODELS = ("bgnbd", "paretonbd")
# Fit time is the best of this many fits, the same for both libraries: the BG/NBD fits are
# short enough for scheduler noise on a shared machine to matter; Pareto/NBD ones are not,
# and lifetimes' take minutes at 1M customers.
REPEATS = {"bgnbd": 3, "paretonbd": 1}
# Neither library has BLAS-sized work in a fit (elementwise numpy, 4-parameter optimisers),
# but OpenBLAS's thread hand-offs inside scipy's L-BFGS-B cost up to ~100 ms a fit when
# another process holds a core; pinning both workers to one thread keeps that noise out.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def simulate(n: int, seed: int, max_days: int = 273) -> Any:
    """(n, 3) array of x, t_x, T in weeks, drawn from the BG/NBD without a per-customer loop.

    A customer drops out right after the k-th repeat purchase, k ~ Geometric(p), so with
    N(T) ~ Poisson(lambda T) arrivals in (0, T] the observed count is x = min(N, k); given N
    the arrival times are uniform order statistics, so t_x = T * Beta(x, N - x + 1).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    lam = rng.gamma(CDNOW["r"], 1.0 / CDNOW["alpha"], n)
    p = rng.beta(CDNOW["a"], CDNOW["b"], n)
    t_days = rng.integers(1, max_days + 1, n)
    arrivals = rng.poisson(lam * t_days / 7.0)
    x = np.minimum(arrivals, rng.geometric(p))
    rep = x > 0
    frac = np.zeros(n)
    frac[rep] = rng.beta(x[rep], arrivals[rep] - x[rep] + 1)
    # Day resolution, as in transaction logs: this is what makes triples repeat.
    last_day = np.where(rep, np.clip(np.round(frac * t_days), 1, t_days), 0)
    return np.column_stack([x.astype(np.float64), last_day / 7.0, t_days / 7.0])


# --- workers (run in subprocesses; lifetimes' one runs under bench/.venv-lifetimes) -------


def _maxrss_kib() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _report_memory_forever() -> None:
    """Lets the parent bound the peak memory of a fit that it has to kill at the timeout."""
    while True:
        print(f"MEM {_maxrss_kib()}", flush=True)
        time.sleep(1.0)


def _fit_ours(model: str, x: Any, t_x: Any, T: Any) -> tuple[float, list[float]]:
    try:
        from accord.analytics.clv import bgnbd, paretonbd
    except ImportError:  # running from a checkout without the package installed
        sys.path.insert(0, str(REPO_SRC))
        from accord.analytics.clv import bgnbd, paretonbd
    if model == "bgnbd":
        bg = bgnbd.fit(x, t_x, T)
        return bg.log_likelihood, [bg.r, bg.alpha, bg.a, bg.b]
    pn = paretonbd.fit(x, t_x, T)
    return pn.log_likelihood, [pn.r, pn.alpha, pn.s, pn.beta]


def _fit_lifetimes(model: str, x: Any, t_x: Any, T: Any) -> Any:
    import numpy as np
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    if model == "bgnbd":
        return BetaGeoFitter(penalizer_coef=0.0).fit(x, t_x, T)
    np.random.seed(0)  # ParetoNBDFitter draws its starting point from np.random
    return ParetoNBDFitter(penalizer_coef=0.0).fit(x, t_x, T)


def _lifetimes_total_ll(model: str, fitter: Any, x: Any, t_x: Any, T: Any) -> float:
    """lifetimes' own likelihood at its fitted parameters, as a total in the original unit.

    Its fit reports a mean (BG/NBD) or a sum in rescaled time (Pareto/NBD), optionally
    penalised; re-evaluating its static likelihood avoids all three differences.
    """
    import numpy as np
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    params = np.asarray(fitter.params_.values, dtype=np.float64)
    if model == "bgnbd":
        ones = np.ones_like(x)
        mean_nll = BetaGeoFitter._negative_log_likelihood(np.log(params), x, t_x, T, ones, 0.0)
        return float(-mean_nll * x.size)
    return float(np.sum(ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T)))


def run_worker(impl: str, model: str, data_path: str) -> None:
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    data = np.load(data_path)
    x, t_x, T = (np.ascontiguousarray(data[:, i]) for i in range(3))
    # Warm-up on a slice: first-call costs (lazy imports, caches) are not part of a fit.
    w = slice(0, WARMUP_CUSTOMERS)
    if impl == "ours":
        _fit_ours(model, x[w], t_x[w], T[w])
    else:
        _fit_lifetimes(model, x[w], t_x[w], T[w])
    baseline = _maxrss_kib()
    threading.Thread(target=_report_memory_forever, daemon=True).start()
    seconds = float("inf")
    for _ in range(REPEATS[model]):
        start = time.perf_counter()
        if impl == "ours":
            ll, params = _fit_ours(model, x, t_x, T)
        else:
            fitter = _fit_lifetimes(model, x, t_x, T)
        seconds = min(seconds, time.perf_counter() - start)
    peak = _maxrss_kib()
    if impl != "ours":
        ll = _lifetimes_total_ll(model, fitter, x, t_x, T)
        params = [float(v) for v in fitter.params_.values]
    result = {"seconds": seconds, "mem_kib": peak - baseline, "ll": ll, "params": params}
    print("WORKER " + json.dumps(result), flush=True)


# --- driver -------------------------------------------------------------------------------


def ensure_lifetimes_python() -> Path:
    python = VENV_DIR / "bin" / "python"
    marker = VENV_DIR / ".requirements-installed"
    if marker.exists() and marker.read_text() == REQUIREMENTS.read_text():
        return python
    print(f"# creating {VENV_DIR} (one-off) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV_DIR)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    marker.write_text(REQUIREMENTS.read_text())
    return python


def run_in_subprocess(
    python: Path, impl: str, model: str, data: Path, timeout: float | None, blas_threads: int
) -> dict[str, Any]:
    """Run one fit; on timeout return the elapsed time and last memory reading as bounds."""
    cmd = [str(python), str(Path(__file__).resolve()), "--worker", impl, model, str(data)]
    env = dict(os.environ)
    if blas_threads:
        env.update({v: str(blas_threads) for v in BLAS_THREAD_VARIABLES})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    stdout = proc.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stdout))
    reader.start()
    start = time.perf_counter()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join()
        mem = [int(line.split()[1]) for line in lines if line.startswith("MEM ")]
        return {"timed_out": True, "seconds": time.perf_counter() - start, "mem_kib_at_least": mem}
    reader.join()
    for line in lines:
        if line.startswith("WORKER "):
            result: dict[str, Any] = json.loads(line[len("WORKER ") :])
            return result
    raise RuntimeError(f"{impl} {model} worker failed (exit {proc.returncode})")


def bench_size(
    n: int,
    seed: int,
    lifetimes_python: Path | None,
    timeout: float,
    workdir: Path,
    blas_threads: int,
) -> None:
    import numpy as np

    data = workdir / f"customers_{n}.npy"
    np.save(data, simulate(n, seed))
    for model in MODELS:
        ours = run_in_subprocess(Path(sys.executable), "ours", model, data, None, blas_threads)
        print(
            f"# {model} n={n} ours: {ours['seconds']:.3f}s, +{ours['mem_kib'] / 1024:.1f} MiB, "
            f"LL {ours['ll']:.6f}, params {np.round(ours['params'], 6).tolist()}",
            flush=True,
        )
        if lifetimes_python is None:
            continue
        theirs = run_in_subprocess(
            lifetimes_python, "lifetimes", model, data, timeout, blas_threads
        )
        if theirs.get("timed_out"):
            base_kib = theirs["mem_kib_at_least"]
            print(f"# {model} n={n} lifetimes: killed after {theirs['seconds']:.0f}s timeout")
            speedup = theirs["seconds"] / ours["seconds"]
            print(f"RESULT {model}_speedup_vs_lifetimes_{n} >= {speedup:.1f}")
            if len(base_kib) >= 2:
                grown = max(base_kib[-1] - base_kib[0], 1)
                print(f"RESULT {model}_peak_memory_ratio_{n} <= {ours['mem_kib'] / grown:.3f}")
            print(f"RESULT {model}_ll_rel_diff_{n} nan  # lifetimes did not finish", flush=True)
            continue
        print(
            f"# {model} n={n} lifetimes: {theirs['seconds']:.3f}s, "
            f"+{theirs['mem_kib'] / 1024:.1f} MiB, LL {theirs['ll']:.6f}, "
            f"params {np.round(theirs['params'], 6).tolist()}",
            flush=True,
        )
        rel = abs(ours["ll"] - theirs["ll"]) / abs(theirs["ll"])
        mem_ratio = ours["mem_kib"] / max(theirs["mem_kib"], 1)
        print(f"RESULT {model}_speedup_vs_lifetimes_{n} {theirs['seconds'] / ours['seconds']:.1f}")
        print(f"RESULT {model}_peak_memory_ratio_{n} {mem_ratio:.3f}")
        print(f"RESULT {model}_ll_rel_diff_{n} {rel:.2e}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "") + GOALS, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one small size (20k), ~1 minute")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="customer counts"
    )
    parser.add_argument("--seed", type=int, default=20050301)
    parser.add_argument(
        "--lifetimes-timeout",
        type=float,
        default=300.0,
        help="seconds before a lifetimes fit is killed and reported as a bound (default 300)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads in both workers (default 1; 0 leaves the environment alone)",
    )
    parser.add_argument("--skip-lifetimes", action="store_true", help="time our fits only")
    parser.add_argument(
        "--worker", nargs=3, metavar=("IMPL", "MODEL", "DATA"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(*args.worker)
        return 0

    sizes = [20_000] if args.quick else args.sizes
    lifetimes_python = None if args.skip_lifetimes else ensure_lifetimes_python()
    with tempfile.TemporaryDirectory(prefix="clv-bench-") as tmp:
        for n in sizes:
            bench_size(
                n, args.seed, lifetimes_python, args.lifetimes_timeout, Path(tmp), args.blas_threads
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
