#!/bin/bash
# Before (the base commit's src, 0f00786) and after (this branch), interleaved 3 times per
# regime; one thread for torch, BLAS and OpenMP. The base src:
#   mkdir -p /tmp/base-0f00786 && git archive 0f00786 src | tar -x -C /tmp/base-0f00786
cd /work/wt/hindsight
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
V='v2-kppP-shrink-budget=autoal:weights="global",search="shrinkage",prior="budget",n_resplits=2,kappa=2.0,search_lr=0.05,objective="lookahead",batch="kmeanspp",coverage_power="budget"'
H='v2-hindsight=autoal:weights="global",search="shrinkage",prior="budget",n_resplits=2,kappa=2.0,search_lr=0.05,objective="hindsight",batch="kmeanspp",coverage_power="budget"'
for regime in "low 100 100" "mid 1000 500"; do set -- $regime
for rep in 1 2 3; do
PYTHONPATH=/tmp/base-0f00786/src /work/main/.venv/bin/python benchmarks/strategy_cost.py --threads 1 --repeats 3 --labeled $2 --budget $3 --strategies entropy,margin,kmeans --variant "$V" --json results/issue16/cost-ab/cost2-before-$1-$rep.json > results/issue16/cost-ab/cost2-before-$1-$rep.log 2>&1
PYTHONPATH=$PWD/src /work/main/.venv/bin/python benchmarks/strategy_cost.py --threads 1 --repeats 3 --labeled $2 --budget $3 --strategies entropy,margin,kmeans --variant "$V" --variant "$H" --profile v2-kppP-shrink-budget --profile-out results/issue16/cost-ab/cost2-after-$1-$rep.prof --json results/issue16/cost-ab/cost2-after-$1-$rep.json > results/issue16/cost-ab/cost2-after-$1-$rep.log 2>&1
done
done
