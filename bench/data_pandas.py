"""The pandas side of bench/data.ts: read a table (CSV or Parquet), one-hot its categorical
column, standardise its numeric columns with scikit-learn's StandardScaler, and hold the result
as one float32 matrix with integer labels, as Distillery's load + preprocess does. One run per
process; prints one JSON line (seconds of the work alone, without the interpreter's imports).

    python3 bench/data_pandas.py --file table.csv --format csv --label label --categorical cat
"""
import argparse
import json
import resource
import time

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--file", required=True)
parser.add_argument("--format", choices=["csv", "parquet"], required=True)
parser.add_argument("--label", default="label")
parser.add_argument("--categorical", default="cat")
args = parser.parse_args()

t0 = time.perf_counter()
df = pd.read_csv(args.file) if args.format == "csv" else pd.read_parquet(args.file)
t1 = time.perf_counter()
labels = pd.Categorical(df[args.label]).codes.astype(np.int32)
numeric = [c for c in df.columns if c not in (args.label, args.categorical)]
scaled = StandardScaler().fit_transform(df[numeric].to_numpy(dtype=np.float64))
onehot = pd.get_dummies(df[args.categorical]).to_numpy(dtype=np.float32)
features = np.hstack([scaled.astype(np.float32), onehot])
t2 = time.perf_counter()
print(json.dumps({
    "seconds": t2 - t0,
    "loadSeconds": t1 - t0,
    "preprocessSeconds": t2 - t1,
    "rows": int(features.shape[0]),
    "width": int(features.shape[1]),
    "classes": int(labels.max()) + 1,
    "maxRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
