#!/usr/bin/env python3
"""Sets metadata entries of an ONNX model in place, the graph untouched (e.g. a key added to the contract after a
model was shipped):

    python3 tools/train/set_metadata.py models/craft-text-recognizer.onnx craft.recognizer.margin=0.12
"""
import sys

import onnx


def main():
    if len(sys.argv) < 3 or any('=' not in a for a in sys.argv[2:]):
        sys.exit(__doc__)
    path = sys.argv[1]
    m = onnx.load(path)
    graph = m.graph.SerializeToString()
    meta = {p.key: p.value for p in m.metadata_props}
    for a in sys.argv[2:]:
        k, v = a.split('=', 1)
        meta[k] = v
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    assert m.graph.SerializeToString() == graph
    onnx.save(m, path)
    print(f'{path}: ' + ', '.join(a for a in sys.argv[2:]))


if __name__ == '__main__':
    main()
