#!/usr/bin/python3
"""PyTorch peer for bench/run.js: times nn.RNN/GRU/LSTM forward (inference) and
forward+backward on the configs given as JSON on argv[1]; prints JSON.

CPU (BENCH_DEVICE=cpu): run by bench/run.js with Debian's python3-torch, 2
threads, OMP_WAIT_POLICY=PASSIVE and OPENBLAS_CORETYPE set to the core our
loader selected, so the peer runs at its best on this machine. Optionally
exports each config to ONNX (argv[2] = dir) for the onnxruntime-node peer.

GPU (BENCH_DEVICE=cuda or cuda:N): PyTorch's cuDNN path, float32 with TF32 off
(cudnn-rnn's default numerics), torch.backends.cudnn.benchmark left at its
default, warmed up, each call timed up to torch.cuda.synchronize().
"""
import json
import os
import statistics
import sys
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))


def build(cfg, device="cpu"):
    kw = dict(num_layers=cfg["layers"], bidirectional=cfg["bidirectional"])
    if cfg["mode"] == "GRU":
        m = torch.nn.GRU(cfg["I"], cfg["H"], **kw)
    elif cfg["mode"] == "LSTM":
        m = torch.nn.LSTM(cfg["I"], cfg["H"], **kw)
    else:
        m = torch.nn.RNN(cfg["I"], cfg["H"], nonlinearity="tanh" if cfg["mode"] == "RNN_TANH" else "relu", **kw)
    return m.to(device)


def linear_lengths(cfg):
    """A "lengths": "linear" config's lengths: sequence i runs max(1, round(L*(N-i)/N)) steps."""
    L, N = cfg["L"], cfg["N"]
    return [max(1, int(round(L * (N - i) / N))) for i in range(N)]


def median_ms(fn, runs, warmup, sync=lambda: None, min_warm_s=0.0):
    w0 = time.perf_counter()
    i = 0
    while i < warmup or time.perf_counter() - w0 < min_warm_s:
        fn()
        i += 1
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    configs = json.loads(sys.argv[1])
    onnx_dir = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    device = os.environ.get("BENCH_DEVICE", "cpu")
    on_gpu = device.startswith("cuda")
    sync = (lambda: torch.cuda.synchronize(device)) if on_gpu else (lambda: None)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
    if on_gpu:
        if not torch.cuda.is_available():
            raise SystemExit("torch %s: torch.cuda.is_available() is False" % torch.__version__)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        out["device_name"] = torch.cuda.get_device_name(torch.device(device))
        out["cudnn"] = torch.backends.cudnn.version()
        out["cudnn_benchmark"] = torch.backends.cudnn.benchmark
        onnx_dir = None
    # The GPU needs longer warm-ups (cuDNN plans, the caching allocator, clocks);
    # on the CPU every party warms its forward up as long as it is timed (bench/run.js).
    fwd_warmup = (lambda runs: max(10, min(runs, 200))) if on_gpu else (lambda runs: max(3, min(runs, 2000)))
    train_warmup = 5 if on_gpu else 3
    for cfg in configs:
        torch.manual_seed(0)
        m = build(cfg, device)
        D = 2 if cfg["bidirectional"] else 1
        x = torch.randn(cfg["L"], cfg["N"], cfg["I"], device=device)
        h0 = torch.zeros(cfg["layers"] * D, cfg["N"], cfg["H"], device=device)
        lstm = cfg["mode"] == "LSTM"
        # An LSTM's state is (h0, c0), both zeros here.
        state = (h0, torch.zeros_like(h0)) if lstm else h0
        runs = cfg.get("runs", 20)
        # A packed config: PyTorch's PackedSequence path (packing is part of each call).
        lengths = torch.tensor(linear_lengths(cfg)) if cfg.get("lengths") == "linear" else None
        prep = (lambda t: pack_padded_sequence(t, lengths)) if lengths is not None else (lambda t: t)
        m.eval()

        def fwd():
            with torch.no_grad():
                m(prep(x), state)

        # On the CPU, as long a warm-up as the other parties get (bench/run.js CPU_MIN_WARM_MS).
        fwd_ms = median_ms(fwd, runs, fwd_warmup(runs), sync, 0.0 if on_gpu else 1.0)
        m.train()
        xg = x.clone().requires_grad_(True)
        sg = tuple(s.clone().requires_grad_(True) for s in state) if lstm else (h0.clone().requires_grad_(True),)

        def fwd_bwd():
            m.zero_grad(set_to_none=True)
            xg.grad = None
            for s in sg:
                s.grad = None
            y, hy = m(prep(xg), sg if lstm else sg[0])
            loss = (y.data if lengths is not None else y).sum()
            for s in (hy if lstm else (hy,)):
                loss = loss + s.sum()
            loss.backward()

        train_ms = median_ms(fwd_bwd, max(5, runs // 2), train_warmup, sync)
        out["results"][cfg["name"]] = {"forward_ms": fwd_ms, "train_ms": train_ms}
        if on_gpu:
            del m, x, h0, state, xg, sg
            torch.cuda.empty_cache()
            continue
        if onnx_dir and lengths is None:
            m.eval()
            path = os.path.join(onnx_dir, cfg["name"] + ".onnx")
            if lstm:
                torch.onnx.export(m, (x, state), path, input_names=["x", "h0", "c0"], output_names=["y", "hy", "cy"], opset_version=14)
            else:
                torch.onnx.export(m, (x, h0), path, input_names=["x", "h0"], output_names=["y", "hy"], opset_version=14)
            out["results"][cfg["name"]]["onnx"] = path
    print(json.dumps(out))


if __name__ == "__main__":
    main()
