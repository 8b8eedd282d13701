#!/usr/bin/env python3
"""PyTorch's cuDNN RNN on given weights and inputs: the reference of
test/cuda-gpu-torch.test.ts.

    python3 test/gpu/torch_cudnn_reference.py IN.safetensors OUT.safetensors [--device cuda|cpu]

IN holds, for each case listed in its metadata, the tensors

    <case>.param.<name>   every parameter, by PyTorch's name (weight_ih_l0, ...)
    <case>.input          the input (layout as the case says: batch_first, unbatched)
    <case>.h0             the initial state (absent when the case has none)
    <case>.c0             LSTM: the initial cell state (given with h0)
    <case>.grad_output    upstream gradient of the output
    <case>.grad_h_n       upstream gradient of h_n
    <case>.grad_c_n       LSTM: upstream gradient of c_n

and its "__metadata__" has "cases": a JSON list of
{"name", "mode" (RNN_TANH | RNN_RELU | GRU | LSTM), "input_size",
"hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "dtype"
(float32 | float64), and for LSTM "proj_size"}.

For each case it builds torch.nn.RNN/GRU/LSTM with those weights on the
device, runs forward in training mode (dropout 0), then
torch.autograd.backward([output, h_n(, c_n)], [grad_output, grad_h_n(,
grad_c_n)]), and writes OUT with <case>.output, <case>.h_n, <case>.c_n
(LSTM), <case>.grad_input, <case>.grad_h0 and <case>.grad_c0 (when given)
and <case>.grad.<name> for every parameter, plus metadata: torch and cuDNN
versions, the device name, and the TF32 flags (both off).

Safetensors is read and written here with the standard library only (no
`safetensors` or numpy needed). Exit status 3 with a message on stderr when
the device cannot be used.
"""
import argparse
import ctypes
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}
SIZES = {"F32": 4, "F64": 8, "I32": 4}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    data = bytearray(raw[8 + n:])  # writable, so torch.frombuffer does not warn
    out = {}
    for name, info in header.items():
        dt = info["dtype"]
        if dt not in DTYPES:
            raise SystemExit("unsupported dtype %s for %s" % (dt, name))
        start, end = info["data_offsets"]
        count = (end - start) // SIZES[dt]
        shape = info["shape"]
        if count == 0:
            t = torch.zeros(shape, dtype=DTYPES[dt])
        else:
            t = torch.frombuffer(data, dtype=DTYPES[dt], count=count, offset=start).reshape(shape).clone()
        out[name] = t
    return out, meta


def write_safetensors(path, tensors, metadata):
    items = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        nbytes = t.numel() * t.element_size()
        items.append((name, t, offset, offset + nbytes))
        offset += nbytes
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    for name, t, start, end in items:
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [start, end]}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _name, t, start, end in items:
            if end > start:
                f.write(ctypes.string_at(t.data_ptr(), end - start))


def build(case):
    kw = dict(
        num_layers=case["num_layers"],
        bias=case["bias"],
        batch_first=case["batch_first"],
        bidirectional=case["bidirectional"],
        dropout=0.0,
        dtype=getattr(torch, case["dtype"]),
    )
    if case["mode"] == "GRU":
        return torch.nn.GRU(case["input_size"], case["hidden_size"], **kw)
    if case["mode"] == "LSTM":
        return torch.nn.LSTM(case["input_size"], case["hidden_size"], proj_size=case.get("proj_size", 0), **kw)
    nl = "tanh" if case["mode"] == "RNN_TANH" else "relu"
    return torch.nn.RNN(case["input_size"], case["hidden_size"], nonlinearity=nl, **kw)


def run_case(case, tensors, device):
    name = case["name"]
    m = build(case)
    prefix = name + ".param."
    sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    m.load_state_dict(sd, strict=True)
    m = m.to(device)  # moving flattens the weights into cuDNN's one buffer
    m.train()
    x = tensors[name + ".input"].to(device).requires_grad_(True)
    h0 = tensors.get(name + ".h0")
    c0 = tensors.get(name + ".c0")
    lstm = case["mode"] == "LSTM"
    if h0 is not None:
        h0 = h0.to(device).requires_grad_(True)
    if c0 is not None:
        c0 = c0.to(device).requires_grad_(True)
    state = (h0, c0) if lstm and h0 is not None else h0
    out, hn = m(x, state) if state is not None else m(x)
    outs = [out, hn]
    grads = [tensors[name + ".grad_output"].to(device), tensors[name + ".grad_h_n"].to(device)]
    res = {name + ".output": out}
    if lstm:
        hn, cn = hn
        outs = [out, hn, cn]
        grads.append(tensors[name + ".grad_c_n"].to(device))
        res[name + ".c_n"] = cn
    res[name + ".h_n"] = hn
    torch.autograd.backward(outs, grads)
    res[name + ".grad_input"] = x.grad
    if h0 is not None:
        res[name + ".grad_h0"] = h0.grad
    if c0 is not None:
        res[name + ".grad_c0"] = c0.grad
    for pname, p in m.named_parameters():
        res[name + ".grad." + pname] = p.grad
    if device == "cuda":
        torch.cuda.synchronize()
    return {k: v.detach().to("cpu") for k, v in res.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = ap.parse_args()

    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.stderr.write("torch %s: torch.cuda.is_available() is False\n" % torch.__version__)
            sys.exit(3)
        if not torch.backends.cudnn.is_available():
            sys.stderr.write("torch %s: cuDNN is not available\n" % torch.__version__)
            sys.exit(3)
    # PyTorch numerics without TF32, as cudnn-rnn's default (DESIGN.md decision 5).
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.enabled = True
    # On the CPU (the plumbing check) the reference is torch's native path, not oneDNN.
    torch.backends.mkldnn.enabled = False

    tensors, meta = read_safetensors(args.input)
    cases = json.loads(meta["cases"])
    results = {}
    for case in cases:
        results.update(run_case(case, tensors, args.device))
    info = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "cudnn": str(torch.backends.cudnn.version()) if args.device == "cuda" else "",
        "cudnn_allow_tf32": str(torch.backends.cudnn.allow_tf32),
        "matmul_allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
        "cases": json.dumps([c["name"] for c in cases]),
    }
    write_safetensors(args.output, results, info)


if __name__ == "__main__":
    main()
