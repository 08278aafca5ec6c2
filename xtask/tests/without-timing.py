#!/usr/bin/env python3
"""Prints trajectory.csv files without their wall-time columns, for byte comparisons.

    python3 xtask/tests/without-timing.py results/<id>/trajectory.csv [...]

The wall-time columns `train_seconds` and `tracking_seconds` (crates/runner/src/trajectory.rs,
`Row`) are the only ones that differ between two runs of one config; they are found by name in
each file's header, wherever they are. Every other field is printed as read, each file's header
first. A file without both columns, or with a row whose field count differs from its header's,
is an error (exit status 1), so a renamed column cannot make a comparison pass vacuously.
Used by xtask/tests/slurm.sh and xtask/scripts/store-check.sh.
"""

import csv
import sys

TIMING = ("train_seconds", "tracking_seconds")


def main(paths):
    if not paths:
        sys.exit("usage: without-timing.py TRAJECTORY.csv [...]")
    out = csv.writer(sys.stdout, lineterminator="\n")
    for path in paths:
        with open(path, newline="") as file:
            reader = csv.reader(file)
            header = next(reader, None)
            if header is None:
                sys.exit(f"{path}: empty file")
            missing = [name for name in TIMING if header.count(name) != 1]
            if missing:
                sys.exit(f"{path}: header has no single column {', '.join(missing)}")
            keep = [i for i, name in enumerate(header) if name not in TIMING]
            out.writerow([header[i] for i in keep])
            for row in reader:
                if len(row) != len(header):
                    sys.exit(
                        f"{path}:{reader.line_num}: {len(row)} fields, the header has "
                        f"{len(header)}"
                    )
                out.writerow([row[i] for i in keep])


if __name__ == "__main__":
    main(sys.argv[1:])
