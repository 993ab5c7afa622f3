"""Check that CRAFT(width=1.0) / RefineNet(width=1.0) state-dict keys, order and shapes equal the official files."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CRAFT, RefineNet, state_dict_keys  # noqa: E402

REF = os.environ.get('CRAFT_REF_DIR', '/work/shared/reference')


def load_ref(name):
    out = []
    for line in open(os.path.join(REF, name)):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        k, s = line.split('\t')
        out.append((k, [int(x) for x in s.strip('[]').split(',') if x.strip()]))
    return out


ok = True
for name, model in (('craft_state_dict.txt', CRAFT(1.0)), ('refiner_state_dict.txt', RefineNet(1.0))):
    ref, ours = load_ref(name), state_dict_keys(model)
    if ref != ours:
        ok = False
        rs, os_ = dict(ref), dict(ours)
        print(f'{name}: MISMATCH')
        for k in rs.keys() - os_.keys():
            print('  missing in ours:', k)
        for k in os_.keys() - rs.keys():
            print('  extra in ours:', k)
        for k in rs.keys() & os_.keys():
            if rs[k] != os_[k]:
                print('  shape', k, rs[k], os_[k])
        if set(rs) == set(os_):
            print('  (order differs)')
    else:
        print(f'{name}: OK ({len(ref)} keys, same order and shapes)')
sys.exit(0 if ok else 1)
