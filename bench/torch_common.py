"""Scaffolding shared by the PyTorch halves of the benchmarks (torch_bench.py, torch_training.py, torch_inference.py,
torch_rl.py); the TypeScript half is bench/common.ts.

The scripts are run by /usr/bin/python3 as `python3 bench/torch_*.py` (so bench/ is first on sys.path); each also
puts its own directory on sys.path before importing this module, so that it imports from anywhere.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch


def argument_parser(doc, warmup=None, reps=None):
    """A script's command line with the options every script has: --threads, and --warmup / --reps where timed."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads (default 1)')
    if warmup is not None:
        ap.add_argument('--warmup', type=int, default=warmup)
    if reps is not None:
        ap.add_argument('--reps', type=int, default=reps)
    return ap


def add_gd_arguments(ap):
    """The momentum GD loop over y, by default the paper's BibTeX setting (30 steps, lr 0.1, momentum 0.3) that
    bench/inference.ts and bench/training.ts use."""
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--momentum', type=float, default=0.3)


def loaded_blas():
    """Shared libraries of BLAS flavour mapped into this process (shows OpenBLAS vs reference BLAS)."""
    libs = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and ('blas' in parts[-1] or 'lapack' in parts[-1]):
                    libs.add(os.path.realpath(parts[-1]))
    except OSError:
        pass
    return sorted(libs)


def environment(threads):
    """Versions and thread settings of this process, reported with every result."""
    return {
        'torch': torch.__version__, 'python': platform.python_version(), 'torchThreads': torch.get_num_threads(),
        'interopThreads': torch.get_num_interop_threads(), 'requestedThreads': threads,
        'openblasThreads': os.environ.get('OPENBLAS_NUM_THREADS'), 'ompThreads': os.environ.get('OMP_NUM_THREADS'),
        'ompWaitPolicy': os.environ.get('OMP_WAIT_POLICY'), 'openblasCoreType': os.environ.get('OPENBLAS_CORETYPE'), 'blasLibraries': loaded_blas(),
        'mkldnn': torch.backends.mkldnn.is_available(),
    }


def load_blas():
    """One small matmul, so that the BLAS library is mapped before environment() reports it."""
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))


def load_bundle(directory, stem):
    """DIR/<stem>.json (manifest: offsets of named float32 arrays, and whatever else the TypeScript side put there) and
    DIR/<stem>.bin (the arrays end to end), as written by common.ts's Float32Bundle: (manifest, {name: 1-d tensor})."""
    with open(os.path.join(directory, f'{stem}.json')) as f:
        man = json.load(f)
    raw = torch.from_file(os.path.join(directory, f'{stem}.bin'), size=man['totalFloats'], dtype=torch.float32)
    return man, {k: raw[e['offset']:e['offset'] + e['size']].clone() for k, e in man['tensors'].items()}


def time_runs(fn, warmup, reps, warm_ms=0):
    """`warmup` untimed calls of fn, then more untimed calls until `warm_ms` have passed (common.ts's WARM_MS: a core
    that has idled runs the next tens of ms slowly), then `reps` timed ones: (wall-clock ms, process CPU ms, return
    value) per call. CPU tensors are computed synchronously, so a call's time is its work."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    while (time.perf_counter() - start) * 1000 < warm_ms:
        fn()
    times, cpu, results = [], [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        r = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        results.append(r)
    return times, cpu, results


def serve(env, handle):
    """The line protocol of common.ts's TorchWorker: the first line written is `env` (with "ready"); then one JSON
    request per line on stdin, answered by handle(request) on one line; {"quit": true} or end of input stops.
    An exception is answered as {"error": ...} and serving goes on."""
    print(json.dumps({'ready': True, **env}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get('quit'):
            break
        try:
            print(json.dumps(handle(req)), flush=True)
        except Exception as e:  # report and keep serving
            print(json.dumps({'error': f'{type(e).__name__}: {e}'}), flush=True)


def print_json(doc):
    """The one JSON document a one-shot run writes on stdout."""
    json.dump(doc, sys.stdout)
    sys.stdout.write('\n')
