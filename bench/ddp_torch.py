# PyTorch's side of bench/ddp.js: the same char-GRU under DDP with Gloo,
# started with torchrun's environment (bench/ddp.js sets it, as torchrun would).
# The all-reduce time per step is the time of DDP's communication hook.
import argparse
import time

import torch
import torch.distributed as dist
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

VOCAB, EMBED, HIDDEN, BATCH, SEQ, WARMUP = 96, 64, 256, 32, 64, 3

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=30)
args = p.parse_args()
dist.init_process_group('gloo')
rank = dist.get_rank()
torch.manual_seed(0)


class Char(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, EMBED)
        self.gru = torch.nn.GRU(EMBED, HIDDEN, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, VOCAB)

    def forward(self, x):
        out, _ = self.gru(self.embed(x))
        return self.head(out)


ddp = torch.nn.parallel.DistributedDataParallel(Char())
reduce_s = [0.0]


def timed_hook(state, bucket):
    t = time.perf_counter()
    fut = allreduce_hook(state, bucket)
    fut.wait()
    reduce_s[0] += time.perf_counter() - t
    return fut


ddp.register_comm_hook(None, timed_hook)
opt = torch.optim.Adam(ddp.parameters(), lr=3e-3)
g = torch.Generator().manual_seed(1 + rank)


def step():
    x = torch.randint(VOCAB, (BATCH, SEQ), generator=g)
    y = torch.randint(VOCAB, (BATCH * SEQ,), generator=g)
    opt.zero_grad()
    torch.nn.functional.cross_entropy(ddp(x).reshape(-1, VOCAB), y).backward()
    opt.step()


for _ in range(WARMUP):
    step()
dist.barrier()
reduce_s[0] = 0.0
t0 = time.perf_counter()
for _ in range(args.steps):
    step()
dist.barrier()
s = time.perf_counter() - t0
if rank == 0:
    import json
    print('RESULT ' + json.dumps({'stepsPerSec': args.steps / s, 'reduceMsPerStep': 1000 * reduce_s[0] / args.steps, 'worldSize': dist.get_world_size()}), flush=True)
dist.destroy_process_group()
