"""The pandas side of the data bench (issue #24): read_csv, then StandardScaler on the numeric
columns and one-hot of the others, as Distillery's load + fit + apply. Prints one JSON line.

    /usr/bin/python3 bench/data_pandas.py /tmp/distillery-data-200000.csv
"""
import json
import resource
import sys
import time

import pandas as pd
from sklearn.preprocessing import StandardScaler

path = sys.argv[1]
t0 = time.time()
df = pd.read_csv(path)
t1 = time.time()
label = df.pop("label")
numeric = df.select_dtypes("number")
X = StandardScaler().fit_transform(numeric.values).astype("float32")
onehot = pd.get_dummies(df.drop(columns=numeric.columns)).values.astype("float32")
t2 = time.time()
print(json.dumps({
    "rows": len(df),
    "loadSeconds": round(t1 - t0, 3),
    "fitApplySeconds": round(t2 - t1, 3),
    "seconds": round(t2 - t0, 3),
    "width": X.shape[1] + onehot.shape[1],
    "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
