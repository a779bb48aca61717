import json, sys, time, torch
torch.set_num_threads(1)
from autoal.data import load_dataset
from autoal.loop.runner import LoopConfig, run_active_learning
data = load_dataset("fashion-mnist")
G = dict(weights="global", search="shrinkage", prior="budget", objective="lookahead", n_resplits=2, kappa=2.0, search_lr=0.05)
variants = {"entropy": ("entropy", {}), "autoal-v1": ("autoal", {}),
            "v2-kpp": ("autoal", {**G, "batch": "kmeanspp"}),
            "v2-kpp-fast": ("autoal", {**G, "batch": "kmeanspp", "search_steps": 50})}
out = {}
for name, (strategy, params) in variants.items():
    cfg = LoopConfig(init=100, budget=100, rounds=2, seed=0, pool_size=20000, epochs=20, mc_samples=100, device="cpu", strategy_params=params)
    rec = run_active_learning(data, strategy, cfg, progress=False)
    secs = [sum(r["seconds"].values()) for r in rec["rounds"][1:]]
    out[name] = {"round_seconds": secs, "acc": [r["accuracy"] for r in rec["rounds"]], "parts": [r["seconds"] for r in rec["rounds"][1:]]}
    print(name, [round(s, 1) for s in secs], out[name]["acc"], flush=True)
for name in out:
    print(name, "ratio to entropy", round(sum(out[name]["round_seconds"]) / sum(out["entropy"]["round_seconds"]), 2))
json.dump(out, open("/tmp/fb/cost.json", "w"), indent=1)
